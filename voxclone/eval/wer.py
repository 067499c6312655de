"""Intelligibility: transcription with pocketsphinx (bundled en-us model) and word error rate.

pocketsphinx transcribes formant-synthesised speech (raw espeak-ng) poorly, so compare WERs of
systems with each other rather than reading them as absolutes.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from typing import Any

import numpy as np

from voxclone.audio.dsp import resample
from voxclone.audio.types import Audio
from voxclone.errors import EngineUnavailable

log = logging.getLogger(__name__)

ASR_SR = 16000
_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
         "fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_APOSTROPHES = re.compile(r"[\u2018\u2019\u02bc\u02b9\u0060\u00b4\u2032]")

_decoder: Any = None
_decoder_lock = threading.Lock()


def number_words(n: int) -> str:
    """English words for 0 <= n <= 99 ("21" -> "twenty one"); other numbers stay digits."""
    if not 0 <= n <= 99:
        return str(n)
    if n < 20:
        return _ONES[n]
    tens, ones = divmod(n, 10)
    return _TENS[tens] + (f" {_ONES[ones]}" if ones else "")


def normalize_text(text: str) -> str:
    """Lowercase, unify apostrophes, spell out 0-99, drop punctuation, collapse whitespace.

    Apostrophes inside words are kept ("don't"); other punctuation and symbols become spaces.
    """
    text = _APOSTROPHES.sub("'", unicodedata.normalize("NFKC", text)).lower()
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 1,000 -> 1000
    text = re.sub(r"\d+", lambda m: f" {number_words(int(m.group()))} ", text)
    text = "".join(" " if _is_punct(c) else c for c in text)
    text = re.sub(r"(?<!\w)'|'(?!\w)", " ", text)
    return " ".join(text.split())


def _is_punct(char: str) -> bool:
    return char != "'" and unicodedata.category(char)[0] in "PS"


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate of ``hypothesis`` against ``reference`` after :func:`normalize_text`.

    (substitutions + deletions + insertions) / reference words; may exceed 1. An empty
    reference gives 0.0 for an empty hypothesis and 1.0 otherwise.
    """
    import jiwer

    ref, hyp = normalize_text(reference), normalize_text(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    return float(jiwer.wer(ref, hyp)) if hyp else 1.0


def _get_decoder() -> Any:
    """The process-wide pocketsphinx decoder (built on first use; caller holds the lock)."""
    global _decoder
    if _decoder is None:
        try:
            from pocketsphinx import Decoder
        except ImportError as exc:
            raise EngineUnavailable("pocketsphinx is not installed: "
                                    "`pip install 'pocketsphinx>=5.0'`.") from exc
        _decoder = Decoder(samprate=ASR_SR, loglevel="FATAL")
    return _decoder


def transcribe(audio: Audio) -> str:
    """English transcript of ``audio`` (lower case, may be empty), any sample rate."""
    if len(audio) == 0:
        return ""
    x = np.clip(resample(audio, ASR_SR).samples, -1.0, 1.0)
    pcm = (x * 32767.0).astype("<i2").tobytes()
    with _decoder_lock:
        decoder = _get_decoder()
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
        hyp = decoder.hyp()
    text = hyp.hypstr if hyp is not None else ""
    log.debug("transcribed %.2f s: %r", audio.duration, text)
    return text


def word_error_rate(audio: Audio, reference_text: str) -> tuple[float, str]:
    """WER of the transcript of ``audio`` against ``reference_text``, and that transcript."""
    hypothesis = transcribe(audio)
    return wer(reference_text, hypothesis), hypothesis
