"""The one call the pipelines make in their post stage: mark an output (lazy, shared model)."""

from __future__ import annotations

from voxclone.audio.types import Audio


def mark(audio: Audio) -> Audio:
    """``audio`` with the Perth watermark embedded (the model loads on the first call, ~1 s)."""
    from voxclone.provenance.watermark import embed

    return embed(audio)
