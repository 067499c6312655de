"""Class-wise spectral mapping: mean/variance matching per acoustic class, soft-assigned.

A single mean/variance match treats every sound alike. Here the target's voiced frames are
clustered (k-means on speaker-normalised mel-cepstra, so the classes stand for sounds, not for
speakers); a source frame is assigned softly to the same classes after normalising it with the
source's own statistics, and each class maps its frames with its own mean/variance pair.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.cluster.vq import kmeans2

MIN_FRAMES_PER_CLASS = 20


def fit_classes(frames: np.ndarray, n_classes: int, seed: int = 0) -> dict[str, Any] | None:
    """Classes of target frames (T, D) (c0 excluded by the caller); None when too few frames."""
    if len(frames) < n_classes * MIN_FRAMES_PER_CLASS:
        return None
    mean, std = frames.mean(axis=0), np.maximum(frames.std(axis=0), 1e-4)
    z = (frames - mean) / std
    centroids, labels = kmeans2(z, n_classes, seed=seed, minit="++")
    means, stds = [], []
    for k in range(n_classes):
        members = frames[labels == k] if (labels == k).sum() >= 2 else frames
        means.append(members.mean(axis=0))
        stds.append(np.maximum(members.std(axis=0), 1e-4))
    return {"centroids": centroids.tolist(), "mean": np.asarray(means).tolist(),
            "std": np.asarray(stds).tolist()}


def soft_assign(z: np.ndarray, centroids: np.ndarray, temperature: float) -> np.ndarray:
    """Weights (T, K) of normalised frames ``z`` (T, D) over ``centroids`` (K, D); rows sum to 1."""
    d = ((z[:, None, :] - centroids[None]) ** 2).sum(axis=-1)
    w = np.exp(-(d - d.min(axis=1, keepdims=True)) / temperature)
    return w / w.sum(axis=1, keepdims=True)


def map_classes(x: np.ndarray, src_mean: np.ndarray, src_std: np.ndarray, classes: dict[str, Any],
                temperature: float = 2.0, shrink: float = 30.0) -> np.ndarray:
    """Map source frames ``x`` (T, D) class by class toward the target.

    Each class's source statistics come from this input's frames of that class, shrunk toward
    the source's global ``src_mean``/``src_std`` with the weight of ``shrink`` frames.
    """
    centroids = np.asarray(classes["centroids"])
    weights = soft_assign((x - src_mean) / src_std, centroids, temperature)
    hard = weights.argmax(axis=1)
    out = np.zeros_like(x)
    for k, (t_mean, t_std) in enumerate(zip(np.asarray(classes["mean"]), np.asarray(classes["std"]))):
        members = x[hard == k]
        n = len(members)
        s_mean = (members.sum(axis=0) + shrink * src_mean) / (n + shrink)
        s_var = (((members - s_mean) ** 2).sum(axis=0) + shrink * src_std**2) / (n + shrink)
        out += weights[:, k:k + 1] * ((x - s_mean) / np.sqrt(s_var) * t_std + t_mean)
    return out
