"""Offline Whisper speech recognition (faster-whisper / CTranslate2, no torch) with the bundled models.

English goes to ``tiny.en`` unless the base model is asked for; every other language, and
language detection, to the multilingual ``base``. Models are loaded once per process (int8, one
CPU thread each by default: on 2 cores one thread per session was measured faster) and shared.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import numpy as np

from voxclone.asr.models import model_dir
from voxclone.asr.types import Transcript, Word
from voxclone.audio.dsp import resample
from voxclone.audio.types import Audio
from voxclone.config import Settings
from voxclone.errors import EngineUnavailable, UnsupportedLanguage

log = logging.getLogger(__name__)
ASR_SR = 16000
_models: dict[tuple[str, int], tuple[Any, threading.Lock]] = {}
_models_lock = threading.Lock()


def whisper_model(name: str, threads: int = 1, settings: Settings | None = None) -> tuple[Any, threading.Lock]:
    """The process-wide ``WhisperModel`` for ``name`` and ``threads``, with the lock its calls
    hold (built on first use)."""
    key = (name, threads)
    with _models_lock:
        if key not in _models:
            try:
                from faster_whisper import WhisperModel
            except ImportError as exc:
                raise EngineUnavailable("faster-whisper is not installed: "
                                        "`pip install 'voxclone[asr]'`.") from exc
            path = model_dir(name, settings)
            _models[key] = (WhisperModel(str(path), device="cpu", compute_type="int8",
                                         cpu_threads=threads), threading.Lock())
        return _models[key]


def choose_model(lang: str | None, prefer: str = "auto") -> str:
    """``tiny.en`` for English under ``prefer="auto"``, else ``base`` (or ``prefer`` itself)."""
    if prefer != "auto":
        return prefer
    return "tiny.en" if lang is not None and lang.split("-")[0].lower() == "en" else "base"


def transcribe_whisper(audio: Audio, lang: str | None = None, model: str = "auto",
                       words: bool = True, beam_size: int = 5, threads: int = 1,
                       settings: Settings | None = None) -> Transcript:
    """Transcript of ``audio`` (any sample rate). ``lang``: ISO 639-1 code, or None to detect
    it (base model). ``words``: also time each word (an extra alignment pass)."""
    code = lang.split("-")[0].lower() if lang else None
    name = choose_model(code, model)
    if name == "tiny.en" and code not in (None, "en"):
        raise UnsupportedLanguage(f"Whisper tiny.en recognises English only, not '{lang}': "
                                  "use the multilingual base model.")
    whisper, lock = whisper_model(name, threads, settings)
    if code is not None and code not in whisper.supported_languages:
        raise UnsupportedLanguage(f"Whisper does not recognise language '{lang}'; use one of its "
                                  f"{len(whisper.supported_languages)} ISO 639-1 codes, e.g. en, es, zh.")
    if len(audio) == 0:
        return Transcript("", code or "en", duration=0.0, model=f"whisper-{name}")
    x = np.clip(resample(audio, ASR_SR).samples, -1.0, 1.0).astype(np.float32)
    with lock:
        segments, info = whisper.transcribe(
            x, language=code or ("en" if name == "tiny.en" else None), beam_size=beam_size,
            condition_on_previous_text=False, word_timestamps=words, vad_filter=False)
        segments = list(segments)
    text = " ".join(s.text.strip() for s in segments).strip()
    timed = tuple(Word(w.word, round(float(w.start), 3), round(float(w.end), 3), round(float(w.probability), 4))
                  for s in segments for w in (s.words or ()))
    log.debug("whisper-%s %.2f s (%s): %r", name, audio.duration, info.language, text)
    return Transcript(text, info.language, round(float(info.language_probability), 4), timed,
                      round(audio.duration, 3), f"whisper-{name}")
