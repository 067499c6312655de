"""Transformer parts: sinusoidal positions, attention with an explicit mask, pre-norm blocks and
the adaptive layer norm of the NAR."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def sinusoids(length: int, dim: int, device: torch.device | None = None) -> torch.Tensor:
    """Sinusoidal position table (length, dim)."""
    pos = torch.arange(length, device=device, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, dim, 2, device=device, dtype=torch.float32)
                     * (-math.log(10000.0) / dim))
    table = torch.zeros(length, dim, device=device)
    table[:, 0::2] = torch.sin(pos * freq)
    table[:, 1::2] = torch.cos(pos * freq[: dim // 2])
    return table


def positions(lengths_mask: torch.Tensor, dim: int) -> torch.Tensor:
    """Per-row positions of the True entries of ``lengths_mask`` (B, S) → embeddings (B, S, dim),
    zero where the mask is False."""
    idx = (torch.cumsum(lengths_mask.long(), dim=1) - 1).clamp(min=0)
    table = sinusoids(int(lengths_mask.shape[1]), dim, lengths_mask.device)
    return table[idx] * lengths_mask[..., None]


class Attention(nn.Module):
    """Multi-head self-attention; ``mask`` (B, S, S) is True where a query may attend a key."""

    def __init__(self, d_model: int, n_heads: int, dropout: float) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)
        self.dropout = dropout
        self.last_weights: torch.Tensor | None = None
        self.keep_weights = False

    def forward(self, x: torch.Tensor, mask: torch.Tensor, cache: dict | None = None) -> torch.Tensor:
        """``mask`` (B, S_new, S_all); ``cache`` (incremental decoding) keeps keys/values of
        earlier positions and gains those of ``x``."""
        b, s, d = x.shape
        q, k, v = self.qkv(x).view(b, s, 3, self.n_heads, d // self.n_heads).permute(2, 0, 3, 1, 4)
        if cache is not None:
            if "k" in cache:
                k, v = torch.cat([cache["k"], k], dim=2), torch.cat([cache["v"], v], dim=2)
            cache["k"], cache["v"] = k, v
        if self.keep_weights:  # explicit softmax so the weights can be inspected (validation only)
            scores = q @ k.transpose(-1, -2) / math.sqrt(d // self.n_heads)
            w = scores.masked_fill(~mask[:, None], float("-inf")).softmax(-1)
            self.last_weights = w.detach()
            y = w @ v
        else:
            p = self.dropout if self.training else 0.0
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask[:, None], dropout_p=p)
        return self.out(y.transpose(1, 2).reshape(b, s, d))


class AdaptiveLayerNorm(nn.Module):
    """LayerNorm whose scale and shift come from a condition vector: (1 + γ(c))·norm(x) + β(c).

    The projection starts at zero, so at initialisation it equals a plain LayerNorm.
    """

    def __init__(self, d_model: int, adaptive: bool = True) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(d_model)
        self.proj = nn.Linear(d_model, 2 * d_model) if adaptive else None
        if self.proj is not None:
            nn.init.zeros_(self.proj.weight)
            nn.init.zeros_(self.proj.bias)

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None) -> torch.Tensor:
        y = self.norm(x)
        if cond is None or self.proj is None:
            return y
        gamma, beta = self.proj(cond)[:, None].chunk(2, dim=-1)
        return (1.0 + gamma) * y + beta


class Block(nn.Module):
    """Pre-norm transformer block; ``cond`` (B, d) feeds adaptive layer norms when given."""

    def __init__(self, d_model: int, n_heads: int, ffn_mult: int, dropout: float,
                 adaptive: bool = False) -> None:
        super().__init__()
        self.norm1 = AdaptiveLayerNorm(d_model, adaptive)
        self.attn = Attention(d_model, n_heads, dropout)
        self.norm2 = AdaptiveLayerNorm(d_model, adaptive)
        self.ffn = nn.Sequential(nn.Linear(d_model, ffn_mult * d_model), nn.GELU(),
                                 nn.Dropout(dropout), nn.Linear(ffn_mult * d_model, d_model))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, cond: torch.Tensor | None = None,
                cache: dict | None = None) -> torch.Tensor:
        x = x + self.drop(self.attn(self.norm1(x, cond), mask, cache))
        return x + self.drop(self.ffn(self.norm2(x, cond)))
