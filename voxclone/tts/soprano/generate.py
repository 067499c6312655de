"""Batched generation over an LM step backend, with the official hidden-state convention.

Every sentence of a text is one row of a batch (left-padded prompts). For each generated token
other than ``[STOP]`` the decoder gets the post-final-norm state that *emitted* it:
[h([START]), h(a0), …, h(a_{n-2})]. A row ends on ``[STOP]`` or after ``max_new_tokens``; ended rows
leave the batch (their cache rows are dropped).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, Protocol, Sequence

import numpy as np

from voxclone.timing import StageTimer, maybe_stage
from voxclone.tts.soprano.config import STOP_ID, GenerationConfig
from voxclone.tts.soprano.sampling import choose


class LMRunner(Protocol):
    """One backend's LM step (see :mod:`voxclone.tts.soprano.lm` for the tensor layout)."""

    vocab_size: int

    def empty_past(self, batch: int) -> Any:
        """The cache of zero length for ``batch`` rows."""
        ...

    def run(self, input_ids: np.ndarray, attention_mask: np.ndarray, position_ids: np.ndarray,
            past: Any) -> tuple[np.ndarray, np.ndarray, Any]:
        """→ logits (B, V) and hidden state (B, H) at the last position, and the new cache."""
        ...

    def select(self, past: Any, rows: np.ndarray) -> Any:
        """The cache of the rows ``rows`` only."""
        ...


@dataclass
class Generated:
    """One sentence's output: audio token ids (no ``[STOP]``), the states (n, H) float32 that
    emitted them, and why it ended ("stop" or "length")."""

    tokens: list[int] = field(default_factory=list)
    hidden: list[np.ndarray] = field(default_factory=list)
    finish_reason: str | None = None

    def states(self) -> np.ndarray:
        """(n, H) float32."""
        return np.stack(self.hidden) if self.hidden else np.zeros((0, 0), np.float32)


@dataclass(frozen=True)
class TokenEvent:
    """One step of one row: ``token`` (or None when the row just ended) and its emitting state."""

    row: int
    token: int | None
    hidden: np.ndarray | None
    finish_reason: str | None = None


def left_pad(prompts: Sequence[Sequence[int]], pad_id: int = STOP_ID
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Left-padded ids, mask and positions (B, L) int64; a row's positions count from its start."""
    length = max(len(p) for p in prompts)
    ids = np.full((len(prompts), length), pad_id, dtype=np.int64)
    mask = np.zeros_like(ids)
    for i, p in enumerate(prompts):
        ids[i, length - len(p):] = p
        mask[i, length - len(p):] = 1
    positions = np.maximum(np.cumsum(mask, axis=1) - 1, 0)
    return ids, mask, positions


def iter_tokens(runner: LMRunner, prompts: Sequence[Sequence[int]], cfg: GenerationConfig,
                timer: StageTimer | None = None, limits: Sequence[int] | None = None
                ) -> Iterator[TokenEvent]:
    """Generate every prompt at once; yield each row's tokens as they come.

    ``limits``: a token cap per row (default ``cfg.max_new_tokens`` for all; benchmarks on
    random weights, which never emit ``[STOP]``, give each sentence its real length this way).
    """
    caps = np.array(limits if limits is not None else [cfg.max_new_tokens] * len(prompts))
    rng = np.random.default_rng(cfg.seed)
    ids, mask, positions = left_pad(prompts)
    seen = np.zeros((len(prompts), runner.vocab_size), dtype=bool)
    for i, p in enumerate(prompts):
        seen[i, list(p)] = True
    with maybe_stage(timer, "lm_prefill"):
        logits, hidden, past = runner.run(ids, mask, positions, runner.empty_past(len(prompts)))
    active = np.arange(len(prompts))
    for step in range(int(caps.max())):
        tokens = choose(logits, seen[active], cfg, rng)
        last = step + 1 >= caps[active]
        for j, (row, token) in enumerate(zip(active, tokens)):
            if token == STOP_ID:
                yield TokenEvent(int(row), None, None, "stop")
                continue
            seen[row, token] = True
            yield TokenEvent(int(row), int(token), hidden[j])
            if last[j]:
                yield TokenEvent(int(row), None, None, "length")
        keep = (tokens != STOP_ID) & ~last
        if not keep.any():
            return
        with maybe_stage(timer, "lm_steps"):
            if not keep.all():
                past = runner.select(past, np.flatnonzero(keep))
                active, mask, tokens = active[keep], mask[keep], tokens[keep]
            mask = np.concatenate([mask, np.ones((len(active), 1), np.int64)], axis=1)
            positions = mask.sum(axis=1, keepdims=True) - 1
            logits, hidden, past = runner.run(tokens[:, None], mask, positions, past)


def generate(runner: LMRunner, prompts: Sequence[Sequence[int]], cfg: GenerationConfig,
             timer: StageTimer | None = None, limits: Sequence[int] | None = None
             ) -> list[Generated]:
    """Generate every prompt at once; one :class:`Generated` per prompt (``limits``: see
    :func:`iter_tokens`)."""
    out = [Generated() for _ in prompts]
    for event in iter_tokens(runner, prompts, cfg, timer, limits):
        item = out[event.row]
        if event.token is None:
            item.finish_reason = event.finish_reason
        else:
            item.tokens.append(event.token)
            item.hidden.append(np.asarray(event.hidden, dtype=np.float32))
    return out
