"""F0 trackers for ``convert``, side by side in one run: agreement with harvest, CPU cost, the
conversion's RTF end to end, and its quality (both speaker judges, Whisper WER).

Agreement is measured on WORLD's grid (22050 Hz, 5 ms) against harvest: gross pitch error (share
of frames both call voiced that differ by more than 50 cents), fine error (mean cents on the
others) and voicing decision error (share of all frames where the voicing differs). The dev set is
``../shared/eval-data`` (real speech) plus base-TTS speech; without the dev set only the TTS speech
and the timings are measured. ``python -m voxclone.eval.bench_f0`` writes JSON + Markdown.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from voxclone.audio.dsp import resample
from voxclone.audio.f0 import F0_METHODS, extract_f0
from voxclone.audio.io import load
from voxclone.audio.types import Audio
from voxclone.errors import VoxcloneError
from voxclone.eval.bench_files import save_results

EVAL_DATA = Path(__file__).resolve().parents[3] / "shared" / "eval-data"
TTS_TEXTS = ("The birch canoe slid on the smooth planks.",
             "Glue the sheet to the dark blue background, then wait an hour.")
TTS_VOICES = (("espeak", None), ("espeak", "en-us+f3"), ("piper", None), ("kokoro", None))


@dataclass(frozen=True)
class F0BenchConfig:
    """methods: trackers compared (harvest is the reference); clips_per_speaker: dev clips per
    speaker for agreement; pairs: source→target conversions scored for quality (0 skips);
    rtf_seconds: length of the timed conversion input; runs: timed runs (median);
    target_pairs: conversions scored with the *target's* statistics made by each of
    ``target_methods`` (0 skips)."""

    methods: tuple[str, ...] = F0_METHODS
    clips_per_speaker: int = 3
    pairs: int = 8
    target_pairs: int = 12
    target_methods: tuple[str, ...] = ("harvest", "swift")
    rtf_seconds: float = 10.0
    runs: int = 3
    eval_data: str = str(EVAL_DATA)


@dataclass(frozen=True)
class Clip:
    """A named piece of speech, its group ("real" or "tts") and transcript ('' when unknown)."""

    name: str
    group: str
    audio: Audio
    text: str = ""


def agreement(ref: np.ndarray, est: np.ndarray) -> dict[str, float]:
    """Gross pitch error, fine cents error and voicing decision error of ``est`` against ``ref``
    (F0 tracks in Hz on the same frames, 0 = unvoiced)."""
    n = min(len(ref), len(est))
    ref, est = ref[:n], est[:n]
    both = (ref > 0) & (est > 0)
    cents = 1200.0 * np.abs(np.log2(est[both] / ref[both]))
    fine = cents[cents <= 50.0]
    return {"gpe": float((cents > 50.0).mean()) if len(cents) else 0.0,
            "cents": float(fine.mean()) if len(fine) else 0.0,
            "vde": float(((ref > 0) != (est > 0)).mean()),
            "voiced": float((est > 0).mean())}


def tts_clips() -> list[Clip]:
    """Base-TTS speech of :data:`TTS_TEXTS` by each installed engine of :data:`TTS_VOICES`."""
    from voxclone.tts.base import get_tts

    out = []
    for engine, voice in TTS_VOICES:
        try:
            tts = get_tts(engine)
            out += [Clip(f"{engine}:{voice or 'default'}", "tts", tts.synthesize(t, "en", voice), t)
                    for t in TTS_TEXTS]
        except VoxcloneError:
            continue
    return out


def dev_clips(root: Path, per_speaker: int) -> list[Clip]:
    """The first ``per_speaker`` clips (2–16 s) of every English speaker of the dev set."""
    from voxclone.eval.dataset import find_sets, read_manifest

    if not root.is_dir():
        return []
    out = []
    for set_dir in find_sets(root):
        seen: dict[str, int] = {}
        for u in read_manifest(set_dir):
            if u.lang != "en" or not 2.0 <= u.duration_s <= 16.0 or seen.get(u.speaker, 0) >= per_speaker:
                continue
            seen[u.speaker] = seen.get(u.speaker, 0) + 1
            out.append(Clip(f"{set_dir.name}/{u.speaker}{u.gender}", "real", load(u.path), u.transcript))
    return out


def tracker_rows(clips: list[Clip], methods: tuple[str, ...], sample_rate: int = 22050,
                 ) -> list[dict[str, Any]]:
    """Per method and group: mean agreement with harvest over clips, CPU s per audio second."""
    cpu = {m: {"real": 0.0, "tts": 0.0} for m in methods}
    seconds = {"real": 0.0, "tts": 0.0}
    scores: dict[str, dict[str, list[dict[str, float]]]] = {m: {"real": [], "tts": []} for m in methods}
    for clip in clips:
        audio = resample(clip.audio, sample_rate)
        seconds[clip.group] += audio.duration
        tracks = {}
        for m in methods:
            start = time.process_time()
            tracks[m] = extract_f0(audio, m)[0]  # type: ignore[arg-type]
            cpu[m][clip.group] += time.process_time() - start
        for m in methods:
            scores[m][clip.group].append(agreement(tracks["harvest"], tracks[m]))
    rows = []
    for m in methods:
        for group in ("real", "tts"):
            if not scores[m][group]:
                continue
            mean = {k: round(statistics.mean(s[k] for s in scores[m][group]), 4)
                    for k in ("gpe", "cents", "vde", "voiced")}
            rows.append({"method": m, "group": group, "clips": len(scores[m][group]),
                         "cpu_s_per_s": round(cpu[m][group] / seconds[group], 4), **mean})
    return rows


def rtf_rows(source: Audio, profile: Any, methods: tuple[str, ...], runs: int) -> list[dict[str, Any]]:
    """``VoiceConversionPipeline.convert`` per tracker, runs interleaved: median wall RTF, CPU s
    per audio second and per-stage RTF."""
    from voxclone.pipeline import PipelineConfig, VoiceConversionPipeline
    from voxclone.timing import StageTimer

    vc = VoiceConversionPipeline(PipelineConfig())
    times: dict[str, list[tuple[float, float, dict[str, float]]]] = {m: [] for m in methods}
    for m in methods:
        vc.convert(source, profile, f0_method=m)  # warm-up (models, matrices)
    for _ in range(runs):
        for m in methods:
            timer = StageTimer()
            c0, w0 = time.process_time(), time.perf_counter()
            vc.convert(source, profile, timer=timer, f0_method=m)
            times[m].append((time.perf_counter() - w0, time.process_time() - c0, timer.ms))
    rows = []
    for m in methods:
        wall = statistics.median(t[0] for t in times[m])
        cpu = statistics.median(t[1] for t in times[m])
        stages = {k: round(statistics.median(t[2].get(k, 0.0) for t in times[m]) / 1000 / source.duration, 4)
                  for k in ("analysis", "conversion", "synthesis", "post")}
        rows.append({"method": m, "input_s": round(source.duration, 1), "rtf": round(wall / source.duration, 4),
                     "cpu_s_per_s": round(cpu / source.duration, 4), "rtf_stages": stages})
    return rows


def conversion_pairs(root: Path, n: int) -> list[tuple[Clip, list[Audio], list[Audio], str]]:
    """Up to ``n`` dev conversions (source clip, target enrolment clips, target held-out clips,
    target key): each speaker's held-out clip spoken in the next speaker's voice (speakers in
    set order, the multilingual set left out), plus one text per base-TTS voice (espeak-ng,
    Kokoro) toward the first speakers."""
    from voxclone.eval.dataset import find_sets, split_speakers

    if not root.is_dir():
        return []
    splits = [s for d in find_sets(root) if d.name != "multilingual" for s in split_speakers(d)[0]]
    pairs = []
    for i, src in enumerate(splits[:n]):
        tgt = splits[(i + 1) % len(splits)]
        utt = src.score[0]
        clip = Clip(src.key + src.gender, "real", load(utt.path), utt.transcript)
        pairs.append((clip, [load(u.path) for u in tgt.enrol], [load(u.path) for u in tgt.score + tgt.ceiling],
                      tgt.key + tgt.gender))
    for j, clip in enumerate(c for c in tts_clips() if c.name.split(":")[0] in ("espeak", "kokoro")):
        tgt = splits[j % len(splits)]
        if j % len(TTS_TEXTS) == 0:  # one text per engine voice
            pairs.append((clip, [load(u.path) for u in tgt.enrol],
                          [load(u.path) for u in tgt.score + tgt.ceiling], tgt.key + tgt.gender))
    return pairs


def quality_rows(pairs: list[tuple[Clip, list[Audio], list[Audio], str]], methods: tuple[str, ...],
                 ) -> list[dict[str, Any]]:
    """Per conversion and tracker: similarity to the target's held-out clips (resemblyzer,
    d-vector) and Whisper WER against the source's text."""
    from voxclone.convert.base import get_converter
    from voxclone.pipeline import PipelineConfig, VoiceConversionPipeline
    from voxclone.voices.profile import build_profile

    vc = VoiceConversionPipeline(PipelineConfig())
    judges = _judges()
    rows = []
    for clip, enrol, held, key in pairs:
        profile = build_profile(key.replace("/", "-"), enrol, get_converter("world"))
        refs = {name: [enc.embed(a) for a in held] for name, enc in judges.items()}
        for m in methods:
            out = vc.convert(clip.audio, profile, f0_method=m)
            rows.append({"source": clip.name, "group": clip.group, "target": key, "method": m,
                         **_scores(out, clip.text, refs, judges)})
    return rows


