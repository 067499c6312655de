"""Base TTS with espeak-ng (formant synthesis): offline, many languages, no model files."""

from __future__ import annotations

import bisect
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from voxclone.audio.types import Audio
from voxclone.errors import EngineUnavailable, TextError
from voxclone.text.languages import normalize_language
from voxclone.text.words import TextWord, split_words
from voxclone.tts.base import BaseVoice, Style, WordTiming, register_tts

# espeak-ng voice per language. Mandarin needs the pinyin voice: the plain `cmn` voice reads the
# pinyin of each character as English.
LANG_VOICE = {"en": "en-us", "es": "es", "fr": "fr-fr", "zh": "cmn-latn-pinyin", "ja": "ja",
              "ko": "ko"}
# (variant, gender); the first is the default. The klatt variants set no pitch of their own, so
# both speak at the male default pitch (about 100 Hz).
_VARIANTS = (("m3", "M"), ("f3", "F"), ("m1", "M"), ("m7", "M"), ("f2", "F"), ("f4", "F"),
             ("m2", "M"), ("f5", "F"), ("klatt", "M"), ("klatt4", "M"))
_EXTRA_EN = (("en-gb+m3", "M"), ("en-gb+f3", "F"))
# espeak-ng drops the "+variant" of a voice named by a language code that several voice files
# share: "fr-fr+f3" and "en-gb+f3" speak with the plain male voice. The voice file's own name
# ("fr" = roa/fr, "en" = gmw/en: same language and phonemes) keeps the variant.
_ESPEAK_NAME = {"fr-fr": "fr", "en-gb": "en"}
_KANJI = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")


class EspeakTTS:
    """espeak-ng behind the TTSEngine protocol; 22050 Hz output."""

    name = "espeak"
    sample_rate = 22050
    languages = tuple(LANG_VOICE)

    def __init__(self, binary: str | None = None) -> None:
        self.binary = binary or shutil.which("espeak-ng")
        if not self.binary:
            raise EngineUnavailable("espeak-ng is not installed: run `make setup` or "
                                    "`apt-get install -y espeak-ng`.")

    def version(self) -> str:
        """espeak-ng's version string (part of cache keys)."""
        out = subprocess.run([self.binary, "--version"], capture_output=True, text=True, check=False)
        return out.stdout.strip()

    def voices(self, lang: str | None = None) -> list[BaseVoice]:
        langs = [normalize_language(lang, self.languages)] if lang else list(self.languages)
        out: list[BaseVoice] = []
        for code in langs:
            base = LANG_VOICE[code]
            out += [BaseVoice(f"{base}+{v}", code, g, self.name) for v, g in _VARIANTS]
            if code == "en":
                out += [BaseVoice(v, code, g, self.name) for v, g in _EXTRA_EN]
        return out

    def default_voice(self, lang: str) -> BaseVoice:
        return self.voices(lang)[0]

    def synthesize(self, text: str, lang: str, voice: str | None = None,
                   style: Style = Style()) -> Audio:
        code, voice_id, args = self._args(lang, voice, style)
        text = self._prepare_text(text, code)
        with tempfile.TemporaryDirectory(prefix="voxclone-espeak-") as tmp:
            txt, wav = Path(tmp) / "in.txt", Path(tmp) / "out.wav"
            txt.write_text(text, encoding="utf-8")
            proc = subprocess.run([self.binary, "-v", _espeak_voice(voice_id), *args, "-f", str(txt),
                                   "-w", str(wav)],
                                  capture_output=True, text=True, check=False, timeout=300)
            if proc.returncode != 0 or not wav.exists():
                raise EngineUnavailable(f"espeak-ng failed ({proc.stderr.strip()}).")
            data, sr = sf.read(str(wav), dtype="float32")
        if data.ndim > 1:
            data = data.mean(axis=1)
        return Audio(data, sr)

    def word_timing(self, text: str, lang: str, voice: str | None = None,
                    style: Style = Style()) -> WordTiming:
        """When :meth:`synthesize` speaks each word of ``text``: espeak-ng's own word and phoneme
        events (see :mod:`voxclone.tts.espeak_events`). A word espeak-ng reads together with the
        next one ("on the") shares that word's phonemes by letters."""
        from voxclone.tts.espeak_events import espeak_events

        code, voice_id, args = self._args(lang, voice, style)
        prepared = self._prepare_text(text, code)
        words = split_words(text)
        offset = text.find(prepared)
        rate, pitch, volume = (int(a) for a in args[1::2])
        events = espeak_events(prepared, _espeak_voice(voice_id), rate, pitch, volume)
        sr = events.sample_rate
        spans: list[tuple[float, float] | None] = [None] * len(words)
        if offset >= 0:  # the text espeak-ng read is the caller's (not a kana reading of kanji)
            for i, units in _word_phonemes(words, events.words, offset).items():
                spans[i] = (units[0] / sr, units[1] / sr) if units else None
        return WordTiming(tuple(spans), events.samples / sr, "espeak-ng word events")

    def _args(self, lang: str, voice: str | None, style: Style) -> tuple[str, str, list[str]]:
        """(language, voice id, ``-s -p -a`` arguments) of one call; EngineUnavailable for an
        unknown voice."""
        code = normalize_language(lang, self.languages)
        voice_id = voice or self.default_voice(code).id
        if voice_id not in {v.id for v in self.voices(code)}:
            raise EngineUnavailable(f"Unknown espeak voice '{voice_id}' for '{code}'. "
                                    "See `voxclone engines` for the list.")
        return code, voice_id, ["-s", str(int(np.clip(175 * style.speed, 80, 450))),
                                "-p", str(int(np.clip(50 + 4 * style.pitch, 0, 99))),
                                "-a", str(int(np.clip(100 * style.energy, 10, 200)))]

    @staticmethod
    def _prepare_text(text: str, lang: str) -> str:
        text = text.strip()
        if not text:
            raise TextError("Text is empty: give something to say.")
        if lang == "ja" and _KANJI.search(text):
            text = kanji_to_kana(text)
        return text


