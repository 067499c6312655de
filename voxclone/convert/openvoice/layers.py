"""Building blocks: weight-normalised convolutions (legacy ``weight_g``/``weight_v`` parameters),
the gated WaveNet stack ``WN`` and the HiFi-GAN residual block ``ResBlock1``."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

LRELU_SLOPE = 0.1


def _norm_except_dim0(v: torch.Tensor) -> torch.Tensor:
    """L2 norm of ``v`` over every dimension but the first, shaped (d0, 1, ..., 1)."""
    return v.flatten(1).norm(dim=1).view(-1, *([1] * (v.dim() - 1)))


class WeightNorm(nn.Module):
    """Mixin before a convolution class: ``weight = weight_g * weight_v / ||weight_v||`` (norm
    over all dims but 0, no eps), used by the convolution's own ``_conv_forward``.

    The parameters carry the names of ``torch.nn.utils.weight_norm`` so checkpoints load as
    they are. ``freeze()`` computes the weight once for inference.
    """

    weight_g: nn.Parameter
    weight_v: nn.Parameter

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)  # the convolution class after this mixin
        self._split_weight()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(x, self.norm_weight(), self.bias)

    def _split_weight(self) -> None:
        w = self._parameters.pop("weight").detach()
        self.weight_g = nn.Parameter(_norm_except_dim0(w))
        self.weight_v = nn.Parameter(w.clone())
        self._frozen: torch.Tensor | None = None

    def norm_weight(self) -> torch.Tensor:
        """The effective weight."""
        if self._frozen is not None:
            return self._frozen
        return self.weight_g * self.weight_v / _norm_except_dim0(self.weight_v)

    def freeze(self) -> None:
        """Cache the effective weight (call after loading, before inference)."""
        self._frozen = None
        with torch.no_grad():
            self._frozen = self.norm_weight().detach().clone()


class WNConv1d(WeightNorm, nn.Conv1d):
    """Weight-normalised Conv1d."""


class WNConvTranspose1d(WeightNorm, nn.ConvTranspose1d):
    """Weight-normalised ConvTranspose1d (``weight_g`` per input channel)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv_transpose1d(x, self.norm_weight(), self.bias, self.stride, self.padding,
                                  self.output_padding, self.groups, self.dilation)


class WNConv2d(WeightNorm, nn.Conv2d):
    """Weight-normalised Conv2d."""


def freeze_weight_norm(module: nn.Module) -> None:
    """Cache every weight-normalised layer's weight inside ``module``."""
    for m in module.modules():
        if isinstance(m, WeightNorm):
            m.freeze()


class WN(nn.Module):
    """Gated, conditioned WaveNet stack (non-causal, dilation 1).

    x: (B, hidden, T), mask: (B, 1, T), g: (B, gin, 1) → (B, hidden, T).
    """

    def __init__(self, hidden: int, kernel_size: int, n_layers: int, gin_channels: int) -> None:
        super().__init__()
        self.hidden = hidden
        self.n_layers = n_layers
        self.cond_layer = WNConv1d(gin_channels, 2 * hidden * n_layers, 1)
        self.in_layers = nn.ModuleList(
            WNConv1d(hidden, 2 * hidden, kernel_size, padding=kernel_size // 2) for _ in range(n_layers))
        self.res_skip_layers = nn.ModuleList(
            WNConv1d(hidden, 2 * hidden if i < n_layers - 1 else hidden, 1) for i in range(n_layers))

    def forward(self, x: torch.Tensor, mask: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        out = torch.zeros_like(x)
        cond = self.cond_layer(g)
        h2 = 2 * self.hidden
        for i, (inp, res_skip) in enumerate(zip(self.in_layers, self.res_skip_layers)):
            a = inp(x) + cond[:, i * h2:(i + 1) * h2]
            acts = torch.tanh(a[:, :self.hidden]) * torch.sigmoid(a[:, self.hidden:])
            rs = res_skip(acts)
            if i < self.n_layers - 1:
                x = (x + rs[:, :self.hidden]) * mask
                out = out + rs[:, self.hidden:]
            else:
                out = out + rs
        return out * mask


class ResBlock1(nn.Module):
    """HiFi-GAN residual block: per dilation, lrelu → dilated conv → lrelu → conv, added back.

    x: (B, C, T) → (B, C, T).
    """

    def __init__(self, channels: int, kernel_size: int, dilations: tuple[int, ...]) -> None:
        super().__init__()
        self.convs1 = nn.ModuleList(
            WNConv1d(channels, channels, kernel_size, dilation=d, padding=(kernel_size * d - d) // 2)
            for d in dilations)
        self.convs2 = nn.ModuleList(
            WNConv1d(channels, channels, kernel_size, padding=(kernel_size - 1) // 2)
            for _ in dilations)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for c1, c2 in zip(self.convs1, self.convs2):
            xt = c2(F.leaky_relu(c1(F.leaky_relu(x, LRELU_SLOPE)), LRELU_SLOPE))
            x = x + xt
        return x
