"""SwiftF0 (the ``swift-f0`` package: a 135 kB CNN in ONNX, MIT) resampled onto WORLD's frame grid.

SwiftF0 gives a pitch and a voicing confidence every 16 ms at 16 kHz. The pitch is interpolated
in log-frequency onto the caller's frames, a frame is voiced where the interpolated confidence
reaches ``voiced_confidence``, and WORLD's ``stonemask`` refines each voiced frame's F0 on the
full-rate signal (as it does after ``dio``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import pyworld

from voxclone.errors import EngineUnavailable

VOICED_CONFIDENCE = 0.2
"""Voicing threshold. SwiftF0 is calibrated for 0.5, which voices 44% of the dev-set frames where
harvest voices 74%, and WORLD conversions of that lose intelligibility (Whisper WER +0.12 on
real speech); at 0.2 the WER is harvest's (+0.02 real, +0.00 overall; bench_f0)."""


@lru_cache(maxsize=1)
def detector() -> Any:
    """The process's one ``swift_f0.SwiftF0`` (one ONNX thread, no busy-waiting between calls)."""
    try:
        from swift_f0 import SwiftF0
    except ImportError as exc:
        raise EngineUnavailable("The 'swift' F0 tracker needs the package swift-f0: "
                                "`pip install swift-f0`, or use --f0 harvest.") from exc
    return SwiftF0(threads=1, spin=False)


def swift_f0(x: np.ndarray, fs: int, times: np.ndarray, floor: float, ceil: float,
             voiced_confidence: float = VOICED_CONFIDENCE) -> np.ndarray:
    """F0 in Hz (0 = unvoiced) at ``times`` (seconds, shape (T,)) of float64 samples ``x`` at ``fs``."""
    result = detector().detect(x.astype(np.float32), fs, fmin=floor, fmax=ceil)
    log_f0 = np.interp(times, result.timestamps, np.log(np.maximum(result.pitch_hz, 1.0)))
    confidence = np.interp(times, result.timestamps, result.confidence)
    f0 = np.where(confidence >= voiced_confidence, np.exp(log_f0), 0.0)
    return pyworld.stonemask(x, f0, times, fs)
