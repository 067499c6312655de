"""Static int8 quantization of an ONNX graph, calibrated on example inputs.

QDQ form, per-channel int8 weights, uint8 activations with min/max ranges: what ONNX Runtime
fuses into ``QLinearConv`` on the CPU. Used by the OpenVoice int8 backend and the static Kokoro
graph.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from voxclone.errors import EngineUnavailable


def quantize_int8(source: Path, target: Path, feeds: Sequence[dict[str, np.ndarray]],
                  op_types: Sequence[str], exclude: Sequence[str] = (),
                  purpose: str = "int8 quantization") -> None:
    """Write ``source`` to ``target`` with its ``op_types`` nodes (but those named in
    ``exclude``) quantized, calibrated on ``feeds`` (graph inputs by name). ``purpose`` names
    what needed it in the error raised when onnxruntime is missing."""
    try:
        from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,
                                              quantize_static)
    except ImportError as exc:
        raise EngineUnavailable(f"{purpose} needs onnx and onnxruntime: "
                                "`pip install 'voxclone[neural]'`.") from exc

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._items = iter(feeds)

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self._items, None)

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # the quantizer's advice to pre-process, logged on the root
    try:
        quantize_static(str(source), str(target), Reader(), quant_format=QuantFormat.QDQ,
                        per_channel=True, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8, op_types_to_quantize=list(op_types),
                        nodes_to_exclude=list(exclude))
    finally:
        root.setLevel(level)
