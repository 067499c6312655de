"""The Soprano LM: a stock transformers ``Qwen3ForCausalLM``, and a one-call step over it with an
explicit key/value cache (the form the torch backend runs and the ONNX export traces).

Step inputs: ``input_ids`` (B, S) int64, ``attention_mask`` (B, P+S) int64 (0 = left padding),
``position_ids`` (B, S) int64, and per layer i the past ``key``/``value`` (B, kv_heads, P, head_dim)
float32 (P may be 0). Outputs: ``logits`` (B, S, vocab), ``last_hidden_state`` (B, S, hidden) — the
post-final-norm state that feeds the decoder — and the present keys/values (B, kv_heads, P+S, D).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

_MASKED = -1e9  # finite, so a fully masked (padding) row stays a number


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    """(…, D) → (-x2, x1) halves, the half-split rotary convention of Qwen3."""
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


class Qwen3Step(nn.Module):
    """One forward over new tokens given the past keys/values, built from ``lm``'s own modules."""

    def __init__(self, lm: Any) -> None:
        super().__init__()
        self.lm = lm
        cfg = lm.config
        self.heads = cfg.num_attention_heads
        self.kv_heads = cfg.num_key_value_heads
        self.head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // self.heads
        self.num_layers = cfg.num_hidden_layers

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                position_ids: torch.Tensor, *past: torch.Tensor) -> tuple[torch.Tensor, ...]:
        model = self.lm.model
        x = model.embed_tokens(input_ids)
        cos, sin = model.rotary_emb(x, position_ids)
        bias = self._mask_bias(attention_mask, input_ids.shape[1])
        present: list[torch.Tensor] = []
        for i, layer in enumerate(model.layers):
            h, key, value = self._attention(layer, layer.input_layernorm(x), cos, sin, bias,
                                            past[2 * i], past[2 * i + 1])
            x = x + h
            x = x + layer.mlp(layer.post_attention_layernorm(x))
            present += [key, value]
        hidden = model.norm(x)
        return (self.lm.lm_head(hidden), hidden, *present)

    @staticmethod
    def _mask_bias(attention_mask: torch.Tensor, new: int) -> torch.Tensor:
        """(B, 1, 1, S, P+S) additive bias: 0 where a query may attend, -1e9 elsewhere."""
        total = attention_mask.shape[1]
        keys = torch.arange(total, device=attention_mask.device)
        queries = keys[total - new:]
        causal = keys[None, :] <= queries[:, None]  # (S, P+S)
        allowed = causal[None] & (attention_mask[:, None, :] > 0)
        zero = torch.zeros((), dtype=torch.float32)
        return torch.where(allowed, zero, torch.full((), _MASKED))[:, None, None]

    def _attention(self, layer: Any, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor,
                   bias: torch.Tensor, past_key: torch.Tensor, past_value: torch.Tensor
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        attn = layer.self_attn
        batch, new, _ = x.shape
        d, kv, groups = self.head_dim, self.kv_heads, self.heads // self.kv_heads
        q = attn.q_norm(attn.q_proj(x).view(batch, new, self.heads, d)).transpose(1, 2)
        k = attn.k_norm(attn.k_proj(x).view(batch, new, kv, d)).transpose(1, 2)
        v = attn.v_proj(x).view(batch, new, kv, d).transpose(1, 2)
        cos, sin = cos[:, None], sin[:, None]
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        key = torch.cat([past_key, k], dim=2)
        value = torch.cat([past_value, v], dim=2)
        q = q.reshape(batch, kv, groups, new, d)
        scores = torch.matmul(q, key[:, :, None].transpose(-1, -2)) * d ** -0.5 + bias
        out = torch.matmul(torch.softmax(scores, dim=-1), value[:, :, None])
        out = out.reshape(batch, self.heads, new, d).transpose(1, 2).reshape(batch, new, -1)
        return attn.o_proj(out), key, value

    def empty_past(self, batch: int) -> list[torch.Tensor]:
        """Keys and values of length 0 for every layer: [k0, v0, k1, v1, ...]."""
        return [torch.zeros(batch, self.kv_heads, 0, self.head_dim)
                for _ in range(2 * self.num_layers)]
