"""Bench of the knn converter: matching-set build time per minute of reference and conversion RTF,
side by side with WORLD in the same process."""

from __future__ import annotations

import time
from typing import Any

from voxclone.audio.types import Audio
from voxclone.convert.base import ConvertSettings, get_converter
from voxclone.convert.matching_set import MatchingSet
from voxclone.pipeline.knn import knn_converter


def run_knn_bench(reference: Audio, source: Audio, runs: int = 3) -> dict[str, Any]:
    """Feature build of ``reference`` (knn: WORLD analysis + matching set; WORLD alone; the
    matching set alone, from the WORLD analysis the profile makes anyway) and the RTF of
    converting ``source`` (``dio`` F0, as ``say`` does), medians over ``runs``; ``unwarped_rtf``:
    the same converter without its warp and pitch choices."""
    from voxclone.eval.bench import median_time, rtf_beside_world

    knn, world = knn_converter(), get_converter("world")
    minutes = reference.duration / 60.0
    start = time.perf_counter()
    features = knn.features([reference])
    build_s = time.perf_counter() - start
    start = time.perf_counter()
    world_features = world.features([reference])
    world_build_s = time.perf_counter() - start
    analysis = knn.analyze(reference, knn.config.target_f0_method, False)  # as ``features`` does
    start = time.perf_counter()
    knn.matching_set([reference], [analysis])
    set_s = time.perf_counter() - start
    unwarped = knn_converter(warps=(), pitches=())
    unwarped_s, _ = median_time(lambda: unwarped.convert(source, features, ConvertSettings(f0_method="dio")),
                                runs)
    return {"reference_s": round(reference.duration, 1),
            "entries": len(MatchingSet.from_text(features["matching_set"])),
            "build_s_per_min": round(build_s / minutes, 2),
            "world_build_s_per_min": round(world_build_s / minutes, 2),
            "matching_set_s_per_min": round(set_s / minutes, 2),
            "unwarped_rtf": round(unwarped_s / source.duration, 4),
            **rtf_beside_world(knn, features, world, world_features, source, runs)}


def knn_markdown(r: dict[str, Any]) -> str:
    """One line of Markdown for the bench report."""
    return (f"knn converter: matching set of {r['reference_s']} s of reference ({r['entries']} windows) "
            f"built in {r['build_s_per_min']} s per minute (WORLD features alone "
            f"{r['world_build_s_per_min']} s, the set from their analysis "
            f"{r['matching_set_s_per_min']} s); converting {r['input_s']} s: RTF {r['rtf']} "
            f"(without the warp and pitch choices {r.get('unwarped_rtf', '–')}; WORLD {r['world_rtf']}, "
            f"×{r['over_world']})")
