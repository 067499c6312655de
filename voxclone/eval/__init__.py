"""Evaluation metrics: speaker similarity, WER, DNSMOS quality and failure detection.

Heavy dependencies (resemblyzer, faster-whisper, speechmos) load on first use, not on import.

- ``speaker_similarity(a, b)``, ``similarity_to_set(audio, refs)``: speaker cosine (resemblyzer by
  default; pass ``referee_encoder()`` for the d-vector judge).
- ``transcribe``, ``wer``, ``error_rate``, ``word_error_rate``, ``normalize_text``: from
  :mod:`voxclone.asr` (Whisper; WER, or CER for zh/ja/ko).
- ``dnsmos(audio)``: ``{"ovrl", "sig", "bak", "p808"}`` MOS estimates.
- ``detect_failures(audio, expected_duration_s)``: a ``FailureReport`` with silence, clipping,
  looping, noise-only and duration flags.
"""

from voxclone.eval.failures import FailureReport, detect_failures
from voxclone.eval.quality import dnsmos
from voxclone.eval.similarity import embedding, similarity_to_set, speaker_similarity
from voxclone.asr import error_rate, normalize_text, transcribe, wer, word_error_rate

__all__ = ["FailureReport", "detect_failures", "dnsmos", "embedding", "similarity_to_set",
           "speaker_similarity", "error_rate", "normalize_text", "transcribe", "wer",
           "word_error_rate"]
