"""AR decoding with length control, and level-by-level NAR filling."""

from __future__ import annotations

import math
from typing import Literal

import torch

from voxclone.codeclm.ar import ARModel
from voxclone.codeclm.nar import NARModel
from voxclone.codeclm.sampling import SamplingConfig, sample_next

LengthMode = Literal["stop_token", "duration_predictor", "length_prompt"]


@torch.no_grad()
def predicted_frames(ar: ARModel, text: torch.Tensor) -> int:
    """Frames the duration predictor gives the whole of ``text`` (Lt,)."""
    lens = torch.tensor([len(text)], device=text.device)
    empty = torch.zeros(1, 0, dtype=torch.long, device=text.device)
    _, states = ar.forward_with_states(text[None], lens, empty, torch.zeros_like(lens))
    return max(1, int(round(math.exp(float(ar.predict_frames(states, lens)[0])))))


@torch.no_grad()
def generate_ar(ar: ARModel, text: torch.Tensor, prompt: torch.Tensor | None = None,
                mode: LengthMode = "stop_token", target_frames: int | None = None,
                max_frames: int = 1500, min_frames: int = 1,
                sampling: SamplingConfig = SamplingConfig(temperature=0.0),
                generator: torch.Generator | None = None) -> torch.Tensor:
    """Level-0 codes (T,) continuing ``prompt`` (Tp,) codes for ``text`` (Lt,) ids (the prompt's
    transcript included).

    stop_token: until the model's EOS (at most ``max_frames``, never before ``min_frames``);
    duration_predictor: exactly the predicted frames of the whole text minus the prompt's;
    length_prompt: exactly ``target_frames`` new frames, the total length fed as the prompt.
    """
    ar.eval()
    dev = text.device
    prompt = torch.zeros(0, dtype=torch.long, device=dev) if prompt is None else prompt.to(dev)
    forced = _forced_length(ar, text, len(prompt), mode, target_frames)
    limit = forced if forced is not None else max_frames
    length = None
    if mode == "length_prompt":
        length = torch.tensor([len(prompt) + limit], device=dev)
    out: list[int] = []
    text_lens = torch.tensor([len(text)], device=dev)
    caches: list[dict] = [{} for _ in ar.blocks]
    logits = ar.forward_with_states(text[None], text_lens, prompt[None],
                                    torch.tensor([len(prompt)], device=dev), length, caches)[0][0, -1]
    for _ in range(limit + 1):
        if forced is not None or len(out) < min_frames:
            if forced is not None and len(out) >= forced:
                break
            logits[ar.eos] = float("-inf")
        code = sample_next(logits, out, sampling, generator)
        if code == ar.eos or len(out) >= limit:
            break
        out.append(code)
        index = len(prompt) + len(out)  # BOS is audio position 0
        logits = ar.step(torch.tensor([code], device=dev), index, caches, length)[0]
    return torch.tensor(out, dtype=torch.long)


def _forced_length(ar: ARModel, text: torch.Tensor, prompt_frames: int, mode: LengthMode,
                   target_frames: int | None) -> int | None:
    if mode == "stop_token":
        return None
    if mode == "duration_predictor":
        return max(1, predicted_frames(ar, text) - prompt_frames)
    if mode == "length_prompt":
        if not target_frames or target_frames < 1:
            raise ValueError("length_prompt decoding needs target_frames >= 1")
        return int(target_frames)
    raise ValueError(f"unknown length mode '{mode}': use stop_token, duration_predictor or "
                     "length_prompt")


@torch.no_grad()
def generate_nar(nar: NARModel, text: torch.Tensor, codes0: torch.Tensor,
                 prompt: torch.Tensor | None = None) -> torch.Tensor:
    """All levels (n_q, T) for level-0 codes ``codes0`` (T,), greedy level by level, after the
    fully known ``prompt`` codes (n_q, Tp)."""
    nar.eval()
    n_q, dev = nar.config.n_q, text.device
    tp = 0 if prompt is None else prompt.shape[1]
    t = tp + len(codes0)
    codes = torch.zeros(1, n_q, t, dtype=torch.long, device=dev)
    if prompt is not None:
        codes[0, :, :tp] = prompt.to(dev)
    codes[0, 0, tp:] = codes0.to(dev)
    lens = torch.tensor([len(text)], device=dev)
    for level in range(1, n_q):
        logits = nar(text[None], lens, codes, torch.tensor([t], device=dev),
                     torch.tensor([level], device=dev), torch.tensor([tp], device=dev))
        codes[0, level, tp:] = logits[0, tp:].argmax(-1)
    return codes[0, :, tp:].cpu()
