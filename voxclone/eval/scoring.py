"""Scoring one output: similarity to the target and to its source, WER, DNSMOS, failure flags."""

from __future__ import annotations

from typing import Any

import numpy as np

from voxclone.audio.speaker import cosine, speaker_encoder
from voxclone.audio.types import Audio
from voxclone.eval.failures import detect_failures
from voxclone.eval.wer import word_error_rate


class Scorer:
    """Scores outputs with the shared speaker encoder, pocketsphinx and (optionally) DNSMOS."""

    def __init__(self, dnsmos: bool = True) -> None:
        self.use_dnsmos = dnsmos
        self.encoder = speaker_encoder()

    def embed(self, audio: Audio) -> np.ndarray:
        """Speaker embedding (256,)."""
        return self.encoder.embed(audio)

    def score(self, audio: Audio, refs: list[np.ndarray], text: str | None,
              source: Audio | None = None) -> dict[str, Any]:
        """Metrics of ``audio``: ``similarity`` (mean cosine to ``refs``), ``source_similarity``,
        ``wer``/``hypothesis`` (English ``text`` only), ``dnsmos``, ``flags``, ``duration_s``."""
        emb = self.embed(audio)
        out: dict[str, Any] = {
            "similarity": round(float(np.mean([cosine(emb, r) for r in refs])), 4),
            "duration_s": round(audio.duration, 3),
        }
        if source is not None:
            out["source_similarity"] = round(cosine(emb, self.embed(source)), 4)
        if text:
            err, hyp = word_error_rate(audio, text)
            out["wer"], out["hypothesis"] = round(err, 4), hyp
        if self.use_dnsmos:
            from voxclone.eval.quality import dnsmos

            out["dnsmos"] = {k: round(v, 3) for k, v in dnsmos(audio).items()}
        expected = source.duration if source is not None else None
        out["flags"] = detect_failures(audio, expected).flags()
        return out
