"""Cost of the instruments: CPU seconds per audio second of each recogniser and speaker judge.

CPU time (``time.process_time``, this process's threads together) is reported beside wall time:
on a shared machine the wall clock measures the load, the CPU time measures the instrument.
Every figure is a median over ``runs`` after one warm-up call, all in one run side by side.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from voxclone.audio.types import Audio


def _cost(fn: Callable[[], Any], seconds: float, runs: int) -> dict[str, float]:
    fn()
    cpu, wall = [], []
    for _ in range(runs):
        c0, w0 = time.process_time(), time.perf_counter()
        fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return {"cpu_s_per_s": round(statistics.median(cpu) / seconds, 4),
            "rtf": round(statistics.median(wall) / seconds, 4)}


def run_judges_bench(audio: Audio, runs: int = 3) -> list[dict[str, Any]]:
    """One row per instrument: name, role, CPU-s per audio second, wall RTF (or an error)."""
    from voxclone.asr import transcribe
    from voxclone.audio.speaker import referee_encoder, speaker_encoder
    from voxclone.errors import VoxcloneError

    rows = []
    instruments = [
        ("whisper tiny.en (beam 5, word times)", "ASR, English",
         lambda: transcribe(audio, "en", "whisper", words=True)),
        ("whisper tiny.en (beam 5)", "ASR, English (eval)",
         lambda: transcribe(audio, "en", "whisper", words=False)),
        ("whisper base (beam 5)", "ASR, other languages",
         lambda: transcribe(audio, "en", "whisper-base", words=False)),
        ("pocketsphinx en-us", "ASR, old figures only",
         lambda: transcribe(audio, "en", "pocketsphinx", words=False)),
        ("resemblyzer", "speaker judge that selects", lambda: speaker_encoder().embed(audio)),
        ("d-vector", "speaker judge that referees", lambda: referee_encoder().embed(audio)),
    ]
    for name, role, fn in instruments:
        try:
            rows.append({"instrument": name, "role": role, **_cost(fn, audio.duration, runs)})
        except VoxcloneError as exc:
            rows.append({"instrument": name, "role": role, "error": str(exc)})
    return rows


def judges_markdown(rows: list[dict[str, Any]], seconds: float) -> str:
    """The rows as a Markdown table."""
    lines = [f"Instruments on {seconds:.0f} s of espeak-ng speech:", "",
             "| instrument | role | CPU-s per audio s | wall RTF |", "|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['instrument']} | {r['role']} | {r.get('cpu_s_per_s', r.get('error'))} | "
                     f"{r.get('rtf', '–')} |")
    return "\n".join(lines)
