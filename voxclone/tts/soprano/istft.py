"""The ISTFT after the decoder graph: a numpy overlap-add on the CPU, and torch.istft for the
torch path. Both zero the DC and Nyquist bins first, as the official ISTFT does in place.

A spectrum (B, n_fft/2+1, F, 2) becomes hop·(F-1) samples per item (``center=True`` trims
n_fft/2 at each end).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from voxclone.tts.soprano.config import DecoderConfig, ISTFTConfig


@lru_cache(maxsize=4)
def _window(n_fft: int) -> np.ndarray:
    """Periodic Hann window, float64 (n_fft,)."""
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n_fft) / n_fft)


@lru_cache(maxsize=16)
def _envelope(n_fft: int, hop: int, frames: int) -> np.ndarray:
    """Overlap-added squared window over ``frames`` frames, trimmed as ``center=True`` trims."""
    win_sq = np.tile(_window(n_fft) ** 2, (1, frames, 1))
    env = overlap_add(win_sq, hop)[0]
    return env[n_fft // 2: len(env) - n_fft // 2]


def overlap_add(frames: np.ndarray, hop: int) -> np.ndarray:
    """(B, F, N) frames, N a multiple of ``hop`` → (B, hop·(F-1) + N) summed signal."""
    batch, count, n = frames.shape
    parts = n // hop
    out = np.zeros((batch, hop * (count + parts - 1)), dtype=frames.dtype)
    for k in range(parts):
        block = frames[:, :, k * hop:(k + 1) * hop].reshape(batch, count * hop)
        out[:, k * hop: k * hop + count * hop] += block
    return out


def istft(spec: np.ndarray, cfg: ISTFTConfig = ISTFTConfig()) -> np.ndarray:
    """(B, n_fft/2+1, F, 2) real/imaginary float32 → float32 audio (B, hop·(F-1))."""
    if cfg.window != "hann" or not cfg.center or cfg.normalized or not cfg.onesided:
        raise ValueError(f"Unsupported ISTFT settings {cfg}: only hann, center, one-sided.")
    if cfg.win_length != cfg.n_fft or cfg.n_fft % cfg.hop_length:
        raise ValueError("The ISTFT needs win_length == n_fft, a multiple of hop_length.")
    spec = np.asarray(spec, dtype=np.float32)
    complex_spec = spec[..., 0] + 1j * spec[..., 1]  # (B, bins, F)
    if cfg.zero_dc_nyquist:
        complex_spec[:, 0] = 0
        complex_spec[:, -1] = 0
    frames = np.fft.irfft(complex_spec, n=cfg.n_fft, axis=1).transpose(0, 2, 1)
    frames = frames * _window(cfg.n_fft)
    count = frames.shape[1]
    signal = overlap_add(frames, cfg.hop_length)
    half = cfg.n_fft // 2
    signal = signal[:, half: signal.shape[1] - half]
    return (signal / _envelope(cfg.n_fft, cfg.hop_length, count)).astype(np.float32)


def istft_torch(spec: torch.Tensor, window: torch.Tensor, cfg: DecoderConfig) -> torch.Tensor:
    """The same with torch.istft: (B, bins, F, 2) → (B, hop·(F-1))."""
    complex_spec = torch.complex(spec[..., 0], spec[..., 1])
    complex_spec[:, 0] = 0
    complex_spec[:, -1] = 0
    return torch.istft(complex_spec, cfg.n_fft, cfg.hop_length, cfg.n_fft, window, center=True)
