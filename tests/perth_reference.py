"""Test-only: the original resemble-perth watermarker, imported with a stand-in for the three
torchaudio classes it uses (no torchaudio loads with torch 2.13). Never used by the product;
the tests and bench/watermark_robustness.py import it to measure parity."""

from __future__ import annotations

import math
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager

import torch


def _fake_torchaudio() -> types.ModuleType:
    """torchaudio.transforms.{Spectrogram, InverseSpectrogram, TimeStretch} as the original uses
    them (center=True reflect-padded STFT, power=None), over torch.stft / torch.istft."""
    from torch import nn

    class Spectrogram(nn.Module):
        def __init__(self, n_fft, win_length, power, hop_length, window_fn, normalized):
            super().__init__()
            self.n_fft, self.hop, self.win = n_fft, hop_length, win_length
            self.register_buffer("window", window_fn(win_length))

        def forward(self, x):
            return torch.stft(x, self.n_fft, self.hop, self.win, self.window, center=True,
                              pad_mode="reflect", normalized=False, onesided=True, return_complex=True)

    class InverseSpectrogram(Spectrogram):
        def __init__(self, n_fft, win_length, hop_length, window_fn, normalized):
            super().__init__(n_fft, win_length, None, hop_length, window_fn, normalized)

        def forward(self, spec, length=None):
            return torch.istft(spec, self.n_fft, self.hop, self.win, self.window, center=True,
                               normalized=False, onesided=True, length=length)

    class TimeStretch(nn.Module):
        def __init__(self, n_freq, hop_length):
            super().__init__()
            self.register_buffer("phase_advance", torch.linspace(0, math.pi * hop_length, n_freq)[..., None])

    ta = types.ModuleType("torchaudio")
    ta.transforms = types.ModuleType("torchaudio.transforms")
    ta.transforms.Spectrogram = Spectrogram
    ta.transforms.InverseSpectrogram = InverseSpectrogram
    ta.transforms.TimeStretch = TimeStretch
    return ta


@contextmanager
def original_perth() -> Iterator[object]:
    """The original ``PerthImplicitWatermarker``; the stand-in and every ``perth`` module are
    removed from ``sys.modules`` again on exit."""
    saved = {k: sys.modules.get(k) for k in ("torchaudio", "torchaudio.transforms")}
    ta = _fake_torchaudio()
    sys.modules["torchaudio"], sys.modules["torchaudio.transforms"] = ta, ta.transforms
    try:
        from perth.perth_net.perth_net_implicit.perth_watermarker import PerthImplicitWatermarker

        yield PerthImplicitWatermarker()
    finally:
        for key, mod in saved.items():
            if mod is None:
                sys.modules.pop(key, None)
            else:
                sys.modules[key] = mod
        for name in [n for n in sys.modules if n == "perth" or n.startswith("perth.")]:
            del sys.modules[name]
