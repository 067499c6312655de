"""Evaluation metrics: speaker similarity, WER, DNSMOS quality and failure detection.

Heavy dependencies (resemblyzer, pocketsphinx, speechmos) load on first use, not on import.

- ``speaker_similarity(a, b)``, ``similarity_to_set(audio, refs)``: resemblyzer cosine.
- ``transcribe(audio)``, ``wer(reference, hypothesis)``, ``word_error_rate(audio, text)``,
  ``normalize_text(text)``: pocketsphinx en-us ASR and jiwer WER on normalised text.
- ``dnsmos(audio)``: ``{"ovrl", "sig", "bak", "p808"}`` MOS estimates.
- ``detect_failures(audio, expected_duration_s)``: a ``FailureReport`` with silence, clipping,
  looping, noise-only and duration flags.
"""

from voxclone.eval.failures import FailureReport, detect_failures
from voxclone.eval.quality import dnsmos
from voxclone.eval.similarity import embedding, similarity_to_set, speaker_similarity
from voxclone.eval.wer import normalize_text, transcribe, wer, word_error_rate

__all__ = ["FailureReport", "detect_failures", "dnsmos", "embedding", "similarity_to_set",
           "speaker_similarity", "normalize_text", "transcribe", "wer", "word_error_rate"]
