"""Learning-rate and teacher-forcing schedules (pure functions of the step)."""

from __future__ import annotations

import math


def lr_factor(step: int, warmup: int, total: int, decay: str, min_ratio: float) -> float:
    """Multiplier of the base LR at ``step``: linear warmup over ``warmup`` steps, then cosine or
    linear decay to ``min_ratio`` at ``total`` (or constant for ``none``)."""
    if warmup > 0 and step < warmup:
        return (step + 1) / warmup
    if decay == "none" or total <= warmup:
        return 1.0
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    if decay == "linear":
        shape = 1.0 - progress
    else:
        shape = 0.5 * (1.0 + math.cos(math.pi * progress))
    return min_ratio + (1.0 - min_ratio) * shape


def teacher_forcing(step: int, start: float, end: float, start_step: int, end_step: int) -> float:
    """Probability of feeding the true code at ``step``: ``start`` until start_step, linear to
    ``end`` at end_step, ``end`` after."""
    if end_step <= start_step:
        return start if step < start_step else end
    if step <= start_step:
        return start
    if step >= end_step:
        return end
    return start + (end - start) * (step - start_step) / (end_step - start_step)
