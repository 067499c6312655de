"""`voxclone bench`: real-time factors per stage and end to end, enrolment time, peak memory.

Every figure is a median over ``runs`` after one warm-up run; ratios compare two implementations
measured side by side in the same process.
"""

from __future__ import annotations

import platform
import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from voxclone.audio.f0 import extract_f0
from voxclone.audio.types import Audio
from voxclone.config import Settings
from voxclone.convert.base import get_converter
from voxclone.eval.bench_files import save_results
from voxclone.pipeline import PipelineConfig, VoiceCloner, VoiceConversionPipeline
from voxclone.timing import StageTimer
from voxclone.tts.base import get_tts
from voxclone.voices.profile import build_profile

BENCH_TEXT = ("The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background. "
              "It is easy to tell the depth of a well. These days a chicken leg is a rare dish. ")
BENCH_SENTENCE = BENCH_TEXT.split(". ")[0] + "."


@dataclass(frozen=True)
class BenchConfig:
    """durations: input lengths in seconds; runs: timed runs per figure (median); style_steps:
    steps of the timed Kokoro style search (0 skips it); first_use: time a new voice's first
    audio and the default pipeline's steady state, old path and new (see
    :mod:`voxclone.eval.bench_first_use`), and with ``eval_data`` present the quality of the fast
    path on ``first_use_speakers`` dev speakers (0 skips it)."""

    durations: tuple[float, ...] = (3.0, 10.0, 60.0)
    runs: int = 3
    tts_engines: tuple[str, ...] = ("espeak", "piper", "kokoro")
    style_steps: int = 20
    openvoice: bool = True
    judges: bool = True
    first_use: bool = True
    first_use_speakers: int = 3
    eval_data: Path = Path("../shared/eval-data")
    knn: bool = True
    adapt: bool = True


def rtf_beside_world(converter: Any, features: dict, world: Any, world_features: dict,
                     source: Audio, runs: int) -> dict[str, float]:
    """RTF of ``converter`` and of WORLD converting ``source`` (``dio`` F0, as ``say`` does),
    medians over ``runs`` in this process, and their ratio (``over_world``)."""
    from voxclone.convert.base import ConvertSettings

    settings = ConvertSettings(f0_method="dio")
    conv_s, _ = median_time(lambda: converter.convert(source, features, settings), runs)
    world_s, _ = median_time(lambda: world.convert(source, world_features, settings), runs)
    return {"input_s": round(source.duration, 1), "rtf": round(conv_s / source.duration, 4),
            "world_rtf": round(world_s / source.duration, 4), "over_world": round(conv_s / world_s, 2)}


