"""``world-auto``'s strength chosen once per voice and base voice, instead of for every piece.

The base voice reads two fixed sentences of its language; the converter scores its candidate
strengths on that speech against the target's enrolment embedding and the winning fraction is
kept in memory and on disk (``<cache_dir>/strengths/<key>.json``), keyed by TTS engine, base voice
(for Kokoro a style's id, a hash of its table), language, converter version and the target's
features. Later pieces then cost one WORLD synthesis and no speaker embedding.

A base voice that many voices share (an engine's own voice, a Kokoro start style: a bundled voice
or a blend of two) reads the same calibration speech for every target, so that speech is kept
too (``<cache_dir>/strengths/speech-<key>.npz``, float32 as spoken): a new voice then pays only
the converter's scoring (about 1 s instead of 3-5 s on 2 cores).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Callable

import numpy as np

from voxclone.audio.types import Audio
from voxclone.convert.base import ConvertSettings, Features
from voxclone.pipeline.cache_files import entry_lock, write_json, write_npz
from voxclone.pipeline.source_tone import PASSAGES

STRENGTH_VERSION = 1
CALIBRATION_SENTENCES = 2
"""Sentences of the language's passage (:data:`PASSAGES`) spoken to choose the strength."""
_MEMORY: dict[str, float] = {}


def calibration_text(lang: str) -> str:
    """The first :data:`CALIBRATION_SENTENCES` sentences of the passage of ``lang``."""
    passage = PASSAGES.get(lang, PASSAGES["en"])
    ends = [i + 1 for i, c in enumerate(passage) if c in ".。!?！？"]
    cut = ends[min(CALIBRATION_SENTENCES, len(ends)) - 1] if ends else len(passage)
    return passage[:cut].strip()


def voice_fraction(converter, tts_name: str, voice_id: str, lang: str, target: Features,
                   settings: ConvertSettings, speak: Callable[[str], Audio] | None,
                   cache_dir: Path | None, shared: bool = False) -> float | None:
    """The fraction of ``settings.strength`` (one of ``converter.strengths``) whose output of the
    calibration text scores closest to the target; ``speak(text)`` synthesises with the base
    voice. Computed once per key (one caller per key at a time), then read; with ``speak``
    None only read (None when it was never computed). ``shared``: the base voice is not this
    target's own, so its calibration speech is kept for the next target."""
    text = calibration_text(lang)
    target_id = hashlib.sha256(json.dumps(target, sort_keys=True).encode()).hexdigest()
    key = json.dumps([STRENGTH_VERSION, tts_name, voice_id, lang, converter.name, converter.version,
                      target_id, settings.strength, settings.f0_method, text])
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    path = Path(cache_dir) / "strengths" / f"{digest}.json" if cache_dir else None
    with entry_lock(digest):
        if digest in _MEMORY:
            return _MEMORY[digest]
        fraction = _read(path)
        if fraction is None and speak is None:
            return None
        if fraction is None:
            speech = calibration_speech(tts_name, voice_id, lang, speak,
                                        cache_dir if shared else None)
            _, fraction = converter.choose(speech, target, _neutral(settings))
            if path is not None:
                write_json(path, {"fraction": fraction})
        _MEMORY[digest] = fraction
        return fraction


def calibration_speech(tts_name: str, voice_id: str, lang: str, speak: Callable[[str], Audio],
                       cache_dir: Path | None) -> Audio:
    """The calibration text of ``lang`` as base voice ``voice_id`` speaks it: read from the
    cache, else spoken with ``speak`` and kept (a damaged entry is spoken again); without
    ``cache_dir`` just spoken."""
    text = calibration_text(lang)
    key = json.dumps([STRENGTH_VERSION, tts_name, voice_id, lang, text])
    path = (Path(cache_dir) / "strengths" / f"speech-{hashlib.sha256(key.encode()).hexdigest()[:24]}.npz"
            if cache_dir else None)
    if path is not None and path.is_file():
        try:
            with np.load(path, allow_pickle=False) as data:
                return Audio(np.asarray(data["samples"], np.float32), int(data["sample_rate"]))
        except (OSError, ValueError, KeyError):
            pass
    speech = speak(text)
    if path is not None:
        write_npz(path, samples=speech.samples.astype(np.float32), sample_rate=speech.sample_rate)
    return speech


def _neutral(settings: ConvertSettings) -> ConvertSettings:
    """The call's settings without the user's pitch shift and energy (they do not move the
    choice of timbre strength, and the choice is shared by every call)."""
    return ConvertSettings(strength=settings.strength, f0_method=settings.f0_method)


def _read(path: Path | None) -> float | None:
    if path is None or not path.is_file():
        return None
    try:
        value = json.loads(path.read_text())["fraction"]
    except (OSError, ValueError, KeyError, TypeError):
        return None  # a damaged entry is recomputed
    return float(value) if isinstance(value, (int, float)) else None

