"""The ``knn`` converter put together: :class:`~voxclone.convert.knn.KnnConverter` with the
bundled Whisper encoder's states as its phonetic keys (the converter layer does not reach into
the ASR layer; this layer hands the key function down)."""

from __future__ import annotations

from functools import partial

from voxclone.asr.encoder import phonetic_keys
from voxclone.convert.base import register_converter
from voxclone.convert.knn import KNN_DYNAMICS, KNN_PITCHES, KnnConfig, KnnConverter
from voxclone.convert.warp import WARPS
from voxclone.convert.world import WorldConfig


def knn_converter(config: WorldConfig = WorldConfig(), knn: KnnConfig = KnnConfig(),
                  dynamics: bool = KNN_DYNAMICS, warps: tuple[float, ...] = WARPS,
                  pitches: tuple[float, ...] = KNN_PITCHES) -> KnnConverter:
    """A knn converter whose keys are block ``knn.layer`` of Whisper ``knn.encoder``."""
    return KnnConverter(config, knn, partial(phonetic_keys, name=knn.encoder, layer=knn.layer),
                        dynamics, warps, pitches)


register_converter("knn", knn_converter)
