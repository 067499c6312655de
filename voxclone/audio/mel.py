"""Mel filterbanks and log-mel spectrograms in numpy (Slaney mel scale and area normalisation,
the convention of librosa's defaults)."""

from __future__ import annotations

import functools

import numpy as np
from scipy.signal import get_window

_F_SP = 200.0 / 3.0          # Hz per mel below 1 kHz (Slaney)
_MIN_LOG_HZ = 1000.0
_LOGSTEP = np.log(6.4) / 27.0


def hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney mel of frequencies in Hz: linear below 1 kHz, logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    mel = hz / _F_SP
    log_part = _MIN_LOG_HZ / _F_SP + np.log(np.maximum(hz, 1e-12) / _MIN_LOG_HZ) / _LOGSTEP
    return np.where(hz >= _MIN_LOG_HZ, log_part, mel)


def mel_to_hz(mel: np.ndarray) -> np.ndarray:
    """Inverse of :func:`hz_to_mel`."""
    mel = np.asarray(mel, dtype=np.float64)
    min_log_mel = _MIN_LOG_HZ / _F_SP
    return np.where(mel >= min_log_mel, _MIN_LOG_HZ * np.exp(_LOGSTEP * (mel - min_log_mel)), _F_SP * mel)


@functools.lru_cache(maxsize=8)
def slaney_filterbank(sample_rate: int, n_fft: int, n_mels: int) -> np.ndarray:
    """Triangular filters from 0 Hz to Nyquist, area-normalised: (n_mels, n_fft // 2 + 1) float32."""
    bins = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    edges = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(sample_rate / 2.0), n_mels + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - bins[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper)) * (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return weights.astype(np.float32)


def power_mel(samples: np.ndarray, sample_rate: int, n_fft: int, win_length: int, hop: int,
              n_mels: int, window: str = "hamming") -> np.ndarray:
    """Mel power spectrogram without centre padding: (frames, n_mels) float32, frames =
    1 + (len - n_fft) // hop (0 when shorter). The window is centred inside n_fft."""
    x = np.ascontiguousarray(samples, dtype=np.float32)
    if len(x) < n_fft:
        return np.zeros((0, n_mels), np.float32)
    win = np.zeros(n_fft)
    offset = (n_fft - win_length) // 2
    win[offset:offset + win_length] = get_window(window, win_length, fftbins=True)
    frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop]
    spectrum = np.fft.rfft(frames * win, axis=1).astype(np.complex64)  # float64 FFT, complex64 kept
    power = np.abs(spectrum) ** 2
    return (power @ slaney_filterbank(sample_rate, n_fft, n_mels).T).astype(np.float32)
