"""The converter's linear spectrogram, computed exactly as OpenVoice's ``spectrogram_torch``."""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

from voxclone.convert.openvoice.config import DataConfig
from voxclone.errors import AudioError


def pad_signal(samples: np.ndarray, cfg: DataConfig) -> torch.Tensor:
    """Reflect-pad (n_fft − hop) / 2 samples at both ends: (N,) → (N + n_fft − hop,)."""
    pad = (cfg.filter_length - cfg.hop_length) // 2
    if len(samples) <= pad or len(samples) < cfg.hop_length:
        raise AudioError(f"Audio is too short for the converter ({len(samples)} samples at "
                         f"{cfg.sampling_rate} Hz): give at least {pad + 1}.")
    x = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))
    return F.pad(x[None, None], (pad, pad), mode="reflect")[0, 0]


def n_frames(n_samples: int, cfg: DataConfig) -> int:
    """Frames of an N-sample signal: ⌊N / hop⌋."""
    return n_samples // cfg.hop_length


def frames_of(padded: torch.Tensor, start: int, end: int, cfg: DataConfig) -> torch.Tensor:
    """Magnitude spectrogram (513, end − start) of frames [start, end) of a padded signal.

    Periodic Hann window, center=False, no normalisation, sqrt(re² + im² + 1e-6).
    """
    seg = padded[start * cfg.hop_length:(end - 1) * cfg.hop_length + cfg.filter_length]
    window = torch.hann_window(cfg.win_length, dtype=padded.dtype)
    spec = torch.stft(seg, cfg.filter_length, hop_length=cfg.hop_length, win_length=cfg.win_length,
                      window=window, center=False, normalized=False, onesided=True,
                      return_complex=True)
    return torch.sqrt(spec.real.pow(2) + spec.imag.pow(2) + 1e-6)


def linear_spectrogram(samples: np.ndarray, cfg: DataConfig) -> torch.Tensor:
    """Spectrogram (513, ⌊N / hop⌋) of a whole signal at ``cfg.sampling_rate``."""
    padded = pad_signal(samples, cfg)
    return frames_of(padded, 0, n_frames(len(samples), cfg), cfg)
