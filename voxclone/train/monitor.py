"""Training monitors: codebook use, attention entropy, per-module gradient norms, non-finite
steps, loss spikes, the JSONL log and its PNG curves."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from voxclone.codeclm.layers import Attention
from voxclone.errors import VoxcloneError


class TrainingDiverged(VoxcloneError):
    """Too many steps had a non-finite loss or gradient; lower the LR or check the data."""


def code_usage(codes: torch.Tensor, n_codes: int) -> dict[str, float]:
    """Use of one codebook by ``codes`` (any shape, ints in [0, n_codes)): perplexity
    (exp entropy; n_codes when uniform, 1 for a constant), codes used and dead (never used)."""
    counts = torch.bincount(codes.reshape(-1).long(), minlength=n_codes).double()
    p = counts / counts.sum().clamp(min=1)
    nz = p[p > 0]
    entropy = float(-(nz * nz.log()).sum())
    used = int((counts > 0).sum())
    return {"perplexity": math.exp(entropy), "used": used, "dead": n_codes - used}


def attention_entropy(model: nn.Module, run: Any) -> list[float]:
    """Mean attention entropy (nats) per layer over valid queries while ``run()`` calls the model
    once; uniform attention over T keys gives ln T. Only for validation: it uses the slow path."""
    attns = [m for m in model.modules() if isinstance(m, Attention)]
    for a in attns:
        a.keep_weights = True
    try:
        with torch.no_grad():
            run()
        out = []
        for a in attns:
            w = a.last_weights  # (B, H, S, S)
            ent = -(w * torch.log(w.clamp(min=1e-12))).sum(-1)  # (B, H, S)
            out.append(float(ent.mean()))
        return out
    finally:
        for a in attns:
            a.keep_weights, a.last_weights = False, None


def grad_norms(modules: dict[str, nn.Module]) -> dict[str, float]:
    """L2 gradient norm per named module and per child (``ar.blocks.3``, ``nar.text_emb``...)."""
    out: dict[str, float] = {}
    for prefix, module in modules.items():
        groups: dict[str, list[torch.Tensor]] = {}
        for name, p in module.named_parameters():
            if p.grad is None:
                continue
            parts = name.split(".")
            key = ".".join(parts[:2]) if parts[0] == "blocks" else parts[0]
            groups.setdefault(f"{prefix}.{key}", []).append(p.grad.detach().float())
        for key, grads in groups.items():
            out[key] = float(torch.sqrt(sum((g**2).sum() for g in grads)))
    return out


class NonFiniteGuard:
    """Counts skipped steps with a non-finite loss or gradient; raises after ``limit``."""

    def __init__(self, limit: int) -> None:
        self.limit, self.count = limit, 0

    def check(self, value: float, step: int) -> bool:
        """True when ``value`` is finite; else count it (and abort past the limit)."""
        if math.isfinite(value):
            return True
        self.count += 1
        if self.count > self.limit:
            raise TrainingDiverged(f"{self.count} non-finite steps (last at step {step}): lower "
                                   "optim.lr, keep optim.grad_clip on, or check the data.")
        return False


@dataclass
class SpikeDetector:
    """Exponential moving mean/variance of the loss; a z-score over ``z`` is a spike."""

    z: float = 6.0
    decay: float = 0.98
    mean: float = 0.0
    var: float = 0.0
    n: int = 0

    def update(self, loss: float) -> float | None:
        """The z-score of ``loss`` when it is a spike (after 20 warm-up steps), else None."""
        spike = None
        if self.n >= 20:
            score = (loss - self.mean) / math.sqrt(self.var + 1e-8)
            if score > self.z:
                spike = score
        if spike is None:
            delta = loss - self.mean
            self.mean += (1 - self.decay) * delta if self.n else delta
            self.var = self.decay * (self.var + (1 - self.decay) * delta**2) if self.n else 0.0
            self.n += 1
        return spike

    def state_dict(self) -> dict[str, float]:
        return {"mean": self.mean, "var": self.var, "n": self.n}

    def load_state_dict(self, s: dict[str, float]) -> None:
        self.mean, self.var, self.n = float(s["mean"]), float(s["var"]), int(s["n"])


class JsonlLog:
    """One JSON object per line; the source of truth for the curves."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, record: dict[str, Any]) -> None:
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")

    def read(self) -> list[dict[str, Any]]:
        if not self.path.is_file():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]

    def truncate_after(self, step: int) -> None:
        """Drop records past ``step`` (a resumed run rewrites them)."""
        keep = [r for r in self.read() if r.get("step", 0) <= step]
        self.path.write_text("".join(json.dumps(r) + "\n" for r in keep))


def plot_curves(records: list[dict[str, Any]], path: Path) -> Path:
    """PNG of train/val losses, accuracies, LR and teacher forcing over steps."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("loss", ["ar_loss", "nar_loss", "val_ar_loss", "val_nar_loss"]),
              ("accuracy", ["ar_acc", "nar_acc", "val_ar_acc", "val_nar_acc"]),
              ("schedule", ["lr_factor", "teacher_forcing", "replaced"]),
              ("grad norm", ["grad_norm"])]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 3.4))
    for ax, (title, keys) in zip(axes, panels):
        for key in keys:
            pts = [(r["step"], r[key]) for r in records if key in r and r[key] is not None]
            if pts:
                ax.plot(*zip(*pts), label=key, marker="." if key.startswith("val") else None)
        ax.set_title(title)
        ax.set_xlabel("step")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return Path(path)