def median_time(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    """Median seconds of ``runs`` calls after one warm-up call, and the last result."""
    result = fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def speech_of(seconds: float, voice: str = "en-us+f3") -> Audio:
    """About ``seconds`` of espeak-ng speech (22050 Hz), cut to length."""
    tts = get_tts("espeak")
    text = BENCH_TEXT * max(1, int(np.ceil(seconds / 9.0)))
    audio = tts.synthesize(text, "en", voice)
    while audio.duration < seconds:
        audio = Audio.concat([audio, audio])
    return Audio(audio.samples[: int(seconds * audio.sample_rate)], audio.sample_rate)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (MiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_bench(config: BenchConfig = BenchConfig(), settings: Settings | None = None) -> dict[str, Any]:
    """All benchmark figures as a JSON-ready dict."""
    settings = settings or Settings()
    converter = get_converter("world")
    reference = speech_of(30.0, "en-us+m7")
    enrol_s, profile = median_time(lambda: build_profile("bench", [reference], converter), 1)
    results: dict[str, Any] = {"enrolment_s_per_30s": round(enrol_s, 3), "conversion": [], "say": [],
                               "f0": [], "tts": []}
    vc = VoiceConversionPipeline(PipelineConfig(), settings=settings)
    cloner = VoiceCloner(PipelineConfig(), settings=settings)
    for seconds in config.durations:
        source = speech_of(seconds)
        results["conversion"].append(_conversion_row(vc, source, profile, config.runs))
        results["f0"].append(_f0_row(source, config.runs))
        results["say"].append(_say_row(cloner, seconds, profile, config.runs))
    for name in config.tts_engines:
        results["tts"].append(_tts_row(name, config.runs))
        if name == "kokoro":  # one sentence at a time and the shipped graph, in the same run
            results["tts"].append(_tts_row("kokoro (one worker)", config.runs,
                                           partial(_kokoro, workers=1)))
            results["tts"].append(_tts_row("kokoro (shipped graph)", config.runs,
                                           partial(_kokoro, graph="dynamic")))
    if config.style_steps and "kokoro" in config.tts_engines:
        results["style_search"] = _style_search_row(reference, config.style_steps)
    if config.judges:
        from voxclone.eval.bench_judges import run_judges_bench

        results["judges"] = run_judges_bench(speech_of(10.0), config.runs)
    if config.first_use and "kokoro" in config.tts_engines:
        results["first_use"] = _first_use(config)
    if config.knn:
        from voxclone.eval.bench_knn import run_knn_bench

        results["knn"] = run_knn_bench(speech_of(60.0, "en-us+m7"), speech_of(10.0), config.runs)
    if config.adapt:
        from voxclone.eval.bench_adapt import run_adapt_bench

        espeak = get_tts("espeak")
        clip = espeak.synthesize(BENCH_TEXT, "en", "en-us+m7")  # ~36 s of the voice in 4 clips,
        results["adapt"] = run_adapt_bench(  # the base voice saying the same words
            [clip] * 4, [BENCH_TEXT] * 4, lambda t: espeak.synthesize(t, "en", "en-us+f3"),
            speech_of(10.0), config.runs)
    results["peak_rss_mb"] = round(peak_rss_mb(), 1)
    if config.openvoice:
        from voxclone.eval.bench_openvoice import OpenVoiceBenchConfig, run_openvoice_bench

        results["openvoice"] = run_openvoice_bench(speech_of(10.0), OpenVoiceBenchConfig(runs=config.runs))
    return results


def _conversion_row(vc: VoiceConversionPipeline, source: Audio, profile, runs: int) -> dict[str, Any]:
    stages: list[dict[str, float]] = []

    def once() -> Audio:
        timer = StageTimer()
        out = vc.convert(source, profile, timer=timer)
        stages.append(timer.ms)
        return out

    total, _ = median_time(once, runs)
    per_stage = {k: statistics.median(s.get(k, 0.0) for s in stages[1:]) / 1000.0 / source.duration
                 for k in ("analysis", "conversion", "synthesis", "post")}
    return {"input_s": round(source.duration, 1), "rtf": round(total / source.duration, 4),
            "rtf_stages": {k: round(v, 4) for k, v in per_stage.items()}}


def _say_row(cloner: VoiceCloner, seconds: float, profile, runs: int) -> dict[str, Any]:
    text = BENCH_TEXT * max(1, int(np.ceil(seconds / 9.0)))
    words = text.split()
    text = " ".join(words[: max(6, int(len(words) * seconds / (9.0 * max(1, np.ceil(seconds / 9.0)))))])
    stages: list[dict[str, float]] = []

    def once():
        result = cloner.synthesize(text, profile)
        stages.append(result.timings_ms)
        return result

    total, result = median_time(once, runs)
    dur = result.audio.duration
    per_stage = {k: statistics.median(s.get(k, 0.0) for s in stages[1:]) / 1000.0 / dur
                 for k in ("tts", "analysis", "conversion", "synthesis", "post")}
    return {"output_s": round(dur, 1), "rtf": round(total / dur, 4),
            "rtf_stages": {k: round(v, 4) for k, v in per_stage.items()}}


def _f0_row(source: Audio, runs: int) -> dict[str, Any]:
    harvest, _ = median_time(lambda: extract_f0(source, "harvest"), runs)
    dio, _ = median_time(lambda: extract_f0(source, "dio"), runs)
    swift, _ = median_time(lambda: extract_f0(source, "swift"), runs)
    return {"input_s": round(source.duration, 1), "harvest_rtf": round(harvest / source.duration, 4),
            "dio_rtf": round(dio / source.duration, 4), "harvest_over_dio": round(harvest / dio, 2),
            "swift_rtf": round(swift / source.duration, 4), "harvest_over_swift": round(harvest / swift, 2)}


def _tts_row(name: str, runs: int, make: Callable[[], Any] | None = None) -> dict[str, Any]:
    """Time to first audio (a two-word text), RTF of four sentences and of the first of them
    alone, of engine ``name`` or of the engine ``make()`` builds."""
    from voxclone.errors import VoxcloneError

    try:
        tts = make() if make is not None else get_tts(name)
        lang = "en"
        first, audio = median_time(lambda: tts.synthesize("Hello there.", lang), runs)
        total, long = median_time(lambda: tts.synthesize(BENCH_TEXT, lang), runs)
        one, short = median_time(lambda: tts.synthesize(BENCH_SENTENCE, lang), runs)
    except VoxcloneError as exc:
        return {"engine": name, "error": str(exc)}
    return {"engine": name, "first_audio_ms": round(1000 * first, 1),
            "rtf": round(total / long.duration, 4), "seconds": round(total, 3),
            "audio_s": round(long.duration, 2), "rtf_one_sentence": round(one / short.duration, 4),
            "sample_rate": long.sample_rate}


def _kokoro(**options: Any) -> Any:
    """A Kokoro engine built with ``options`` (imported only when the bench times it)."""
    from voxclone.tts.kokoro import KokoroTTS

    return KokoroTTS(**options)


def _style_search_row(reference: Audio, steps: int) -> dict[str, Any]:
    """Time of a Kokoro style search: a 1-step search on a fresh cache (models loaded, bundled
    voices spoken: a machine's first search), a 1-step search on the warm cache (start-voice
    choice, WER guard) and one of ``1 + steps`` steps; the last two give the time per step and
    what the standard budget buys at that pace."""
    import tempfile

    from voxclone.errors import VoxcloneError
    from voxclone.pipeline.kokoro_clone import StyleSearchConfig, search_style

    with tempfile.TemporaryDirectory() as cache:
        def timed(n: int) -> tuple[float, int]:
            config = StyleSearchConfig(budget_s=3600.0, effort=1.0, max_steps=n, patience=n)
            result = search_style([reference], config, cache_dir=Path(cache))
            return result.seconds, result.steps

        try:
            first, _ = timed(1)
            setup, _ = timed(1)
            total, done = timed(1 + steps)
        except VoxcloneError as exc:
            return {"error": str(exc)}
    per_step = max(total - setup, 0.0) / max(done - 1, 1)
    budget = StyleSearchConfig().budget_s
    return {"steps": done, "seconds": round(total, 1), "setup_s": round(setup, 1),
            "first_search_setup_s": round(first, 1), "seconds_per_step": round(per_step, 2),
            "standard_budget_s": budget,
            "standard_steps_fit": int(max(budget - setup, 0.0) // max(per_step, 1e-6))}


def _first_use(config: BenchConfig) -> dict[str, Any]:
    """Old vs new first use and steady state on a dev speaker's clips (the ARCTIC clip without
    the dev set), and the fast path's quality on dev speakers."""
    from voxclone.errors import VoxcloneError
    from voxclone.eval import bench_first_use as fu

    librispeech = config.eval_data / "librispeech-other"
    if librispeech.is_dir():
        clips = fu.clips_of(librispeech)
    else:
        import pysptk

        clips = [Path(pysptk.util.example_audio_file())]
    try:
        out: dict[str, Any] = {"timing": fu.run_first_use_bench(clips, max(1, config.runs - 1))}
        if config.first_use_speakers and librispeech.is_dir():
            out["quality"] = fu.run_quality(librispeech, config.first_use_speakers)
    except VoxcloneError as exc:
        return {"error": str(exc)}
    return out


def markdown(results: dict[str, Any]) -> str:
    """The figures as Markdown tables."""
    lines = [f"enrolment: {results['enrolment_s_per_30s']:.2f} s per 30 s of reference; "
             f"peak memory {results['peak_rss_mb']:.0f} MiB", "",
             "| job | input s | RTF end to end | tts | analysis | conversion | synthesis | post |",
             "|---|---|---|---|---|---|---|---|"]
    for kind in ("conversion", "say"):
        for r in results[kind]:
            st = r["rtf_stages"]
            dur = r.get("input_s", r.get("output_s"))
            lines.append(f"| {kind} | {dur} | {r['rtf']:.3f} | {st.get('tts', 0):.3f} | "
                         f"{st['analysis']:.3f} | {st['conversion']:.3f} | {st['synthesis']:.3f} | "
                         f"{st['post']:.4f} |")
    lines += ["", "| F0 input s | harvest RTF | dio RTF | swift RTF | harvest/dio | harvest/swift |",
              "|---|---|---|---|---|---|"]
    lines += [f"| {r['input_s']} | {r['harvest_rtf']:.3f} | {r['dio_rtf']:.3f} | {r['swift_rtf']:.3f} | "
              f"{r['harvest_over_dio']:.1f}× | {r['harvest_over_swift']:.1f}× |" for r in results["f0"]]
    lines += ["", "| base TTS | first audio (ms) | RTF, four sentences | seconds for them | "
              "RTF, one sentence |", "|---|---|---|---|---|"]
    for r in results["tts"]:
        lines.append(f"| {r['engine']} | {r.get('first_audio_ms', '–')} | {r.get('rtf', r.get('error'))} | "
                     f"{r.get('seconds', '–')} | {r.get('rtf_one_sentence', '–')} |")
    search = results.get("style_search")
    if search and "error" not in search:
        lines += ["", f"Kokoro clone search: {search['steps']} steps in {search['seconds']} s "
                  f"(start {search['setup_s']} s, then ~{search['seconds_per_step']} s per step; the standard "
                  f"{search['standard_budget_s']:.0f} s budget fits ~{search['standard_steps_fit']}; "
                  f"a machine's first search also loads the models and speaks the bundled voices: "
                  f"start {search.get('first_search_setup_s', '–')} s)"]
    if results.get("judges"):
        from voxclone.eval.bench_judges import judges_markdown

        lines += ["", judges_markdown(results["judges"], 10.0)]
    if results.get("first_use") and "error" not in results["first_use"]:
        from voxclone.eval.bench_first_use import first_use_markdown

        lines += ["", first_use_markdown(results["first_use"])]
    if "knn" in results:
        from voxclone.eval.bench_knn import knn_markdown

        lines += ["", knn_markdown(results["knn"])]
    if "adapt" in results:
        from voxclone.eval.bench_adapt import adapt_markdown

        lines += ["", adapt_markdown(results["adapt"])]
    if "openvoice" in results:
        from voxclone.eval.bench_openvoice import openvoice_markdown

        lines += ["", openvoice_markdown(results["openvoice"])]
    return "\n".join(lines)


def write_results(results: dict[str, Any], out_dir: Path = Path("bench/results")) -> Path:
    """Save JSON (with machine info) and Markdown under ``out_dir``; return the JSON path."""
    payload = {"machine": platform.machine(), "python": platform.python_version(),
               "config": asdict(BenchConfig()), **results}
    return save_results("bench", payload, markdown(results), out_dir)
