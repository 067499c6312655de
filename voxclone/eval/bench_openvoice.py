"""OpenVoice V2 converter speed per backend, side by side on the same random full-config weights.

Backends run round-robin (one timed conversion each per round), so load from other processes
falls on all of them alike; the load average is recorded before and after.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np

from voxclone.audio.types import Audio
from voxclone.convert.openvoice.config import OpenVoiceConfig


@dataclass(frozen=True)
class OpenVoiceBenchConfig:
    """seconds: input length; runs: timed rounds (median); threads: per backend;
    backends: names, ``openvino-bf16`` being OpenVINO with bfloat16 inference and
    ``onnxruntime-int8`` ONNX Runtime with int8 convolutions; model: the
    network's config (default: the released V2 converter's)."""

    seconds: float = 10.0
    runs: int = 3
    threads: int = 2
    backends: tuple[str, ...] = ("torch", "onnxruntime", "onnxruntime-int8", "openvino",
                                 "openvino-bf16")
    model: OpenVoiceConfig = field(default_factory=OpenVoiceConfig)


def _load(model_dir: Path, name: str, threads: int):
    from voxclone.convert.openvoice import OpenVoiceConverter

    backend, precision = (name, "f32") if name != "openvino-bf16" else ("openvino", "bf16")
    return OpenVoiceConverter.from_pretrained(model_dir, backend=backend, num_threads=threads,
                                              precision=precision)


def _pcc(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(np.ravel(a), np.ravel(b))[0, 1])


def run_openvoice_bench(source: Audio, config: OpenVoiceBenchConfig = OpenVoiceBenchConfig()) -> dict[str, Any]:
    """RTF of ``convert`` (``source`` cut to ``config.seconds``) and of tone extraction per backend,
    speed ratios over torch, and output PCC against torch."""
    import torch

    from voxclone.convert.openvoice.testing import write_random_checkpoint

    torch.set_num_threads(config.threads)
    names = [n for n in config.backends if n == "torch" or find_spec(n.split("-")[0]) is not None]
    audio = Audio(source.samples[: int(config.seconds * source.sample_rate)], source.sample_rate)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = write_random_checkpoint(Path(tmp) / "openvoice-v2", config.model, seed=0)
        convs = {n: _load(model_dir, n, config.threads) for n in names}
        src = convs["torch"].extract_tone_color(audio, vad=False)
        tgt = np.roll(src, 7)  # another tone colour of the same scale
        outs = {n: c.convert(audio, src, tgt, tau=0.0).samples for n, c in convs.items()}  # warm-up
        times: dict[str, list[float]] = {n: [] for n in names}
        tone_times: dict[str, list[float]] = {n: [] for n in names}
        for _ in range(config.runs):
            for n, c in convs.items():
                start = time.perf_counter()
                c.convert(audio, src, tgt, tau=0.0)
                times[n].append(time.perf_counter() - start)
                start = time.perf_counter()
                c.extract_tone_color(audio, vad=False)
                tone_times[n].append(time.perf_counter() - start)
    base = statistics.median(times["torch"])
    rows = [{"backend": n, "rtf": round(statistics.median(times[n]) / audio.duration, 4),
             "speedup_vs_torch": round(base / statistics.median(times[n]), 2),
             "tone_rtf": round(statistics.median(tone_times[n]) / audio.duration, 4),
             "pcc_vs_torch": round(_pcc(outs[n], outs["torch"]), 6)} for n in names]
    return {"input_s": round(audio.duration, 2), "threads": config.threads, "runs": config.runs,
            "load_avg_before": round(load_before, 2), "load_avg_after": round(os.getloadavg()[0], 2),
            "backends": rows}


def openvoice_markdown(results: dict[str, Any]) -> str:
    """The figures as a Markdown table."""
    lines = [f"OpenVoice V2 converter, {results['input_s']} s input, {results['threads']} threads, "
             f"median of {results['runs']} (load average {results['load_avg_before']} → "
             f"{results['load_avg_after']}):", "",
             "| backend | RTF convert | speed-up vs torch | RTF tone colour | PCC vs torch |",
             "|---|---|---|---|---|"]
    lines += [f"| {r['backend']} | {r['rtf']:.3f} | {r['speedup_vs_torch']:.2f}× | {r['tone_rtf']:.4f} | "
              f"{r['pcc_vs_torch']:.6f} |" for r in results["backends"]]
    return "\n".join(lines)


if __name__ == "__main__":
    from voxclone.eval.bench import speech_of

    print(openvoice_markdown(run_openvoice_bench(speech_of(10.0))))
