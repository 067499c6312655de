"""Speaking rate: syllables per second of speech, measured the same way on a voice's clips and on
a base voice, so that the base TTS can speak at the target's own pace.

- syllables: vowel nuclei (maximal runs of IPA vowel letters) in espeak-ng's phonemes of the text,
  in any of the six languages; for a clip the text is what the ASR hears.
- speech seconds: 10 ms frames within :data:`RANGE_DB` of the clip's loud frames (95th
  percentile), with quiet runs of :data:`PAUSE_S` or more left out (pauses between phrases), so
  the rate is an articulation rate and does not depend on how much silence a clip holds.

The voice's rate is cached per clip set (``<cache_dir>/rates/<key>.json``); the speed factor for
a base voice is the voice's rate over the base voice's on the same calibration text, clamped to
[:data:`MIN_FACTOR`, :data:`MAX_FACTOR`].
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from voxclone.audio.types import Audio
from voxclone.errors import AudioError
from voxclone.pipeline.cache_files import write_json

RANGE_DB = 35.0
FLOOR_DB = -70.0  # dBFS under which a frame is never speech (digital silence)
PAUSE_S = 0.15
MIN_FACTOR, MAX_FACTOR = 0.8, 1.25
RATE_VERSION = 1
_VOWELS = re.compile("[aeiouyæøœɐɑɒɔəɘɚɛɜɞɤɨɪʉʊʌʏɯɵɶɝäëïöüÿàáâãèéêìíîòóôõùúû\u0303\u031e\u0308]+")


def syllables(text: str, lang: str) -> int:
    """Vowel nuclei in espeak-ng's IPA of ``text`` (``lang`` one of the six languages)."""
    from voxclone.tts.espeak import LANG_VOICE
    from voxclone.tts.phonemize import espeak_ipa

    if not text.strip():
        return 0
    ipa = espeak_ipa([text], LANG_VOICE.get(lang, LANG_VOICE["en"]))[0]
    return len(_VOWELS.findall(ipa))


def speech_seconds(audio: Audio) -> float:
    """Seconds of ``audio`` that are speech: loud 10 ms frames plus pauses under
    :data:`PAUSE_S` (see the module's docstring)."""
    hop = max(1, audio.sample_rate // 100)
    n = len(audio) // hop
    if n == 0:
        return 0.0
    frames = audio.samples[: n * hop].reshape(n, hop).astype(np.float64)
    level = 10 * np.log10(np.mean(frames ** 2, axis=1) + 1e-12)
    loud = (level > np.percentile(level, 95) - RANGE_DB) & (level > FLOOR_DB)
    kept = loud.copy()
    longest = round(PAUSE_S * 100)
    idx = np.flatnonzero(loud)
    if len(idx) == 0:
        return 0.0
    for a, b in zip(idx[:-1], idx[1:]):
        if 1 < b - a <= longest:
            kept[a:b] = True  # a short gap inside speech (a stop closure, a breath)
    return float(kept[idx[0]:idx[-1] + 1].sum()) / 100.0


def rate(pieces: Sequence[tuple[Audio, str]], lang: str) -> float:
    """Syllables per second of speech over (audio, its text) ``pieces``."""
    count = sum(syllables(text, lang) for _, text in pieces)
    seconds = sum(speech_seconds(audio) for audio, _ in pieces)
    if seconds <= 0 or count == 0:
        raise AudioError("No speech to measure a speaking rate on (silent audio or empty text).")
    return count / seconds


def voice_rate(clips: Sequence[Audio], clip_hashes: Sequence[str], lang: str,
               cache_dir: Path | None, asr: str = "whisper") -> float:
    """The rate of a voice's clips, their text heard by ``asr`` (cached per clip set)."""
    key = json.dumps([RATE_VERSION, sorted(clip_hashes), lang, asr])
    path = (Path(cache_dir) / "rates" / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.json"
            if cache_dir else None)
    if path is not None and path.is_file():
        try:
            return float(json.loads(path.read_text())["rate"])
        except (OSError, ValueError, KeyError, TypeError):
            pass  # a damaged entry is measured again
    from voxclone.asr import transcribe

    value = rate([(clip, transcribe(clip, lang, asr, words=False).text) for clip in clips], lang)
    if path is not None:
        write_json(path, {"rate": value})
    return value


def speed_factor(target_rate: float, base_rate: float) -> float:
    """The base TTS's speed multiplier that brings ``base_rate`` to ``target_rate``, clamped."""
    if not (np.isfinite(target_rate) and np.isfinite(base_rate)) or base_rate <= 0:
        return 1.0
    return float(np.clip(target_rate / base_rate, MIN_FACTOR, MAX_FACTOR))
