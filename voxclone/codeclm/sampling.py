"""Token sampling for the AR: temperature, top-k, top-p and repetition-aware sampling."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class SamplingConfig:
    """temperature: 0 means greedy; top_k / top_p: nucleus filters (0 / 1.0 = off);
    ras_window / ras_threshold: VALL-E 2 repetition-aware sampling — when the sampled code makes up
    more than ``ras_threshold`` of the last ``ras_window`` codes, draw again from the unfiltered
    distribution (0 window = off)."""

    temperature: float = 1.0
    top_k: int = 50
    top_p: float = 0.9
    ras_window: int = 10
    ras_threshold: float = 0.5


def filter_logits(logits: torch.Tensor, top_k: int, top_p: float) -> torch.Tensor:
    """``logits`` (V,) with everything outside top-k and the top-p nucleus set to -inf."""
    out = logits.clone()
    if 0 < top_k < out.numel():
        kth = torch.topk(out, top_k).values[-1]
        out[out < kth] = float("-inf")
    if top_p < 1.0:
        sorted_logits, order = torch.sort(out, descending=True)
        cum = torch.softmax(sorted_logits, -1).cumsum(-1)
        drop = cum - torch.softmax(sorted_logits, -1) > top_p  # keep the first token always
        out[order[drop]] = float("-inf")
    return out


def sample_next(logits: torch.Tensor, history: list[int], cfg: SamplingConfig,
                generator: torch.Generator | None = None) -> int:
    """One code from ``logits`` (V,) given the codes generated so far (drawn on the CPU, so a CPU
    ``generator`` serves any device)."""
    logits = logits.detach().float().cpu()
    if cfg.temperature <= 0:
        return int(torch.argmax(logits))
    scaled = logits / cfg.temperature
    probs = torch.softmax(filter_logits(scaled, cfg.top_k, cfg.top_p), -1)
    code = int(torch.multinomial(probs, 1, generator=generator))
    if cfg.ras_window > 0 and history:
        recent = history[-cfg.ras_window:]
        if recent.count(code) / len(recent) > cfg.ras_threshold:
            code = int(torch.multinomial(torch.softmax(scaled, -1), 1, generator=generator))
    return code
