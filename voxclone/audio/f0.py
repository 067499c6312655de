"""F0 extraction on WORLD's frame grid: ``harvest`` (pyworld, robust, slow), ``dio`` + ``stonemask``
(pyworld, fast, more voicing and octave errors) and ``swift`` (SwiftF0, a small CNN, refined by
``stonemask``; see :mod:`voxclone.audio.f0_swift`)."""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
import pyworld

from voxclone.audio.types import Audio
from voxclone.errors import InvalidSetting

F0Method = Literal["harvest", "dio", "swift"]
F0_METHODS: tuple[str, ...] = get_args(F0Method)
F0_FLOOR = 60.0
F0_CEIL = 700.0


def check_f0_method(method: str) -> None:
    """Raise :class:`InvalidSetting` (a ValueError) unless ``method`` is one of :data:`F0_METHODS`."""
    if method not in F0_METHODS:
        raise InvalidSetting(f"Unknown F0 method {method!r}: use {', '.join(F0_METHODS)}.")


def frame_times(n_samples: int, fs: int, frame_period_ms: float) -> np.ndarray:
    """Frame times in seconds, shape (T,), as pyworld's ``dio``/``harvest`` place them."""
    n = int(1000.0 * n_samples / fs / frame_period_ms) + 1
    return np.arange(n) * frame_period_ms / 1000.0


def extract_f0(audio: Audio, method: F0Method = "harvest", frame_period_ms: float = 5.0,
               ) -> tuple[np.ndarray, np.ndarray]:
    """F0 track in Hz (0 = unvoiced), shape (n_frames,), and frame times in seconds.

    x must be float64 for pyworld; ``frame_period_ms`` is the hop.
    """
    check_f0_method(method)
    x = audio.samples.astype(np.float64)
    fs = audio.sample_rate
    if method == "harvest":
        return pyworld.harvest(x, fs, f0_floor=F0_FLOOR, f0_ceil=F0_CEIL, frame_period=frame_period_ms)
    if method == "dio":
        f0, t = pyworld.dio(x, fs, f0_floor=F0_FLOOR, f0_ceil=F0_CEIL, frame_period=frame_period_ms)
        return pyworld.stonemask(x, f0, t, fs), t
    from voxclone.audio.f0_swift import swift_f0

    t = frame_times(len(x), fs, frame_period_ms)
    return swift_f0(x, fs, t, F0_FLOOR, F0_CEIL), t


def log_f0_stats(f0: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation of log F0 over voiced frames ((nan, nan) when none)."""
    voiced = f0[f0 > 0]
    if len(voiced) < 2:
        return float("nan"), float("nan")
    lf0 = np.log(voiced)
    return float(lf0.mean()), float(lf0.std())
