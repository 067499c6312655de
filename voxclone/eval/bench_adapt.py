"""Bench of the adapted converter: learning a voice's frame map (parallel speech, alignment, fit)
per minute of reference, and conversion RTF side by side with WORLD in the same process."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from voxclone.audio.types import Audio
from voxclone.convert.adapted import AdaptedConverter
from voxclone.convert.base import get_converter
from voxclone.pipeline.adapt import parallel_pairs


def run_adapt_bench(clips: Sequence[Audio], texts: Sequence[str], speak: Callable[[str], Audio],
                    source: Audio, runs: int = 3) -> dict[str, Any]:
    """Parallel pairs of ``clips`` (their ``texts`` given, so no ASR) with the base voice
    ``speak``, the fit, and the RTF of converting ``source`` beside WORLD's."""
    from voxclone.eval.bench import rtf_beside_world

    adapted, world = AdaptedConverter(), get_converter("world")
    minutes = sum(c.duration for c in clips) / 60.0
    start = time.perf_counter()
    pairs = parallel_pairs(clips, texts, speak, adapted)
    pairs_s = time.perf_counter() - start
    world_features = world.features(list(clips))  # the adapted converter's own WORLD features too
    start = time.perf_counter()
    features = {**world_features, **adapted.adaptation(pairs)}
    fit_s = time.perf_counter() - start
    return {"reference_s": round(minutes * 60.0, 1), "frames": features["adaptation_frames"],
            "pairs_s_per_min": round(pairs_s / minutes, 2), "fit_s": round(fit_s, 2),
            **rtf_beside_world(adapted, features, world, world_features, source, runs)}


def adapt_markdown(r: dict[str, Any]) -> str:
    """One line of Markdown for the bench report."""
    return (f"adapted converter: {r['reference_s']} s of reference ({r['frames']} aligned frames): "
            f"parallel speech + alignment {r['pairs_s_per_min']} s per minute, fit {r['fit_s']} s; "
            f"converting {r['input_s']} s: RTF {r['rtf']} (WORLD {r['world_rtf']}, "
            f"×{r['over_world']})")
