"""The NAR transformer: [text ; prompt frames (all levels) ; frames with levels < k] → level k."""

from __future__ import annotations

import torch
from torch import nn

from voxclone.codeclm.config import NARConfig
from voxclone.codeclm.layers import Block, positions


class NARModel(nn.Module):
    """Bidirectional; the level k (1..n_q-1) conditions every layer norm and picks the head.

    forward(text (B, Lt), text_lens (B,), codes (B, n_q, T) with at least levels < k filled,
    code_lens (B,), level (B,) int in 1..n_q-1, prompt_lens (B,) frames at the start whose every
    level is given) → logits (B, T, n_codes) for level k at each frame.
    """

    def __init__(self, config: NARConfig) -> None:
        super().__init__()
        self.config = config
        d, k = config.d_model, config.n_codes
        self.text_emb = nn.Embedding(config.n_text, d)
        self.audio_emb = nn.ModuleList(nn.Embedding(k, d) for _ in range(config.n_q))
        self.level_emb = nn.Embedding(config.n_q, d)
        self.blocks = nn.ModuleList(Block(d, config.n_heads, config.ffn_mult, config.dropout, adaptive=True)
                                    for _ in range(config.n_layers))
        self.norm = nn.LayerNorm(d)
        self.head_weight = nn.Parameter(torch.randn(config.n_q - 1, k, d) * d**-0.5)
        self.head_bias = nn.Parameter(torch.zeros(config.n_q - 1, k))

    def forward(self, text: torch.Tensor, text_lens: torch.Tensor, codes: torch.Tensor,
                code_lens: torch.Tensor, level: torch.Tensor,
                prompt_lens: torch.Tensor | None = None) -> torch.Tensor:
        b, lt = text.shape
        n_q, t = codes.shape[1], codes.shape[2]
        d, dev = self.config.d_model, text.device
        prompt_lens = torch.zeros_like(code_lens) if prompt_lens is None else prompt_lens
        t_valid = torch.arange(lt, device=dev)[None] < text_lens[:, None]
        frame = torch.arange(t, device=dev)[None]
        a_valid = frame < code_lens[:, None]
        in_prompt = frame < prompt_lens[:, None]  # (B, T)
        xa = torch.zeros(b, t, d, device=dev)
        for lvl in range(n_q):
            use = in_prompt | (lvl < level[:, None])  # (B, T)
            xa = xa + self.audio_emb[lvl](codes[:, lvl].clamp(0, self.config.n_codes - 1)) * use[..., None]
        xa = xa + positions(a_valid, d)
        xt = self.text_emb(text) + positions(t_valid, d)
        valid = torch.cat([t_valid, a_valid], dim=1)
        x = torch.cat([xt, xa], dim=1) * valid[..., None]
        s = x.shape[1]
        mask = valid[:, None, :] | torch.eye(s, dtype=torch.bool, device=dev)[None]
        cond = self.level_emb(level)
        for block in self.blocks:
            x = block(x, mask, cond)
        h = self.norm(x[:, lt:])
        w, bias = self.head_weight[level - 1], self.head_bias[level - 1]  # (B, K, d), (B, K)
        return torch.einsum("btd,bkd->btk", h, w) + bias[:, None]
