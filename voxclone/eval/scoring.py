"""Scoring one output: similarity to the target and to its source by two speaker judges,
intelligibility (Whisper WER, or CER for zh/ja/ko), DNSMOS, failure flags.

The judges: ``similarity`` is resemblyzer, the encoder the product also selects with;
``similarity_dvec`` is the d-vector encoder, which selects nothing and so referees.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from voxclone.asr import metric_name, word_error_rate
from voxclone.audio.speaker import cosine, referee_encoder, speaker_encoder
from voxclone.audio.types import Audio
from voxclone.eval.failures import detect_failures

JUDGES = {"resemblyzer": "similarity", "dvector": "similarity_dvec"}
"""Speaker judge name -> the metric key it fills."""
SELECTING_JUDGE = "resemblyzer"
REFEREE_JUDGE = "dvector"
Embeddings = dict[str, np.ndarray]
"""One clip's embedding per judge."""


class Scorer:
    """Scores outputs with both speaker judges, an ASR (``whisper`` by default) and DNSMOS."""

    def __init__(self, dnsmos: bool = True, asr: str = "whisper") -> None:
        self.use_dnsmos, self.asr = dnsmos, asr
        self.encoders = {"resemblyzer": speaker_encoder(), "dvector": referee_encoder()}

    def embed(self, audio: Audio) -> Embeddings:
        """Speaker embedding of ``audio`` by each judge, each (256,)."""
        return {name: enc.embed(audio) for name, enc in self.encoders.items()}

    def score(self, audio: Audio, refs: list[Embeddings], text: str | None,
              source: Audio | None = None, lang: str = "en") -> dict[str, Any]:
        """Metrics of ``audio``: ``similarity`` / ``similarity_dvec`` (mean cosine to ``refs`` by
        each judge), ``source_similarity`` / ``source_similarity_dvec``, ``wer`` or ``cer`` with
        ``hypothesis`` (when ``text`` is given, in ``lang``), ``dnsmos``, ``flags``, ``duration_s``."""
        emb = self.embed(audio)
        out: dict[str, Any] = {"duration_s": round(audio.duration, 3)}
        for judge, key in JUDGES.items():
            out[key] = round(float(np.mean([cosine(emb[judge], r[judge]) for r in refs])), 4)
        if source is not None:
            src = self.embed(source)
            for judge, key in JUDGES.items():
                out[f"source_{key}"] = round(cosine(emb[judge], src[judge]), 4)
        if text:
            err, hyp = word_error_rate(audio, text, lang, self.asr)
            out[metric_name(lang)], out["hypothesis"] = round(err, 4), hyp
        if self.use_dnsmos:
            from voxclone.eval.quality import dnsmos

            out["dnsmos"] = {k: round(v, 3) for k, v in dnsmos(audio).items()}
        expected = source.duration if source is not None else None
        out["flags"] = detect_failures(audio, expected).flags()
        return out
