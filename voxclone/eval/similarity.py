"""Speaker similarity: cosine of resemblyzer d-vectors (1 = same voice, ~0.5 = unrelated)."""

from __future__ import annotations

import numpy as np

from voxclone.audio.speaker import SpeakerEncoder, cosine, speaker_encoder
from voxclone.audio.types import Audio

AudioOrEmbedding = Audio | np.ndarray


def embedding(item: AudioOrEmbedding, encoder: SpeakerEncoder | None = None) -> np.ndarray:
    """Speaker embedding (dim,) of a clip; an array is taken as a precomputed embedding."""
    if isinstance(item, Audio):
        return (encoder or speaker_encoder()).embed(item)
    emb = np.asarray(item, dtype=np.float32)
    if emb.ndim != 1:
        raise ValueError(f"A speaker embedding must be 1-D, got shape {emb.shape}.")
    return emb


def speaker_similarity(a: Audio, b: AudioOrEmbedding, encoder: SpeakerEncoder | None = None,
                       ) -> float:
    """Cosine similarity (-1..1) of the speaker embeddings of ``a`` and ``b``.

    ``b`` may be a clip or a precomputed embedding of shape (dim,); ``encoder`` defaults to the
    process-wide resemblyzer encoder.
    """
    return cosine(embedding(a, encoder), embedding(b, encoder))


def similarity_to_set(audio: Audio, refs: list[AudioOrEmbedding],
                      encoder: SpeakerEncoder | None = None) -> float:
    """Mean cosine similarity of ``audio`` to each reference (clips or embeddings).

    The clip is embedded once. Raises ValueError when ``refs`` is empty.
    """
    if not refs:
        raise ValueError("similarity_to_set needs at least one reference clip or embedding.")
    emb = embedding(audio, encoder)
    return float(np.mean([cosine(emb, embedding(r, encoder)) for r in refs]))
