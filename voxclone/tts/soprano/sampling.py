"""Next-token choice as transformers' ``generate`` makes it in the official non-streaming path:
repetition penalty over every id seen (prompt included) → temperature → top-k → top-p →
softmax → a draw. Temperature 0 takes the arg-max of the penalised scores. numpy, seedable.
"""

from __future__ import annotations

import numpy as np

from voxclone.tts.soprano.config import GenerationConfig


def penalize(scores: np.ndarray, seen: np.ndarray, penalty: float) -> np.ndarray:
    """(B, V) scores with the ids marked in ``seen`` (B, V) bool divided (or, below 0,
    multiplied) by ``penalty``."""
    if penalty == 1.0:
        return scores
    hit = np.where(scores < 0, scores * penalty, scores / penalty)
    return np.where(seen, hit, scores)


def top_k_filter(scores: np.ndarray, k: int) -> np.ndarray:
    """Scores below the k-th largest of each row set to -inf (ties kept)."""
    if k <= 0 or k >= scores.shape[-1]:
        return scores
    kth = np.partition(scores, -k, axis=-1)[:, -k][:, None]
    return np.where(scores < kth, -np.inf, scores)


def top_p_filter(scores: np.ndarray, top_p: float) -> np.ndarray:
    """Keep the most likely tokens whose mass reaches ``top_p`` (at least one per row)."""
    if top_p >= 1.0:
        return scores
    order = np.argsort(scores, axis=-1, kind="stable")  # ascending, as transformers sorts
    ordered = np.take_along_axis(scores, order, axis=-1)
    cumulative = np.cumsum(softmax(ordered), axis=-1)
    drop_sorted = cumulative <= 1.0 - top_p
    drop_sorted[:, -1] = False
    drop = np.zeros_like(drop_sorted)
    np.put_along_axis(drop, order, drop_sorted, axis=-1)
    return np.where(drop, -np.inf, scores)


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax in float64."""
    z = scores.astype(np.float64) - np.max(scores, axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def choose(logits: np.ndarray, seen: np.ndarray, cfg: GenerationConfig,
           rng: np.random.Generator) -> np.ndarray:
    """(B, V) logits → (B,) int64 next tokens."""
    scores = penalize(logits.astype(np.float32), seen, cfg.repetition_penalty)
    if cfg.temperature == 0.0:
        return np.argmax(scores, axis=-1).astype(np.int64)
    scores = top_p_filter(top_k_filter(scores / cfg.temperature, cfg.top_k), cfg.top_p)
    probs = softmax(scores)
    draws = rng.random((probs.shape[0], 1))
    return np.minimum((np.cumsum(probs, axis=-1) < draws).sum(axis=-1),
                      probs.shape[-1] - 1).astype(np.int64)
