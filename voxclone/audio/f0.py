"""F0 extraction (pyworld): ``harvest`` (robust, slower) and ``dio`` + ``stonemask`` (fast)."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pyworld

from voxclone.audio.types import Audio

F0Method = Literal["harvest", "dio"]
F0_FLOOR = 60.0
F0_CEIL = 700.0


def extract_f0(audio: Audio, method: F0Method = "harvest", frame_period_ms: float = 5.0,
               ) -> tuple[np.ndarray, np.ndarray]:
    """F0 track in Hz (0 = unvoiced), shape (n_frames,), and frame times in seconds.

    x must be float64 for pyworld; ``frame_period_ms`` is the hop.
    """
    x = audio.samples.astype(np.float64)
    fs = audio.sample_rate
    if method == "harvest":
        f0, t = pyworld.harvest(x, fs, f0_floor=F0_FLOOR, f0_ceil=F0_CEIL, frame_period=frame_period_ms)
    elif method == "dio":
        f0, t = pyworld.dio(x, fs, f0_floor=F0_FLOOR, f0_ceil=F0_CEIL, frame_period=frame_period_ms)
        f0 = pyworld.stonemask(x, f0, t, fs)
    else:
        raise ValueError(f"Unknown F0 method '{method}': use 'harvest' or 'dio'.")
    return f0, t


def log_f0_stats(f0: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation of log F0 over voiced frames ((nan, nan) when none)."""
    voiced = f0[f0 > 0]
    if len(voiced) < 2:
        return float("nan"), float("nan")
    lf0 = np.log(voiced)
    return float(lf0.mean()), float(lf0.std())