def _judges() -> dict[str, Any]:
    """The two speaker judges by their row names."""
    from voxclone.audio.speaker import referee_encoder, speaker_encoder

    return {"sim_resemblyzer": speaker_encoder(), "sim_dvector": referee_encoder()}


def _scores(out: Audio, text: str, refs: dict[str, list[np.ndarray]],
            judges: dict[str, Any]) -> dict[str, float]:
    """``out``'s similarity to the held-out embeddings ``refs`` per judge, and its Whisper WER
    against ``text``."""
    from voxclone.asr import word_error_rate
    from voxclone.eval.similarity import similarity_to_set

    row = {name: round(similarity_to_set(out, refs[name], enc), 4) for name, enc in judges.items()}
    row["wer"] = round(word_error_rate(out, text, "en")[0], 4)
    return row


def target_rows(pairs: list[tuple[Clip, list[Audio], list[Audio], str]],
                methods: tuple[str, ...]) -> list[dict[str, Any]]:
    """Per conversion and tracker for the *target's* enrolment clips (the profile's F0
    statistics and voiced/unvoiced split): the profile's build time, its log-F0 mean and spread,
    and the conversion's quality as :func:`quality_rows` (the source tracked by the default)."""
    from voxclone.convert.world import WorldConfig, WorldConverter
    from voxclone.pipeline import PipelineConfig, VoiceConversionPipeline
    from voxclone.voices.profile import build_profile

    vc = VoiceConversionPipeline(PipelineConfig())
    judges = _judges()
    rows = []
    for clip, enrol, held, key in pairs:
        refs = {name: [enc.embed(a) for a in held] for name, enc in judges.items()}
        for m in methods:
            began = time.process_time()
            converter = WorldConverter(WorldConfig(target_f0_method=m))  # type: ignore[arg-type]
            profile = build_profile(key.replace("/", "-"), enrol, converter)
            cpu = time.process_time() - began
            out = vc.convert(clip.audio, profile)
            rows.append({"source": clip.name, "group": clip.group, "target": key, "method": m,
                         "profile_cpu_s": round(cpu, 2),
                         "enrol_s": round(sum(a.duration for a in enrol), 1),
                         "lf0_mean": round(float(profile.features["lf0_mean"]), 4),
                         "lf0_std": round(float(profile.features["lf0_std"]), 4),
                         **_scores(out, clip.text, refs, judges)})
    return rows


