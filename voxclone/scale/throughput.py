"""Batch throughput: one `say` job run in this process, on a local process pool and on Ray.

``python -m voxclone.scale.throughput --items 20 --workers 2`` enrols the CMU ARCTIC clip that
pysptk ships in a temporary VOXCLONE_HOME, resolves its profile and base voice once (cached, not
timed), then runs the same manifest three ways and reports items/s and RTF (processing wall time
/ seconds of audio written; worker start-up apart), and whether all outputs are identical.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from voxclone.config import Settings
from voxclone.scale.batch import BatchOptions, job_spec, run_batch
from voxclone.scale.manifest import load_manifest
from voxclone.voices import VoiceLibrary

WORDS = ("river", "morning", "garden", "window", "letter", "market", "silver", "winter")


def write_manifest(path: Path, n: int) -> Path:
    """``n`` short sentences (about 2 s of speech each) as an id,text CSV."""
    rows = [f"item{i:03d},Number {i} is the {WORDS[i % len(WORDS)]} on the {WORDS[(3 * i + 1) % len(WORDS)]}."
            for i in range(n)]
    path.write_text("\n".join(["id,text", *rows]) + "\n", encoding="utf-8")
    return path


def run_throughput(items: int = 20, workers: int = 2, work_dir: Path | None = None,
                   reverse: bool = False) -> dict[str, Any]:
    """Run the three set-ups on one manifest (``reverse``: Ray first, to see order effects on a
    busy machine); return their figures as a JSON-ready dict."""
    from voxclone.demo import reference_file

    work = Path(work_dir or tempfile.mkdtemp(prefix="voxclone-batch-bench-"))
    settings = Settings(home=work / "home")
    VoiceLibrary(settings).add("arctic", [reference_file()])
    manifest = write_manifest(work / "items.csv", items)
    options = BatchOptions()
    t0 = time.perf_counter()
    job_spec("arctic", load_manifest(manifest)[0], options, settings)  # profile + base voice, cached
    setups = [("local, 1 process", {"workers": 1}),
              (f"local, {workers} processes", {"workers": workers}),
              (f"ray, {workers} actors", {"workers": workers, "ray": "local",
                                          "ray_init": {"num_cpus": workers,
                                                       "object_store_memory": 100 * 2**20}})]
    rows, outputs = [], []
    for name, kwargs in (setups[::-1] if reverse else setups):
        out = work / name.replace(",", "").replace(" ", "-")
        s = run_batch(manifest, out, "arctic", options, settings=settings, **kwargs)
        rows.append({"setup": name, "done": s.done, "failed": s.failed, "audio_s": round(s.audio_s, 2),
                     "seconds": round(s.seconds, 2), "startup_s": round(s.startup_s, 2),
                     "items_per_s": round(s.items_per_s, 2), "rtf": round(s.rtf, 4)})
        outputs.append({p.stem: sf.read(p, dtype="int16")[0] for p in out.glob("*.wav")})
    same = all(o.keys() == outputs[0].keys() and all(np.array_equal(o[k], outputs[0][k]) for k in o)
               for o in outputs)
    return {"items": items, "workers": workers, "cpus": os.cpu_count(), "rows": rows,
            "identical_outputs": same, "prepare_s": round(time.perf_counter() - t0, 1)}


def markdown(results: dict[str, Any]) -> str:
    """The figures as a Markdown table."""
    lines = ["| set-up | items | audio s | processing s | start-up s | items/s | RTF |",
             "|---|---|---|---|---|---|---|"]
    for r in results["rows"]:
        lines.append(f"| {r['setup']} | {r['done']} | {r['audio_s']} | {r['seconds']} | "
                     f"{r['startup_s']} | {r['items_per_s']} | {r['rtf']} |")
    lines.append(f"\nidentical outputs in all set-ups: {results['identical_outputs']}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    parser.add_argument("--reverse", action="store_true", help="Run the set-ups in reverse order.")
    args = parser.parse_args()
    results = run_throughput(args.items, args.workers, reverse=args.reverse)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    args.out.mkdir(parents=True, exist_ok=True)
    payload = {"date": stamp, "machine": platform.machine(), "load_average": os.getloadavg(), **results}
    (args.out / f"batch-{stamp}.json").write_text(json.dumps(payload, indent=2))
    (args.out / f"batch-{stamp}.md").write_text(markdown(results) + "\n")
    print(markdown(results))


if __name__ == "__main__":
    main()
