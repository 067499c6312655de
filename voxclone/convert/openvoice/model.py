"""OpenVoice V2 ``SynthesizerTrn`` as a tone-colour converter: ``enc_q``, ``flow``, ``dec``, ``ref_enc``.

Parameter names and shapes match the released ``converter/checkpoint.pth``.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from voxclone.convert.openvoice.config import ModelConfig, OpenVoiceConfig
from voxclone.convert.openvoice.layers import LRELU_SLOPE, WN, ResBlock1, WNConv2d, WNConvTranspose1d

REF_ENC_GRU = 128


class PosteriorEncoder(nn.Module):
    """Linear spectrogram (B, 513, T) → latent z (B, inter, T), mean and log-std alike."""

    def __init__(self, spec_channels: int, cfg: ModelConfig) -> None:
        super().__init__()
        self.out_channels = cfg.inter_channels
        self.pre = nn.Conv1d(spec_channels, cfg.hidden_channels, 1)
        self.enc = WN(cfg.hidden_channels, 5, cfg.posterior_layers, cfg.gin_channels)
        self.proj = nn.Conv1d(cfg.hidden_channels, 2 * cfg.inter_channels, 1)

    def forward(self, y: torch.Tensor, mask: torch.Tensor, g: torch.Tensor,
                noise: torch.Tensor) -> torch.Tensor:
        """``noise`` (B, inter, T) is standard normal noise already scaled by tau."""
        h = self.enc(self.pre(y) * mask, mask, g)
        m, logs = torch.split(self.proj(h) * mask, self.out_channels, dim=1)
        return (m + noise * torch.exp(logs)) * mask


class CouplingLayer(nn.Module):
    """Mean-only affine coupling: the second half of the channels shifted by a WaveNet of the first."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.half = cfg.inter_channels // 2
        self.pre = nn.Conv1d(self.half, cfg.hidden_channels, 1)
        self.enc = WN(cfg.hidden_channels, 5, cfg.flow_layers, cfg.gin_channels)
        self.post = nn.Conv1d(cfg.hidden_channels, self.half, 1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, g: torch.Tensor,
                reverse: bool = False) -> torch.Tensor:
        x0, x1 = torch.split(x, self.half, dim=1)
        m = self.post(self.enc(self.pre(x0) * mask, mask, g)) * mask
        x1 = (x1 - m) * mask if reverse else m + x1 * mask
        return torch.cat([x0, x1], dim=1)


class Flip(nn.Module):
    """Reverses the channel order (no parameters; kept so indices match the checkpoint)."""

    def forward(self, x: torch.Tensor, *args: object, **kwargs: object) -> torch.Tensor:
        return torch.flip(x, [1])


class ResidualCouplingBlock(nn.Module):
    """``n_flows`` coupling layers, each followed by a Flip; conditioned on a tone colour."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.flows = nn.ModuleList()
        for _ in range(cfg.n_flows):
            self.flows.append(CouplingLayer(cfg))
            self.flows.append(Flip())

    def forward(self, x: torch.Tensor, mask: torch.Tensor, g: torch.Tensor,
                reverse: bool = False) -> torch.Tensor:
        flows = reversed(self.flows) if reverse else self.flows
        for flow in flows:
            x = flow(x, mask, g, reverse=reverse)
        return x


class Generator(nn.Module):
    """HiFi-GAN decoder: latent (B, inter, T) → waveform (B, 1, T·prod(upsample_rates))."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        ch = cfg.upsample_initial_channel
        self.n_kernels = len(cfg.resblock_kernel_sizes)
        self.conv_pre = nn.Conv1d(cfg.inter_channels, ch, 7, padding=3)
        self.cond = nn.Conv1d(cfg.gin_channels, ch, 1)
        self.ups = nn.ModuleList()
        self.resblocks = nn.ModuleList()
        for i, (u, k) in enumerate(zip(cfg.upsample_rates, cfg.upsample_kernel_sizes)):
            c_in, c_out = ch // 2**i, ch // 2 ** (i + 1)
            self.ups.append(WNConvTranspose1d(c_in, c_out, k, u, padding=(k - u) // 2))
            for rk, rd in zip(cfg.resblock_kernel_sizes, cfg.resblock_dilation_sizes):
                self.resblocks.append(ResBlock1(c_out, rk, tuple(rd)))
        self.conv_post = nn.Conv1d(ch // 2 ** len(self.ups), 1, 7, padding=3, bias=False)

    def forward(self, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        x = self.conv_pre(x) + self.cond(g)
        for i, up in enumerate(self.ups):
            x = up(F.leaky_relu(x, LRELU_SLOPE))
            blocks = self.resblocks[i * self.n_kernels:(i + 1) * self.n_kernels]
            x = sum(block(x) for block in blocks) / self.n_kernels
        return torch.tanh(self.conv_post(F.leaky_relu(x)))  # default slope 0.01, as trained


class ReferenceEncoder(nn.Module):
    """Spectrogram frames (B, T, 513) → tone colour (B, gin): LayerNorm, strided 2-D convs, GRU."""

    def __init__(self, spec_channels: int, cfg: ModelConfig) -> None:
        super().__init__()
        self.spec_channels = spec_channels
        filters = (1, *cfg.ref_enc_filters)
        self.convs = nn.ModuleList(WNConv2d(filters[i], filters[i + 1], 3, 2, 1)
                                   for i in range(len(cfg.ref_enc_filters)))
        freq = spec_channels
        for _ in self.convs:
            freq = (freq - 1) // 2 + 1
        self.gru = nn.GRU(filters[-1] * freq, REF_ENC_GRU, batch_first=True)
        self.proj = nn.Linear(REF_ENC_GRU, cfg.gin_channels)
        self.layernorm = nn.LayerNorm(spec_channels)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        n = frames.size(0)
        out = self.layernorm(frames.reshape(n, 1, -1, self.spec_channels))
        for conv in self.convs:
            out = F.relu(conv(out))
        out = out.transpose(1, 2)
        out = out.reshape(n, out.size(1), -1)
        _, h = self.gru(out)
        return self.proj(h.squeeze(0))


class SynthesizerTrn(nn.Module):
    """The converter network. ``voice_conversion`` is the whole conversion for one batch."""

    def __init__(self, config: OpenVoiceConfig) -> None:
        super().__init__()
        cfg = config.model
        self.config = config
        self.zero_g = cfg.zero_g
        self.dec = Generator(cfg)
        self.enc_q = PosteriorEncoder(config.spec_channels, cfg)
        self.flow = ResidualCouplingBlock(cfg)
        self.ref_enc = ReferenceEncoder(config.spec_channels, cfg)

    def voice_conversion(self, spec: torch.Tensor, mask: torch.Tensor, g_src: torch.Tensor,
                         g_tgt: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """spec (B, 513, T), mask (B, 1, T), g_src/g_tgt (B, gin, 1), noise (B, inter, T) already
        multiplied by tau → waveform (B, 1, hop·T)."""
        g_post = torch.zeros_like(g_src) if self.zero_g else g_src
        z = self.enc_q(spec, mask, g_post, noise)
        z_p = self.flow(z, mask, g_src)
        z_hat = self.flow(z_p, mask, g_tgt, reverse=True)
        g_dec = torch.zeros_like(g_tgt) if self.zero_g else g_tgt
        return self.dec(z_hat * mask, g_dec)
