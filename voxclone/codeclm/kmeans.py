"""Deterministic k-means (Lloyd iterations, seeded init) and residual vector quantisation."""

from __future__ import annotations

import numpy as np


def kmeans(x: np.ndarray, k: int, iters: int = 20, seed: int = 0) -> np.ndarray:
    """Codebook (k, dim) of ``x`` (n, dim); same data + seed → bit-identical codebook.

    Init from k distinct random rows; a cluster left empty is re-seeded with the row farthest
    from its centre.
    """
    x = np.asarray(x, dtype=np.float64)
    rng = np.random.default_rng(seed)
    n = len(x)
    centres = x[rng.choice(n, size=k, replace=n < k)].copy()
    for _ in range(iters):
        assign, dist = nearest(x, centres)
        sums = np.zeros_like(centres)
        np.add.at(sums, assign, x)
        counts = np.bincount(assign, minlength=k)
        full = counts > 0
        centres[full] = sums[full] / counts[full, None]
        empty = np.flatnonzero(~full)
        if len(empty):
            far = np.argsort(-dist, kind="stable")[: len(empty)]
            centres[empty[: len(far)]] = x[far]
    return centres


def nearest(x: np.ndarray, centres: np.ndarray, chunk: int = 8192) -> tuple[np.ndarray, np.ndarray]:
    """Index of the nearest centre per row of ``x`` and the squared distance to it."""
    c2 = np.sum(centres**2, axis=1)
    idx = np.empty(len(x), dtype=np.int64)
    dist = np.empty(len(x))
    for a in range(0, len(x), chunk):
        block = x[a:a + chunk]
        d = c2[None, :] - 2.0 * block @ centres.T
        idx[a:a + chunk] = np.argmin(d, axis=1)
        dist[a:a + chunk] = d[np.arange(len(block)), idx[a:a + chunk]] + np.sum(block**2, axis=1)
    return idx, dist


def fit_rvq(x: np.ndarray, n_q: int, k: int, iters: int = 20, seed: int = 0) -> np.ndarray:
    """Residual codebooks (n_q, k, dim): level l is k-means on what levels < l leave."""
    residual = np.asarray(x, dtype=np.float64).copy()
    books = []
    for level in range(n_q):
        book = kmeans(residual, k, iters, seed + level)
        idx, _ = nearest(residual, book)
        residual -= book[idx]
        books.append(book)
    return np.stack(books)


def rvq_encode(x: np.ndarray, books: np.ndarray) -> np.ndarray:
    """Codes [n_q, n] of rows ``x`` (n, dim)."""
    residual = np.asarray(x, dtype=np.float64).copy()
    codes = np.empty((len(books), len(x)), dtype=np.int64)
    for level, book in enumerate(books):
        codes[level], _ = nearest(residual, book)
        residual -= book[codes[level]]
    return codes


def rvq_decode(codes: np.ndarray, books: np.ndarray) -> np.ndarray:
    """Rows (n, dim) from codes [n_q', n] (the first n_q' levels)."""
    out = np.zeros((codes.shape[1], books.shape[2]))
    for level in range(codes.shape[0]):
        out += books[level][codes[level]]
    return out
