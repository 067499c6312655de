"""Frequency warping of mel-cepstra: the source's formants moved toward the voice's (VTLN-style).

A mean/variance match of mel-cepstra moves each coefficient's statistics, which adds one fixed
filter to every frame: it cannot move the formants of each sound, which sit higher or lower with
the length of the speaker's vocal tract. An all-pass frequency warp with a small constant
``beta`` (``pysptk.freqt``) moves every formant of every frame by the same factor on the mel
scale (``beta`` > 0 raises them: +0.05 moves 1 kHz to about 1.1 kHz). The warp is linear in
the cepstrum, so it is one matrix per (order, beta), and the warp that brings the source's mean
voiced envelope closest to the voice's is chosen on the means alone.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pysptk

WARPS = (-0.08, -0.04, 0.0, 0.04, 0.08)
"""Warps a converter chooses from by the speaker encoder (measured on the dev set: README)."""
WARP_CHOICE_SECONDS = 8.0
"""Seconds of the utterance's start the choice is made on (its cost is bounded on long input)."""
WARP_GRID = tuple(round(b, 3) for b in np.arange(-0.12, 0.1201, 0.01))
"""Warps tried by :func:`choose_warp`."""


@lru_cache(maxsize=64)
def warp_matrix(order: int, beta: float) -> np.ndarray:
    """(order+1, order+1) matrix ``M`` with ``mcep @ M`` the mel-cepstra warped by ``beta``."""
    out = np.stack([pysptk.freqt(e, order, beta) for e in np.eye(order + 1)])
    out.setflags(write=False)
    return out


def warp(mcep: np.ndarray, beta: float) -> np.ndarray:
    """Mel-cepstra (T, order+1) with their frequency axis warped by ``beta``; c0 kept."""
    if beta == 0.0:
        return mcep.copy()
    out = mcep @ warp_matrix(mcep.shape[-1] - 1, float(beta))
    out[..., 0] = mcep[..., 0]
    return out


def choose_warp(source_mean: np.ndarray, target_mean: np.ndarray, first: int = 1,
                grid: tuple[float, ...] = WARP_GRID) -> float:
    """The ``beta`` of ``grid`` whose warp of ``source_mean`` (order+1,) is closest to
    ``target_mean`` over coefficients ``first``.. (Euclidean, a log-spectral distance)."""
    order = len(source_mean) - 1
    dist = [float(((source_mean @ warp_matrix(order, b) - target_mean)[first:] ** 2).sum())
            for b in grid]
    return float(grid[int(np.argmin(dist))])
