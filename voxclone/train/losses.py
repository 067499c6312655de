"""Training losses: the AR's (teacher forcing or scheduled sampling, + duration) and the NAR's
(random level, random prefix prompt, optional corruption of the lower levels)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from voxclone.codeclm.ar import ARModel
from voxclone.codeclm.nar import NARModel
from voxclone.train.config import NARTrainConfig
from voxclone.train.data import Batch

IGNORE = -100


def ar_loss(ar: ARModel, b: Batch, p_tf: float, length_control: str, duration_weight: float,
            gen: torch.Generator | None = None) -> tuple[torch.Tensor, dict[str, float], torch.Tensor]:
    """Cross-entropy on codes 0..T-1 and EOS (+ duration loss on log frames), its metrics, and
    the argmax codes (B, T) (-1 at padding). Below ``p_tf`` = 1 the input codes are partly the
    model's own samples (scheduled sampling)."""
    codes0, lens = b.codes[:, 0], b.code_lens
    bsz, t = codes0.shape
    valid = torch.arange(t, device=codes0.device)[None] < lens[:, None]
    targets = torch.full((bsz, t + 1), IGNORE, dtype=torch.long, device=codes0.device)
    targets[:, :t] = torch.where(valid, codes0, IGNORE)
    targets[torch.arange(bsz), lens] = ar.eos
    length = lens if length_control == "length_prompt" else None
    inputs, replaced = codes0, 0.0
    if p_tf < 1.0:
        inputs, replaced = scheduled_inputs(ar, b, valid, length, p_tf, gen)
    logits, states = ar.forward_with_states(b.text, b.text_lens, inputs, lens, length)
    loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), targets.reshape(-1),
                           ignore_index=IGNORE)
    pred = logits.argmax(-1)
    keep = targets != IGNORE
    metrics = {"ar_loss": float(loss.detach()), "ar_acc": float((pred == targets)[keep].float().mean()),
               "replaced": replaced}
    if ar.duration is not None:
        dur = F.mse_loss(ar.predict_frames(states, b.text_lens).float(), lens.float().log())
        metrics["dur_loss"] = float(dur.detach())
        loss = loss + duration_weight * dur
    return loss, metrics, torch.where(valid, pred[:, :t], -1)


def scheduled_inputs(ar: ARModel, b: Batch, valid: torch.Tensor, length: torch.Tensor | None,
                     p_tf: float, gen: torch.Generator | None) -> tuple[torch.Tensor, float]:
    """Level-0 input codes with each replaced, with probability 1 - ``p_tf``, by a sample of the
    model's own prediction (a no-grad pass first); and the share replaced."""
    codes0 = b.codes[:, 0]
    with torch.no_grad():
        logits = ar(b.text, b.text_lens, codes0, b.code_lens, length)[:, :-1, : ar.eos]
        probs = torch.softmax(logits.float(), -1).reshape(-1, logits.shape[-1]).cpu()
    sampled = torch.multinomial(probs, 1, generator=gen).view(codes0.shape).to(codes0.device)
    draw = torch.rand(codes0.shape, generator=gen).to(codes0.device)
    swap = (draw >= p_tf) & valid
    return torch.where(swap, sampled, codes0), float(swap.sum()) / max(1, int(valid.sum()))


def nar_loss(nar: NARModel, b: Batch, n: NARTrainConfig, gen: torch.Generator | None = None
             ) -> tuple[torch.Tensor, dict[str, float]]:
    """Cross-entropy at one random level per item, on the frames after its random prefix prompt.
    Random draws are made on the CPU (``gen`` or the global generator), so they do not depend on
    the device."""
    bsz, n_q, t = b.codes.shape
    dev = b.codes.device
    level = torch.randint(1, n_q, (bsz,), generator=gen).to(dev)
    frac = (torch.rand(bsz, generator=gen) * (n.prompt_max - n.prompt_min) + n.prompt_min).to(dev)
    prompt = torch.minimum((frac * b.code_lens).long().clamp(max=n.prompt_max_frames), b.code_lens - 1)
    frame = torch.arange(t, device=dev)[None]
    codes = b.codes
    if n.corruption > 0:
        noise = torch.randint(0, nar.config.n_codes, codes.shape, generator=gen).to(dev)
        hit = torch.rand(codes.shape, generator=gen).to(dev) < n.corruption
        lower = torch.arange(n_q, device=dev)[None, :, None] < level[:, None, None]
        codes = torch.where(hit & lower & (frame >= prompt[:, None])[:, None], noise, codes)
    logits = nar(b.text, b.text_lens, codes, b.code_lens, level, prompt)
    target = b.codes[torch.arange(bsz), level]
    keep = (frame >= prompt[:, None]) & (frame < b.code_lens[:, None])
    loss = F.cross_entropy(logits[keep].float(), target[keep])
    acc = float((logits[keep].argmax(-1) == target[keep]).float().mean())
    return loss, {"nar_loss": float(loss.detach()), "nar_acc": acc}
