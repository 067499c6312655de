"""The voice's dynamics: how widely its frame energy swings about its mean while it speaks,
and how widely each envelope order swings.

The spread of c0 (the mel-cepstrum's frame energy, natural-log amplitude) over an utterance's
speech frames, each utterance about its own mean, is a trait of a speaker (and of a TTS voice):
WORLD's envelope map keeps the source's c0, so its output has the source's dynamics. The
converters scale c0's spread about its mean by the voice's spread over the source's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from voxclone.convert.world import Analysis

DYNAMICS_RANGE = (0.5, 2.0)
"""Clamp of the dynamics ratio."""
SPREAD_CAP = 1.5
"""Most that :func:`with_order_spread` widens an order's spread by."""
MIN_SPREAD_FRAMES = 10
"""Fewest frames of one voicing whose spread :func:`with_order_spread` restores."""


def relative_energy(an: "Analysis") -> np.ndarray:
    """Frame energy c0 (T,) less its mean over the utterance's speech frames."""
    return an.mcep[:, 0] - an.mcep[an.speech, 0].mean()


def energy_spread(analyses: list["Analysis"]) -> float:
    """Standard deviation of c0 over the speech frames of ``analyses``, each utterance about its
    own mean (:func:`relative_energy`); 0.0 with fewer than two speech frames."""
    parts = [relative_energy(a)[a.speech] for a in analyses if a.speech.sum() >= 2]
    return float(np.concatenate(parts).std()) if parts else 0.0


def spread_ratio(target: float, source: float) -> float:
    """The voice's spread over the source's, clamped to :data:`DYNAMICS_RANGE` (1.0 when either
    is unknown or zero)."""
    if not (np.isfinite(target) and np.isfinite(source)) or target <= 0.0 or source <= 1e-4:
        return 1.0
    return float(np.clip(target / source, *DYNAMICS_RANGE))


def with_dynamics(mcep: np.ndarray, speech: np.ndarray, ratio: float) -> np.ndarray:
    """``mcep`` (T, order+1) with c0's spread about its mean over ``speech`` frames scaled by
    ``ratio`` on those frames (a copy)."""
    out = mcep.copy()
    if speech.sum() >= 2 and ratio != 1.0:
        e = out[speech, 0]
        out[speech, 0] = e.mean() + (e - e.mean()) * ratio
    return out


def with_order_spread(mcep: np.ndarray, reference: np.ndarray, an: "Analysis",
                      cap: float = SPREAD_CAP) -> np.ndarray:
    """``mcep`` (T, order+1) with the spread of each order c1.. over ``an``'s voiced speech
    frames (and, apart, its unvoiced ones) widened back to ``reference``'s (T, order+1), by at
    most ``cap``, about its mean (a copy; c0 and frames outside speech unchanged).

    Mixing a smoothed mean of matched frames into an envelope narrows its swings (the
    "global variance" a statistical map loses); this restores them, never narrowing.
    """
    out = mcep.copy()
    for sel in (an.speech & (an.f0 > 0), an.speech & (an.f0 == 0)):
        if sel.sum() < MIN_SPREAD_FRAMES:
            continue
        now, goal = out[sel, 1:].std(axis=0), reference[sel, 1:].std(axis=0)
        ratio = np.clip(goal / np.maximum(now, 1e-6), 1.0, cap)
        centre = out[sel, 1:].mean(axis=0)
        out[sel, 1:] = centre + (out[sel, 1:] - centre) * ratio
    return out
