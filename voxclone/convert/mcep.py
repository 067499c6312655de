"""Spectral envelope <-> mel-cepstrum for many frames at once, as ``pysptk.sp2mc`` / ``mc2sp``.

pysptk converts one frame per Python call (``numpy.apply_along_axis``): about 1 ms a frame, most
of a WORLD conversion's time. Its frequency warping (``freqt``) is linear in the cepstrum, so here
it is one matrix, built once per (length, order, alpha) from pysptk's own ``freqt`` on the unit
vectors, and a whole utterance is one matrix product and one FFT. Same results to float64
rounding (a parity test holds them to 1e-8).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pysptk


@lru_cache(maxsize=16)
def _freqt_matrix(n_in: int, order: int, alpha: float) -> np.ndarray:
    """(n_in, order + 1) float64: ``c @ M == pysptk.freqt(c, order, alpha)`` for c of n_in."""
    matrix = np.stack([pysptk.freqt(row, order, alpha) for row in np.eye(n_in)])
    matrix.setflags(write=False)
    return matrix


def sp2mc(powerspec: np.ndarray, order: int, alpha: float) -> np.ndarray:
    """Mel-cepstra (T, order + 1) of power spectra (T, fftlen // 2 + 1), float64."""
    c = np.fft.irfft(np.log(np.atleast_2d(powerspec)), axis=-1)
    c[:, 0] /= 2.0
    return c @ _freqt_matrix(c.shape[1], order, float(alpha))


def mc2sp(mc: np.ndarray, alpha: float, fftlen: int) -> np.ndarray:
    """Power spectra (T, fftlen // 2 + 1) of mel-cepstra (T, order + 1), float64."""
    mc = np.atleast_2d(np.asarray(mc, dtype=np.float64))
    half = int(fftlen // 2)
    c = mc @ _freqt_matrix(mc.shape[1], half, -float(alpha))
    c[:, 0] *= 2.0
    symmetric = np.zeros((len(c), fftlen))
    symmetric[:, : half + 1] = c
    symmetric[:, fftlen - half:] = c[:, half:0:-1]
    return np.exp(np.fft.rfft(symmetric, axis=-1).real)
