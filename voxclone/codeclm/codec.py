"""The ``Codec`` protocol: audio ↔ integer tokens [n_q, frames], and loading a saved codec."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from voxclone.audio.types import Audio
from voxclone.errors import ModelNotFound


class Codec(Protocol):
    """A neural or DSP audio codec with residual levels.

    id: codec family (``world-rvq``, ``encodec-24khz``); content_hash: hex digest of everything
    that fixes the mapping (weights or codebooks + settings) — token caches and checkpoints name it;
    sample_rate: Hz of ``decode`` output and of the audio ``encode`` expects after resampling;
    frame_rate: token frames per second; hop: samples per frame; n_q: residual levels;
    n_codes: codes per level (tokens lie in [0, n_codes)).
    """

    id: str
    sample_rate: int
    frame_rate: float
    hop: int
    n_q: int
    n_codes: int

    @property
    def content_hash(self) -> str:
        ...

    def encode(self, audio: Audio) -> np.ndarray:
        """Tokens of ``audio`` (any rate; resampled inside): int64 array [n_q, frames]."""
        ...

    def decode(self, codes: np.ndarray) -> Audio:
        """Audio of tokens [n_q' <= n_q, frames]: frames × hop samples at ``sample_rate``."""
        ...

    def save(self, folder: Path) -> None:
        """Write what ``load_codec(folder)`` needs to rebuild this codec (``codec.json`` + data)."""
        ...


def load_codec(folder: str | Path) -> Codec:
    """The codec saved in ``folder`` (its ``codec.json`` names the family)."""
    import json

    folder = Path(folder)
    meta_path = folder / "codec.json"
    if not meta_path.is_file():
        raise ModelNotFound(f"No codec.json in {folder}: point at a checkpoint or codec folder "
                            "written by voxclone.")
    meta = json.loads(meta_path.read_text())
    if meta.get("id") == "world-rvq":
        from voxclone.codeclm.world_rvq import WorldRVQCodec

        return WorldRVQCodec.load(folder)
    if meta.get("id") == "encodec-24khz":
        from voxclone.codeclm.encodec_codec import EncodecCodec

        return EncodecCodec.load(folder)
    raise ModelNotFound(f"Unknown codec '{meta.get('id')}' in {meta_path}: use world-rvq or "
                        "encodec-24khz.")