def _word_phonemes(words: list[TextWord], events, offset: int) -> dict[int, tuple[int, int] | None]:
    """(first sample, last sample) of each text word that a word event reaches, from its
    phonemes. An event goes to the word it starts in (or the next one); a run of words after it
    that no event starts in shares its phonemes, in proportion to their letters."""
    starts = [w.start - offset for w in words]
    owned: dict[int, list[tuple[int, int]]] = {}
    for event in events:
        j = max(bisect.bisect_right(starts, event.start) - 1, 0)
        if event.start >= words[j].end - offset and j + 1 < len(words):
            j += 1
        owned.setdefault(j, []).extend(event.phonemes)
    out: dict[int, tuple[int, int] | None] = {}
    firsts = sorted(owned)
    for i, first in enumerate(firsts):
        group = list(range(first, firsts[i + 1] if i + 1 < len(firsts) else len(words)))
        units = sorted(owned[first])
        lengths = np.cumsum([max(1, sum(ch.isalnum() for ch in words[k].text)) for k in group])
        cuts = np.round(len(units) * np.concatenate([[0], lengths]) / lengths[-1]).astype(int)
        for k, a, b in zip(group, cuts[:-1], cuts[1:]):
            out[k] = (units[a][0], units[b - 1][1]) if b > a else None
    return out


def _espeak_voice(voice_id: str) -> str:
    """The ``-v`` argument that makes espeak-ng speak voice ``voice_id`` with its variant."""
    base, plus, variant = voice_id.partition("+")
    return f"{_ESPEAK_NAME.get(base, base)}{plus}{variant}"


def kanji_to_kana(text: str) -> str:
    """Katakana reading of Japanese text (pyopenjtalk), which espeak-ng's `ja` voice reads right."""
    try:
        import pyopenjtalk
    except ImportError as exc:
        raise EngineUnavailable("Japanese text with kanji needs pyopenjtalk-plus: "
                                "`pip install pyopenjtalk-plus` (or write the text in kana).") from exc
    return pyopenjtalk.g2p(text, kana=True)


register_tts("espeak", EspeakTTS)
