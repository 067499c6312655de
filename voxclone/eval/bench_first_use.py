"""First use of a new voice and the steady state of the default English pipeline, old path and
new side by side in one process, and the quality of the fast path against the full search.

- first use: seconds from the call to the first piece of audio for a voice nothing is cached for
  (the machine's bundled-voice scores aside), with the full style search first and world-auto
  choosing per piece (old) and with the start style and the per-voice strength (new).
- steady state: RTF of a four-sentence text for a cached voice: one piece after the other with
  world-auto choosing per piece (old), pieces overlapped with the strength chosen once (new).
- quality, on dev speakers (held-out clip and texts): start style vs refined style, and
  world-auto per piece vs per voice, by both judges (resemblyzer selects inside the product, the
  d-vector referee never does) and Whisper WER.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from voxclone.config import Settings
from voxclone.pipeline import PipelineConfig, VoiceCloner

BENCH_TEXT = ("The birch canoe slid on the smooth planks. Glue the sheet to the dark blue "
              "background. It is easy to tell the depth of a well. These days a chicken leg is a "
              "rare dish.")
NEW = PipelineConfig(tts="kokoro", converter="world-auto")
OLD = replace(NEW, search_first=True, strength_choice="piece")


def _home_with_bundled(source: Settings, shared_speech: bool = False) -> Settings:
    """A fresh home whose cache holds only the machine's bundled-voice scores (and with
    ``shared_speech`` the calibration speech of shared base voices, see
    :mod:`voxclone.pipeline.strength`), and whose models are this installation's (linked): what a
    new voice meets on a machine already set up (the one-time model assembly and graph making of
    a fresh installation are not a voice's cost)."""
    home = Settings(home=Path(tempfile.mkdtemp(prefix="vx-bench-")))
    if shared_speech:
        (home.cache_dir / "strengths").mkdir(parents=True)
        for path in (source.cache_dir / "strengths").glob("speech-*.npz"):
            shutil.copy(path, home.cache_dir / "strengths" / path.name)
    if source.models_dir.is_dir():
        home.models_dir.parent.mkdir(parents=True, exist_ok=True)
        home.models_dir.symlink_to(source.models_dir.resolve(), target_is_directory=True)
    folder = home.cache_dir / "kokoro-styles"
    folder.mkdir(parents=True)
    for path in (source.cache_dir / "kokoro-styles").glob("bundled-*.npz"):
        shutil.copy(path, folder / path.name)
    return home


def first_audio_s(config: PipelineConfig, clips: list[Path], settings: Settings,
                  overlap: bool = True) -> tuple[float, VoiceCloner]:
    """Seconds to the first piece of BENCH_TEXT for a voice added from ``clips`` just now."""
    cloner = VoiceCloner(config, settings=settings)
    cloner.overlap_pieces = overlap
    cloner.library.add("new", clips, replace=True)
    start = time.perf_counter()
    next(iter(cloner.iter_pieces(BENCH_TEXT, "new")))
    return time.perf_counter() - start, cloner


def steady_rtf(cloner: VoiceCloner, runs: int = 2) -> dict[str, Any]:
    """Median RTF (and CPU seconds per audio second) of BENCH_TEXT for the cached voice."""
    import resource

    rows = []
    for _ in range(runs + 1):  # one warm-up
        cpu = resource.getrusage(resource.RUSAGE_SELF)
        result = cloner.synthesize(BENCH_TEXT, "new")
        after = resource.getrusage(resource.RUSAGE_SELF)
        used = (after.ru_utime - cpu.ru_utime) + (after.ru_stime - cpu.ru_stime)
        rows.append((result.rtf, used / result.audio.duration, result.timings_ms))
    rows = sorted(rows[1:], key=lambda r: r[0])
    rtf, cpu_per_s, stages = rows[len(rows) // 2]
    return {"rtf": round(rtf, 3), "cpu_s_per_audio_s": round(cpu_per_s, 3),
            "stages_ms": {k: round(v) for k, v in stages.items()}}


def _measure(label: str, clips: list[Path], home: Path, runs: int) -> dict[str, Any]:
    """One path's first use (and, but for "new_shared", steady state) in ``home``."""
    config, overlap = (OLD, False) if label == "old" else (NEW, True)
    seconds, cloner = first_audio_s(config, clips, Settings(home=home), overlap)
    out: dict[str, Any] = {"first_audio_s": round(seconds, 1)}
    if label != "new_shared":
        out.update(steady_rtf(cloner, runs))
    return out


def run_first_use_bench(clips: list[Path], runs: int = 2) -> dict[str, Any]:
    """First use and steady state, each path in a new process (paying its cold start).

    "new" is a voice whose start style no voice of this machine spoke before; "new_shared"
    another new voice (a fresh home again) whose start style's calibration speech the first left
    behind, as for every later voice that starts from the same bundled voice."""
    import multiprocessing

    base = Settings()
    out: dict[str, Any] = {}
    first_home = _home_with_bundled(base)
    homes = {"new": first_home, "old": _home_with_bundled(base)}
    context = multiprocessing.get_context("spawn")
    try:
        for label in ("new", "new_shared", "old"):
            if label == "new_shared":
                homes[label] = _home_with_bundled(first_home, True)
            with context.Pool(1) as pool:
                out[label] = pool.apply(_measure, (label, clips, homes[label].home, runs))
    finally:
        for home in homes.values():
            shutil.rmtree(home.home, ignore_errors=True)
    out["first_audio_ratio"] = round(out["old"]["first_audio_s"] / out["new"]["first_audio_s"], 2)
    out["rtf_ratio"] = round(out["old"]["rtf"] / out["new"]["rtf"], 2)
    return out


def run_quality(dataset: Path, speakers: int = 3, search_steps: int = 60) -> dict[str, Any]:
    """Start vs refined style and world-auto per piece vs per voice on ``speakers`` dev
    speakers of ``dataset`` (a set folder), each speaking its held-out texts."""
    from voxclone.audio.io import load
    from voxclone.eval.dataset import split_speakers
    from voxclone.eval.scoring import Scorer

    splits, _ = split_speakers(dataset, 20.0, 2)
    scorer = Scorer(dnsmos=False)
    rows: list[dict[str, Any]] = []
    for split in splits[:speakers]:
        home = _home_with_bundled(Settings())
        refs = [scorer.embed(load(u.path)) for u in split.score]
        for variant, config in (("start", NEW), ("refined", replace(NEW, search_first=True))):
            for choice in ("voice", "piece"):
                cloner = VoiceCloner(replace(config, strength_choice=choice,
                                             search_steps=search_steps), settings=home)
                cloner.library.add("dev", [u.path for u in split.enrol], replace=True)
                for text in split.texts:
                    audio = cloner.say(text, "dev", split.lang)
                    score = scorer.score(audio, refs, text, lang=split.lang)
                    rows.append({"speaker": split.key, "style": variant, "strength": choice,
                                 "similarity": score["similarity"],
                                 "similarity_dvec": score["similarity_dvec"],
                                 "wer": score.get("wer")})
        shutil.rmtree(home.home, ignore_errors=True)
    return {"rows": rows, "means": _means(rows)}


def _means(rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(f"{r['style']} style, strength per {r['strength']}", []).append(r)
    return {k: {m: round(float(np.mean([r[m] for r in g if r[m] is not None])), 4)
                for m in ("similarity", "similarity_dvec", "wer")} for k, g in groups.items()}


def first_use_markdown(results: dict[str, Any]) -> str:
    """The figures as Markdown."""
    lines = []
    timing = results.get("timing")
    if timing:
        lines += ["| kokoro:world-auto | first audio, new voice (s) | steady RTF, 4 sentences | "
                  "CPU s per audio s |", "|---|---|---|---|"]
        for label, name in (("old", "full search first, strength per piece, sequential"),
                            ("new", "start style, strength per voice, overlapped"),
                            ("new_shared", "the same, start style's calibration speech kept")):
            r = timing.get(label)
            if r:
                lines.append(f"| {name} | {r['first_audio_s']} | {r.get('rtf', '–')} | "
                             f"{r.get('cpu_s_per_audio_s', '–')} |")
        lines.append(f"\nold/new: first audio {timing['first_audio_ratio']}x, "
                     f"RTF {timing['rtf_ratio']}x")
    quality = results.get("quality")
    if quality:
        lines += ["", "| style, world-auto strength | resemblyzer | d-vector (referee) | WER |",
                  "|---|---|---|---|"]
        for k, m in quality["means"].items():
            lines.append(f"| {k} | {m['similarity']:.3f} | {m['similarity_dvec']:.3f} | "
                         f"{m['wer']:.3f} |")
    return "\n".join(lines)


def clips_of(dataset: Path, seconds: float = 20.0) -> list[Path]:
    """Enrolment clips (about ``seconds``) of the first speaker of a set folder."""
    from voxclone.eval.dataset import split_speakers

    splits, _ = split_speakers(dataset, seconds, 2)
    return [u.path for u in splits[0].enrol]