def quality_summary(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Means per tracker over the conversions, and the mean paired difference from harvest."""
    out = []
    methods = list(dict.fromkeys(r["method"] for r in rows))
    for m in methods:
        mine = [r for r in rows if r["method"] == m]
        base = {(r["source"], r["target"]): r for r in rows if r["method"] == "harvest"}
        summary = {"method": m, "conversions": len(mine)}
        for k in ("sim_resemblyzer", "sim_dvector", "wer"):
            summary[k] = round(statistics.mean(r[k] for r in mine), 4)
            diffs = [r[k] - base[(r["source"], r["target"])][k] for r in mine if (r["source"], r["target"]) in base]
            summary[f"{k}_vs_harvest"] = round(statistics.mean(diffs), 4) if diffs else None
        out.append(summary)
    return out


def target_summary(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """:func:`quality_summary` of :func:`target_rows` plus the profile's CPU seconds per second
    of enrolment and, against harvest's statistics, the mean absolute log-F0 mean difference
    (cents) and the mean ratio of log-F0 spreads."""
    out = quality_summary(rows)
    base = {(r["source"], r["target"]): r for r in rows if r["method"] == "harvest"}
    for summary in out:
        mine = [r for r in rows if r["method"] == summary["method"]]
        summary["profile_cpu_s_per_s"] = round(sum(r["profile_cpu_s"] for r in mine)
                                               / max(sum(r["enrol_s"] for r in mine), 1e-9), 4)
        pairs = [(r, base[(r["source"], r["target"])]) for r in mine
                 if (r["source"], r["target"]) in base]
        summary["lf0_mean_cents"] = round(statistics.mean(
            abs(r["lf0_mean"] - b["lf0_mean"]) * 1200 / np.log(2) for r, b in pairs), 1)
        summary["lf0_std_ratio"] = round(statistics.mean(
            r["lf0_std"] / b["lf0_std"] for r, b in pairs), 3)
    return out


def run_f0_bench(config: F0BenchConfig = F0BenchConfig()) -> dict[str, Any]:
    """All figures as a JSON-ready dict."""
    from voxclone.convert.base import get_converter
    from voxclone.eval.bench import speech_of
    from voxclone.voices.profile import build_profile

    root = Path(config.eval_data)
    clips = dev_clips(root, config.clips_per_speaker) + tts_clips()
    results: dict[str, Any] = {"config": asdict(config), "load_avg_before": list(os.getloadavg()),
                               "dev_set": root.is_dir()}
    results["trackers"] = tracker_rows(clips, config.methods)
    profile = build_profile("bench", [speech_of(20.0, "en-us+m7")], get_converter("world"))
    sources = [("espeak-ng", speech_of(config.rtf_seconds))]
    if root.is_dir():
        real = [c for c in clips if c.group == "real" and c.audio.duration >= config.rtf_seconds]
        sources += [("real", real[0].audio)] if real else []
    results["rtf"] = [{"source": name, **row} for name, audio in sources
                      for row in rtf_rows(audio, profile, config.methods, config.runs)]
    if config.pairs:
        rows = quality_rows(conversion_pairs(root, config.pairs), config.methods)
        results["quality"] = rows
        results["quality_summary"] = quality_summary(rows) if rows else []
    if config.target_pairs:
        rows = target_rows(conversion_pairs(root, config.target_pairs), config.target_methods)
        results["target"] = rows
        results["target_summary"] = target_summary(rows) if rows else []
    results["load_avg_after"] = list(os.getloadavg())
    return results


def f0_markdown(results: dict[str, Any]) -> str:
    """The figures as Markdown tables."""
    lines = [f"F0 trackers against harvest (load average {results['load_avg_before'][0]:.1f} → "
             f"{results['load_avg_after'][0]:.1f}; dev set {'present' if results['dev_set'] else 'absent'}):", "",
             "| tracker | speech | clips | CPU s per audio s (1 thread) | gross pitch error | fine error (cents) "
             "| voicing error | voiced frames |", "|---|---|---|---|---|---|---|---|"]
    for r in results["trackers"]:
        lines.append(f"| {r['method']} | {r['group']} | {r['clips']} | {r['cpu_s_per_s']:.4f} | {r['gpe']:.3f} | "
                     f"{r['cents']:.1f} | {r['vde']:.3f} | {r['voiced']:.3f} |")
    lines += ["", "`convert` end to end per tracker (runs interleaved):", "",
              "| source | tracker | input s | RTF | CPU s per s | analysis | conversion | synthesis | post |",
              "|---|---|---|---|---|---|---|---|---|"]
    for r in results["rtf"]:
        st = r["rtf_stages"]
        lines.append(f"| {r['source']} | {r['method']} | {r['input_s']} | {r['rtf']:.3f} | {r['cpu_s_per_s']:.3f} | "
                     f"{st['analysis']:.3f} | {st['conversion']:.3f} | {st['synthesis']:.3f} | {st['post']:.3f} |")
    if results.get("quality_summary"):
        lines += ["", "Conversion quality per tracker (means; Δ = paired difference from harvest):", "",
                  "| tracker | conversions | resemblyzer | Δ | d-vector | Δ | Whisper WER | Δ |",
                  "|---|---|---|---|---|---|---|---|"]
        for r in results["quality_summary"]:
            lines.append(f"| {r['method']} | {r['conversions']} | {r['sim_resemblyzer']:.3f} | "
                         f"{r['sim_resemblyzer_vs_harvest']:+.3f} | {r['sim_dvector']:.3f} | "
                         f"{r['sim_dvector_vs_harvest']:+.3f} | {r['wer']:.3f} | {r['wer_vs_harvest']:+.3f} |")
    if results.get("target_summary"):
        lines += ["", "Tracker of the target's statistics (enrolment clips; the source tracked by "
                  "the default; Δ = paired difference from harvest):", "",
                  "| tracker | conversions | profile CPU-s per s | log-F0 mean vs harvest (cents) | "
                  "log-F0 spread / harvest's | resemblyzer | Δ | d-vector | Δ | WER | Δ |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in results["target_summary"]:
            lines.append(f"| {r['method']} | {r['conversions']} | {r['profile_cpu_s_per_s']:.3f} | "
                         f"{r['lf0_mean_cents']:.0f} | {r['lf0_std_ratio']:.2f} | "
                         f"{r['sim_resemblyzer']:.3f} | {r['sim_resemblyzer_vs_harvest']:+.3f} | "
                         f"{r['sim_dvector']:.3f} | {r['sim_dvector_vs_harvest']:+.3f} | "
                         f"{r['wer']:.3f} | {r['wer_vs_harvest']:+.3f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Run the bench and write JSON + Markdown under ``--out``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pairs", type=int, default=8, help="dev conversions scored (0 skips)")
    parser.add_argument("--target-pairs", type=int, default=12,
                        help="dev conversions scored per tracker of the target's statistics (0 skips)")
    parser.add_argument("--methods", default=",".join(F0_METHODS))
    parser.add_argument("--eval-data", default=str(EVAL_DATA))
    parser.add_argument("--out", default="bench/results")
    args = parser.parse_args(argv)
    methods = tuple(args.methods.split(","))
    if "harvest" not in methods:
        methods = ("harvest", *methods)
    results = run_f0_bench(F0BenchConfig(methods, pairs=args.pairs, runs=args.runs,
                                             target_pairs=args.target_pairs, eval_data=args.eval_data))
    table = f0_markdown(results)
    print(table)
    print(f"\nsaved {save_results('f0', results, table, args.out)}")


if __name__ == "__main__":
    main()
