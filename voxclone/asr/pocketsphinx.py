"""pocketsphinx with its bundled en-us model: English only, and weak (47 % WER on real read
speech, 92 % on espeak-ng speech). Kept as an explicit choice (``--asr pocketsphinx``) to compare
with older measurements; never used in place of Whisper without being asked for."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from voxclone.asr.types import Transcript
from voxclone.audio.dsp import resample
from voxclone.audio.types import Audio
from voxclone.errors import EngineUnavailable, UnsupportedLanguage

ASR_SR = 16000
_decoder: Any = None
_lock = threading.Lock()


def _get_decoder() -> Any:
    """The process-wide decoder (built on first use; the caller holds the lock)."""
    global _decoder
    if _decoder is None:
        try:
            from pocketsphinx import Decoder
        except ImportError as exc:
            raise EngineUnavailable("pocketsphinx is not installed: "
                                    "`pip install 'pocketsphinx>=5.0'`.") from exc
        _decoder = Decoder(samprate=ASR_SR, loglevel="FATAL")
    return _decoder


def transcribe_pocketsphinx(audio: Audio, lang: str | None = "en") -> Transcript:
    """English transcript of ``audio`` (lower case, may be empty), any sample rate; no word times."""
    if lang is not None and lang.split("-")[0].lower() != "en":
        raise UnsupportedLanguage(f"pocketsphinx recognises English only, not '{lang}': "
                                  "use the Whisper recogniser (`--asr whisper`).")
    if len(audio) == 0:
        return Transcript("", "en", model="pocketsphinx")
    x = np.clip(resample(audio, ASR_SR).samples, -1.0, 1.0)
    pcm = (x * 32767.0).astype("<i2").tobytes()
    with _lock:
        decoder = _get_decoder()
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
        hyp = decoder.hyp()
    return Transcript(hyp.hypstr if hyp is not None else "", "en", duration=audio.duration,
                      model="pocketsphinx")
