"""The Soprano decoder: LM hidden states (B, 512, T) → complex STFT (B, 1025, 4(T-1)+1, 2).

A Vocos backbone (ConvNeXt blocks) and an ISTFT head, with the official parameter names
(``decoder.embed``, ``decoder.convnext.N.*``, ``head.out``, ``head.istft.window``). The graph
stops before the ISTFT: :func:`voxclone.tts.soprano.istft.istft` turns the spectrum into audio.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from voxclone.tts.soprano.config import DecoderConfig
from voxclone.tts.soprano.istft import istft_torch


class ConvNeXtBlock(nn.Module):
    """Depthwise conv → LayerNorm → Linear → GELU → Linear → ×gamma, plus the input. (B, D, T)."""

    def __init__(self, dim: int, intermediate_dim: int, dw_kernel: int, num_layers: int) -> None:
        super().__init__()
        self.dwconv = nn.Conv1d(dim, dim, dw_kernel, padding=dw_kernel // 2, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, intermediate_dim)
        self.act = nn.GELU()
        self.pwconv2 = nn.Linear(intermediate_dim, dim)
        self.gamma = nn.Parameter(torch.full((dim,), num_layers ** -0.5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.norm(self.dwconv(x).transpose(1, 2))
        y = self.gamma * self.pwconv2(self.act(self.pwconv1(y)))
        return x + y.transpose(1, 2)


class Backbone(nn.Module):
    """Conv1d embed → LayerNorm → ConvNeXt blocks → LayerNorm: (B, C_in, T) → (B, D, T)."""

    def __init__(self, cfg: DecoderConfig) -> None:
        super().__init__()
        k = cfg.embed_kernel
        self.embed = nn.Conv1d(cfg.input_channels, cfg.dim, k, padding=k // 2)
        self.norm = nn.LayerNorm(cfg.dim, eps=1e-6)
        self.convnext = nn.ModuleList(
            ConvNeXtBlock(cfg.dim, cfg.intermediate_dim, cfg.dw_kernel, cfg.num_layers)
            for _ in range(cfg.num_layers))
        self.final_layer_norm = nn.LayerNorm(cfg.dim, eps=1e-6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm(self.embed(x).transpose(1, 2)).transpose(1, 2)
        for block in self.convnext:
            x = block(x)
        return self.final_layer_norm(x.transpose(1, 2)).transpose(1, 2)


class ISTFTWindow(nn.Module):
    """Holds the persistent ``window`` buffer (periodic Hann) the checkpoint carries."""

    def __init__(self, n_fft: int) -> None:
        super().__init__()
        self.register_buffer("window", torch.hann_window(n_fft))


class SpectrumHead(nn.Module):
    """Linear D → n_fft+2, split into log-magnitude and phase; magnitude clipped at 100."""

    def __init__(self, cfg: DecoderConfig) -> None:
        super().__init__()
        self.out = nn.Linear(cfg.dim, cfg.n_fft + 2)
        self.istft = ISTFTWindow(cfg.n_fft)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, D, F) → spectrum (B, n_fft/2+1, F, 2): real and imaginary parts."""
        mag, phase = self.out(x.transpose(1, 2)).transpose(1, 2).chunk(2, dim=1)
        mag = torch.clip(torch.exp(mag), max=1e2)
        return torch.stack([mag * torch.cos(phase), mag * torch.sin(phase)], dim=-1)


class SopranoDecoder(nn.Module):
    """Hidden states (B, 512, T), T >= 2 → complex spectrum (B, 1025, 4(T-1)+1, 2).

    Each token becomes 4 STFT frames by linear interpolation (token t sits on frame 4t);
    :meth:`audio` adds the ISTFT: 2048·(T-1) samples at 32 kHz.
    """

    def __init__(self, cfg: DecoderConfig = DecoderConfig()) -> None:
        super().__init__()
        self.config = cfg
        self.decoder = Backbone(cfg)
        self.head = SpectrumHead(cfg)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        frames = self.config.upscale * (hidden.size(2) - 1) + 1
        x = F.interpolate(hidden, size=frames, mode="linear", align_corners=True)
        return self.head(self.decoder(x))

    def audio(self, hidden: torch.Tensor) -> torch.Tensor:
        """(B, 512, T) → float32 audio (B, 2048·(T-1)), through torch.istft."""
        return istft_torch(self(hidden), self.head.istft.window, self.config)
