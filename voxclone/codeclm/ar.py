"""The AR transformer: decoder-only over [text ; BOS, codebook 0], predicting codebook 0 and EOS."""

from __future__ import annotations

import math

import torch
from torch import nn

from voxclone.codeclm.config import ARConfig
from voxclone.codeclm.layers import Block, positions, sinusoids

MAX_BUCKET_FRAMES = 3000  # 40 s at 75 Hz: the top length-prompt bucket


def length_bucket(frames: torch.Tensor, n_buckets: int) -> torch.Tensor:
    """Log-spaced bucket (0..n_buckets-1) of a frame count (B,)."""
    x = torch.log(frames.float().clamp(min=1)) / math.log(MAX_BUCKET_FRAMES)
    return (x * (n_buckets - 1)).round().long().clamp(0, n_buckets - 1)


class ARModel(nn.Module):
    """Text is a bidirectional prefix; audio positions attend the text and earlier audio.

    forward(text (B, Lt) int, text_lens (B,), codes (B, T) int level-0 codes, code_lens (B,),
    length (B,) target frames for the length prompt or None) → logits (B, T + 1, n_codes + 1):
    position t predicts code t (position T the EOS) from BOS, codes < t and the text.
    """

    def __init__(self, config: ARConfig) -> None:
        super().__init__()
        self.config = config
        d = config.d_model
        self.eos, self.bos = config.n_codes, config.n_codes + 1
        self.text_emb = nn.Embedding(config.n_text, d)
        self.audio_emb = nn.Embedding(config.n_codes + 2, d)
        self.length_emb = nn.Embedding(config.length_buckets, d) if config.length_buckets else None
        self.blocks = nn.ModuleList(Block(d, config.n_heads, config.ffn_mult, config.dropout)
                                    for _ in range(config.n_layers))
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, config.n_codes + 1)
        self.duration = (nn.Sequential(nn.Linear(d, d), nn.GELU(), nn.Linear(d, 1))
                         if config.duration_predictor else None)

    def forward(self, text: torch.Tensor, text_lens: torch.Tensor, codes: torch.Tensor,
                code_lens: torch.Tensor, length: torch.Tensor | None = None) -> torch.Tensor:
        logits, _ = self.forward_with_states(text, text_lens, codes, code_lens, length)
        return logits

    def forward_with_states(self, text, text_lens, codes, code_lens, length=None, caches=None):
        """Logits as :meth:`forward` and the final states of the text positions (B, Lt, d);
        ``caches`` (one dict per layer) collects keys/values for :meth:`step`."""
        b, lt = text.shape
        bos = torch.full((b, 1), self.bos, dtype=codes.dtype, device=codes.device)
        audio = torch.cat([bos, codes], dim=1)  # (B, T + 1)
        d = self.config.d_model
        t_valid = torch.arange(lt, device=text.device)[None] < text_lens[:, None]
        a_valid = torch.arange(audio.shape[1], device=text.device)[None] < (code_lens[:, None] + 1)
        xt = self.text_emb(text) + positions(t_valid, d)
        xa = self.audio_emb(audio.clamp(0, self.bos)) + positions(a_valid, d)
        if length is not None and self.length_emb is not None:
            xa = xa + self.length_emb(length_bucket(length, self.config.length_buckets))[:, None]
        x = torch.cat([xt, xa], dim=1) * torch.cat([t_valid, a_valid], dim=1)[..., None]
        mask = prefix_causal_mask(t_valid, a_valid)
        for i, block in enumerate(self.blocks):
            x = block(x, mask, cache=None if caches is None else caches[i])
        x = self.norm(x)
        return self.head(x[:, lt:]), x[:, :lt]

    def step(self, code: torch.Tensor, index: int, caches: list[dict],
             length: torch.Tensor | None = None) -> torch.Tensor:
        """Incremental decoding: logits (B, n_codes + 1) after appending ``code`` (B,) as audio
        position ``index`` (BOS is 0), given the caches of every earlier position (batch of one,
        or rows without padding)."""
        d = self.config.d_model
        x = self.audio_emb(code.clamp(0, self.bos))[:, None] + sinusoids(index + 1, d, code.device)[index]
        if length is not None and self.length_emb is not None:
            x = x + self.length_emb(length_bucket(length, self.config.length_buckets))[:, None]
        keys = caches[0]["k"].shape[2] + 1
        mask = torch.ones(code.shape[0], 1, keys, dtype=torch.bool, device=code.device)
        for block, cache in zip(self.blocks, caches):
            x = block(x, mask, cache=cache)
        return self.head(self.norm(x))[:, -1]

    def predict_frames(self, text_states: torch.Tensor, text_lens: torch.Tensor) -> torch.Tensor:
        """Duration predictor: log frames (B,) from the text states (B, Lt, d)."""
        if self.duration is None:
            raise ValueError("this AR was built without a duration predictor")
        valid = (torch.arange(text_states.shape[1], device=text_states.device)[None]
                 < text_lens[:, None]).float()
        pooled = (text_states * valid[..., None]).sum(1) / valid.sum(1, keepdim=True).clamp(min=1)
        return self.duration(pooled).squeeze(-1)


def prefix_causal_mask(t_valid: torch.Tensor, a_valid: torch.Tensor) -> torch.Tensor:
    """(B, S, S) attention mask of a prefix LM: text keys for everyone, audio keys causally for
    audio queries, padding never (a padding query sees itself, so no row is empty)."""
    lt, la = t_valid.shape[1], a_valid.shape[1]
    s = lt + la
    dev = t_valid.device
    valid = torch.cat([t_valid, a_valid], dim=1)
    is_text = torch.arange(s, device=dev) < lt
    causal = torch.ones(s, s, dtype=torch.bool, device=dev).tril()
    allowed = is_text[None, :] | (~is_text[:, None] & causal)
    mask = allowed[None] & valid[:, None, :]
    return mask | torch.eye(s, dtype=torch.bool, device=dev)[None]
