"""The voice's intonation and dynamics, learned from the same parallel speech as its frame map.

Two per-voice parts the ``adapted`` converter can add to its envelope map (both from the aligned
frame pairs of :mod:`voxclone.pipeline.adapt`):

- an **F0 map**: a :class:`~voxclone.convert.frame_map.FrameMap` from the base voice's
  standardised log-F0 over ±200 ms (interpolated through unvoiced frames, with the voicing
  flags) to the voice's standardised log-F0 at the aligned frame, less the base voice's own
  (a correction of the base contour: where the map cannot tell, the base contour stays);
- the **dynamics ratio**: the spread of the voice's frame energy (c0 about its utterance's mean
  over speech frames, :mod:`voxclone.convert.dynamics`) over the base voice's, on the same words.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from voxclone.audio.f0 import log_f0_stats
from voxclone.convert.dynamics import energy_spread, spread_ratio
from voxclone.convert.frame_map import FrameMap, FrameMapConfig

if TYPE_CHECKING:
    from voxclone.convert.adapted import ParallelUtterance

F0_OFFSETS = 8 * np.arange(-5, 6)
"""Frames (5 ms) around the centre whose log-F0 the F0 map reads (±200 ms, 40 ms apart)."""
CENTRE = len(F0_OFFSETS) // 2
Z_LIMIT = 3.0
"""Mapped standardised log-F0 is kept within ±this many standard deviations."""
MIN_VOICED_PAIRS = 500
"""Fewest aligned voiced frames (of 5 ms, i.e. 2.5 s) an F0 map is trained on."""


def log_f0_z(f0: np.ndarray, mean: float, std: float) -> np.ndarray:
    """Standardised log-F0 (T,) of every frame, interpolated through unvoiced ones (0 if fewer
    than two frames are voiced)."""
    v = f0 > 0
    t = np.arange(len(f0))
    if v.sum() < 2:
        return np.zeros(len(f0))
    return np.interp(t, t[v], (np.log(f0[v]) - mean) / max(std, 1e-3))


def f0_inputs(f0: np.ndarray, mean: float, std: float) -> np.ndarray:
    """F0-map inputs (T, 2·len(F0_OFFSETS)): :func:`log_f0_z` at every offset of
    :data:`F0_OFFSETS`, then the voicing flags there, the centre's last (the map's flag column)."""
    z = log_f0_z(f0, mean, std)
    v = f0 > 0
    idx = np.clip(np.arange(len(f0))[:, None] + F0_OFFSETS[None], 0, len(f0) - 1)
    order = [i for i in range(len(F0_OFFSETS)) if i != CENTRE] + [CENTRE]
    return np.concatenate([z[idx], v[idx][:, order].astype(np.float64)], axis=1)


def fit_f0_map(pairs: list["ParallelUtterance"], target_mean: float, target_std: float,
               config: FrameMapConfig = FrameMapConfig(), residual: bool = True) -> FrameMap:
    """The F0 map of ``pairs`` (voiced on both sides): each base utterance standardised by its
    own log-F0 statistics (:func:`~voxclone.audio.f0.log_f0_stats`, as at conversion), the
    voice's by ``target_mean``/``target_std``. It learns the voice's standardised log-F0 less
    the base voice's (``residual``), or the voice's itself. Raises ReferenceTooShort under
    :data:`MIN_VOICED_PAIRS` voiced pairs."""
    xs, ys = [], []
    for p in pairs:
        mean, std = log_f0_stats(p.source.f0)
        if not np.isfinite(mean):
            continue  # fewer than two voiced frames
        keep = (p.source.f0[p.path[:, 0]] > 0) & (p.target.f0[p.path[:, 1]] > 0)
        x = f0_inputs(p.source.f0, mean, std)[p.path[keep, 0]]
        y = (np.log(p.target.f0[p.path[keep, 1]]) - target_mean) / max(target_std, 1e-3)
        xs.append(x)
        ys.append((y - x[:, CENTRE] if residual else y)[:, None])
    if not xs:
        xs, ys = [np.zeros((0, 2 * len(F0_OFFSETS)))], [np.zeros((0, 1))]
    return FrameMap.fit(np.concatenate(xs), np.concatenate(ys), config, MIN_VOICED_PAIRS)


def mapped_f0_z(f0_map: FrameMap, f0: np.ndarray, mean: float, std: float) -> np.ndarray:
    """The voice's standardised log-F0 the map predicts for the voiced frames of ``f0`` (the
    source's, standardised by ``mean``/``std``), within ±:data:`Z_LIMIT`."""
    v = f0 > 0
    x = f0_inputs(f0, mean, std)[v]
    correction = f0_map.forward(x)[:, 0]
    return np.clip(x[:, CENTRE] + correction, -Z_LIMIT, Z_LIMIT)


def dynamics_ratio(pairs: list["ParallelUtterance"]) -> float:
    """Spread of the voice's frame energy over speech frames (each utterance about its own
    mean) over the base voice's (:func:`~voxclone.convert.dynamics.spread_ratio`)."""
    return spread_ratio(energy_spread([p.target for p in pairs]),
                        energy_spread([p.source for p in pairs]))
