"""The matching set of a voice: phonetic keys of its own frames and their spectral envelopes.

Each entry covers one 20 ms window of the voice's clips: a key (a Whisper encoder state, unit
length), the mean mel-cepstrum c1.. of the WORLD frames inside it (the value) and whether those
frames are voiced. A source window is matched to the ``k`` nearest keys of the same voicing by
cosine similarity; its envelope is the mean of their values.

The set is stored inside the voice profile's converter features as a compressed ``.npz``
(base64 text, float16 keys), so the profile cache keeps and invalidates it with the clips.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import numpy as np

from voxclone.errors import ReferenceTooShort

MIN_ENTRIES = 250
"""Fewest speech windows (of 20 ms, i.e. 5 s of speech) a matching set must hold."""


@dataclass
class MatchingSet:
    """keys (N, D) unit-norm float32; values (N, order) mel-cepstra c1..; voiced (N,) bool."""

    keys: np.ndarray
    values: np.ndarray
    voiced: np.ndarray

    def __len__(self) -> int:
        return len(self.keys)

    def to_text(self) -> str:
        """Compressed base64 text of the set (what the profile stores)."""
        buf = io.BytesIO()
        np.savez_compressed(buf, keys=self.keys.astype(np.float16),
                            values=self.values.astype(np.float32), voiced=self.voiced)
        return base64.b64encode(buf.getvalue()).decode("ascii")

    @classmethod
    def from_text(cls, text: str) -> "MatchingSet":
        """Inverse of :meth:`to_text`."""
        with np.load(io.BytesIO(base64.b64decode(text))) as data:
            return cls(data["keys"].astype(np.float32), data["values"], data["voiced"].astype(bool))

    @classmethod
    def concatenate(cls, parts: list["MatchingSet"]) -> "MatchingSet":
        """One set from the sets of several clips; ReferenceTooShort below :data:`MIN_ENTRIES`."""
        out = cls(np.concatenate([p.keys for p in parts]), np.concatenate([p.values for p in parts]),
                  np.concatenate([p.voiced for p in parts]))
        if len(out) < MIN_ENTRIES or out.voiced.sum() < MIN_ENTRIES // 2:
            raise ReferenceTooShort(f"The clips hold {len(out) * 0.02:.1f} s of speech frames "
                                    f"({out.voiced.sum() * 0.02:.1f} s voiced); frame matching needs "
                                    f"at least {MIN_ENTRIES * 0.02:g} s ({MIN_ENTRIES * 0.01:g} s "
                                    "voiced). Add clips: 20 s or more of clear speech work best.")
        return out

    def match(self, queries: np.ndarray, voiced: np.ndarray, k: int, guide: np.ndarray | None = None,
              guide_weight: float = 0.0) -> np.ndarray:
        """Mean value (T, order) of the ``k`` nearest keys of the same voicing for each query
        (T, D); unvoiced queries fall back to every key when the set has too few unvoiced ones.

        ``guide`` (T, order): an envelope per query (e.g. the source mapped toward the target);
        candidates then score cosine minus ``guide_weight`` times their mean squared distance to
        it in units of the set's per-dimension spread, so neighbours also sound alike.
        """
        return self.nearest(queries, voiced, k, guide, guide_weight)[0]

    def nearest(self, queries: np.ndarray, voiced: np.ndarray, k: int,
                guide: np.ndarray | None = None, guide_weight: float = 0.0
                ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`match`'s means (T, order) and how near each query's ``k`` neighbours lie
        (T,): the mean of their scores (cosine similarity, less the guide's penalty)."""
        q = unit(queries)
        scale = 1.0 / np.maximum(self.values.std(axis=0), 1e-4)
        out = np.empty((len(q), self.values.shape[1]), dtype=np.float64)
        near = np.zeros(len(q))
        for flag in (True, False):
            rows = np.flatnonzero(voiced == flag)
            pool = np.flatnonzero(self.voiced == flag)
            if len(pool) < k:
                pool = np.arange(len(self))
            if not len(rows):
                continue
            kk = min(k, len(pool))
            for part in np.array_split(rows, -(-len(rows) // QUERY_BLOCK)):  # bounded memory
                sims = q[part] @ self.keys[pool].T
                if guide is not None and guide_weight > 0.0:
                    sims -= guide_weight * _sq_dist(guide[part] * scale, self.values[pool] * scale)
                best = np.argpartition(-sims, kk - 1, axis=1)[:, :kk]
                out[part] = self.values[pool[best]].mean(axis=1)
                near[part] = np.take_along_axis(sims, best, axis=1).mean(axis=1)
        return out, near


QUERY_BLOCK = 2048
"""Queries matched at a time: a block's similarities are QUERY_BLOCK × the set's size (a
10-minute input against 5 minutes of reference stays under 0.5 GB)."""


def unit(x: np.ndarray) -> np.ndarray:
    """Rows of ``x`` scaled to unit length."""
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-8)


def window_means(values: np.ndarray, per_window: int, n_windows: int) -> np.ndarray:
    """Means of consecutive groups of ``per_window`` rows of ``values`` (T, D) → (n_windows, D);
    windows past the end repeat the last row."""
    t = min(len(values), per_window * n_windows)
    idx = np.minimum(np.arange(n_windows * per_window), max(t - 1, 0))
    return values[idx].reshape(n_windows, per_window, -1).mean(axis=1)


def _sq_dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean squared distance (len(a), len(b)) between the rows of ``a`` and ``b``."""
    d = (a**2).sum(axis=1)[:, None] + (b**2).sum(axis=1)[None] - 2.0 * a @ b.T
    return np.maximum(d, 0.0) / a.shape[1]
