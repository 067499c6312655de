"""Soprano speed per backend, side by side with the official soprano-tts code on the same random
full-size Soprano-1.1-80M weights, in one run.

Random weights never emit ``[STOP]``, so each sentence is generated to a fixed token count: the
tokens real speech of it would take, ``ceil(chars / CHARS_PER_SECOND · 15.625)`` (15.625 tokens
per second of 32 kHz audio; ``CHARS_PER_SECOND`` = 14 characters of normalised text per second,
about 165 words a minute). The official ``infer`` runs every row of its batch until the longest
row ends (as it would with real weights) and always asks for 512 tokens, so its ``generate`` is
capped at the longest sentence's count. Backends run round-robin (one timed call each per round,
best of ``runs``), so load from other processes falls on all alike; the load average is saved.

    python -m voxclone.eval.bench_soprano [--runs 2] [--threads 1] [--out bench/results]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import tempfile
import time
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from voxclone.eval.bench_files import save_results
from voxclone.tts.soprano.config import SAMPLE_RATE, TOKEN_SIZE

CHARS_PER_SECOND = 14.0
ONE = "The old lighthouse keeper climbed the spiral stairs every evening at dusk."
FOUR = (ONE + " He polished the great lens until it gleamed like a second moon over the bay."
        " Ships far out at sea would see its beam and know that land was near at last."
        " In all his years on the rock, not a single vessel was lost on those cruel reefs.")
BACKENDS = ("official", "torch", "onnxruntime", "onnxruntime-int8", "openvino", "openvino-int8")


@dataclass(frozen=True)
class SopranoBenchConfig:
    """runs: rounds (best of); threads: intra-op threads of every backend (and torch);
    backends: ``official`` (soprano-tts, transformers on CPU) and ours."""

    runs: int = 2
    threads: int = 1
    backends: tuple[str, ...] = BACKENDS


def token_budget(sentence: str) -> int:
    """Tokens real speech of ``sentence`` would take (see the module docstring)."""
    return max(2, math.ceil(len(sentence) / CHARS_PER_SECOND * SAMPLE_RATE / TOKEN_SIZE))


class Official:
    """The official SopranoTTS (transformers backend, CPU) on a model folder, ``generate`` capped."""

    def __init__(self, model_dir: Path) -> None:
        import torch
        from soprano.backends.transformers import TransformersModel
        from soprano.tts import SopranoTTS
        from soprano.vocos.decoder import SopranoDecoder

        self.tts = SopranoTTS.__new__(SopranoTTS)
        with contextlib.redirect_stdout(io.StringIO()):
            self.tts.pipeline = TransformersModel(device="cpu", model_path=str(model_dir))
        self.tts.pipeline.tokenizer.padding_side = "left"  # batched generate needs it
        decoder = SopranoDecoder()
        decoder.load_state_dict(torch.load(model_dir / "decoder.pth", weights_only=True))
        self.tts.decoder, self.tts.device = decoder.eval(), "cpu"
        self.tts.decoder_batch_size, self.tts.RECEPTIVE_FIELD, self.tts.TOKEN_SIZE = 1, 4, 2048
        self._generate = self.tts.pipeline.model.generate
        self.cap, self.lm_s = 512, 0.0

        def generate(**kw: Any) -> Any:
            start = time.perf_counter()
            try:
                return self._generate(**{**kw, "max_new_tokens": self.cap})
            finally:
                self.lm_s += time.perf_counter() - start
        self.tts.pipeline.model.generate = generate

    def run(self, text: str, budgets: list[int]) -> dict[str, float]:
        self.cap, self.lm_s = max(budgets), 0.0
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            audio = self.tts.infer(text)
        total = time.perf_counter() - start
        return {"total_s": total, "lm_s": self.lm_s, "decoder_istft_s": total - self.lm_s,
                "audio_s": len(audio) / SAMPLE_RATE}

    def first_audio(self, text: str) -> float:
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            stream = self.tts.infer_stream(text)
            next(stream)
        elapsed = time.perf_counter() - start
        stream.close()
        return elapsed


def _ours(tts: Any, text: str, budgets: list[int]) -> dict[str, float]:
    start = time.perf_counter()
    result = tts.synthesize(text, token_limits=budgets)
    total = time.perf_counter() - start
    ms = result.timings_ms
    steps = max(budgets) - 1
    return {"total_s": total, "lm_prefill_ms": ms.get("lm_prefill", 0.0),
            "lm_steps_ms": ms.get("lm_steps", 0.0),
            "per_step_ms": ms.get("lm_steps", 0.0) / max(steps, 1),
            "per_token_ms": ms.get("lm_steps", 0.0) / max(sum(budgets) - len(budgets), 1),
            "decoder_ms": ms.get("decoder", 0.0), "istft_ms": ms.get("istft", 0.0),
            "lm_s": (ms.get("lm_prefill", 0.0) + ms.get("lm_steps", 0.0)) / 1000,
            "audio_s": result.duration}


def _pipeline_first_audio(tts: Any, text: str) -> float:
    """Seconds to the first post-processed chunk, as ``say --stream``/HTTP streaming make it:
    the first chunk after 4 + 2 tokens, then the streaming post stage (running level, 24 kHz,
    watermark with its 50 ms hold)."""
    from voxclone.pipeline.config import PipelineConfig
    from voxclone.pipeline.stream_post import StreamPost

    start = time.perf_counter()
    post = StreamPost(SAMPLE_RATE, PipelineConfig())
    chunks = tts.stream(text, chunk_size=4, first_chunk=2)
    for chunk in chunks:
        if len(post.push(chunk.samples)):
            break
    elapsed = time.perf_counter() - start
    chunks.close()
    return elapsed


def run_soprano_bench(config: SopranoBenchConfig = SopranoBenchConfig(),
                      model_dir: Path | None = None) -> dict[str, Any]:
    """Timings per backend and text; ratios over the official code."""
    import torch

    from voxclone.tts.soprano.engine import SopranoTTS
    from voxclone.tts.soprano.split import text_to_sentences
    from voxclone.tts.soprano.testing import make_model_dir

    torch.set_num_threads(config.threads)
    tmp = None
    if model_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="soprano-bench-")
        model_dir = make_model_dir(Path(tmp.name) / "soprano-1.1-80m", "full", "1.1")
    names = [n for n in config.backends
             if (n == "official" and find_spec("soprano")) or n == "torch"
             or (n not in ("official", "torch") and find_spec(n.split("-")[0]))]
    load_before = os.getloadavg()
    engines: dict[str, Any] = {}
    for name in names:
        engines[name] = (Official(model_dir) if name == "official"
                         else SopranoTTS(model_dir, backend=name, num_threads=config.threads))
    texts = {"one": ONE, "four": FOUR}
    budgets = {k: [token_budget(s) for s in text_to_sentences(t)] for k, t in texts.items()}
    rows: dict[tuple[str, str], dict[str, float]] = {}
    ttfa: dict[str, float] = {}
    pipe_ttfa: dict[str, float] = {}
    for _ in range(config.runs):
        for name, engine in engines.items():
            for key, text in texts.items():
                run = engine.run(text, budgets[key]) if name == "official" \
                    else _ours(engine, text, budgets[key])
                if (name, key) not in rows or run["total_s"] < rows[name, key]["total_s"]:
                    rows[name, key] = run
            first = engine.first_audio(ONE) if name == "official" else engine.time_to_first_audio(ONE)
            ttfa[name] = min(ttfa.get(name, math.inf), first)
            if name != "official":
                piped = _pipeline_first_audio(engine, ONE)
                pipe_ttfa[name] = min(pipe_ttfa.get(name, math.inf), piped)
    load_after = os.getloadavg()
    gates = {}
    for runtime in ("onnxruntime", "openvino"):
        path = model_dir / "onnx" / f"{runtime}-int8.json"
        if path.is_file():
            gates[f"{runtime}-int8"] = json.loads(path.read_text())
    results = []
    for (name, key), run in rows.items():
        nominal = sum(b - 1 for b in budgets[key]) * TOKEN_SIZE / SAMPLE_RATE
        official = rows.get(("official", key))
        results.append({"backend": name, "text": key, "sentences": len(budgets[key]),
                        "tokens": budgets[key], **{k: round(v, 4) for k, v in run.items()},
                        "rtf": round(run["total_s"] / nominal, 4),
                        "speedup_vs_official": round(official["total_s"] / run["total_s"], 2)
                        if official else None,
                        "first_audio_ms": round(1000 * ttfa[name], 1),
                        "pipeline_first_audio_ms": round(1000 * pipe_ttfa[name], 1)
                        if name in pipe_ttfa else None})
    if tmp is not None:
        tmp.cleanup()
    return {"threads": config.threads, "runs": config.runs, "chars_per_second": CHARS_PER_SECOND,
            "load_avg_before": [round(x, 2) for x in load_before],
            "load_avg_after": [round(x, 2) for x in load_after], "texts": texts,
            "int8_gates": gates, "results": results, "torch": torch.__version__}


def soprano_markdown(results: dict[str, Any]) -> str:
    """A Markdown table of :func:`run_soprano_bench`'s results."""
    lines = [f"Soprano-1.1-80M, random full-size weights, {results['threads']} thread(s), best of "
             f"{results['runs']} (load average {results['load_avg_before'][0]} → "
             f"{results['load_avg_after'][0]}); token counts: "
             f"{results['chars_per_second']} characters per second of speech.", "",
             "| backend | text | tokens | total s | LM prefill ms | per step ms | decoder ms | "
             "ISTFT ms | RTF | × official | first audio ms | first audio ms, pipeline |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results["results"]:
        prefill = f"{r['lm_prefill_ms']:.0f}" if "lm_prefill_ms" in r else f"(LM {r['lm_s']:.2f} s)"
        step = f"{r['per_step_ms']:.1f}" if "per_step_ms" in r else "–"
        dec = f"{r['decoder_ms']:.0f}" if "decoder_ms" in r else f"(+ISTFT {1000 * r['decoder_istft_s']:.0f})"
        ist = f"{r['istft_ms']:.0f}" if "istft_ms" in r else "–"
        lines.append(f"| {r['backend']} | {r['text']} | {sum(r['tokens'])} | {r['total_s']:.2f} | "
                     f"{prefill} | {step} | {dec} | {ist} | {r['rtf']:.3f} | "
                     f"{r['speedup_vs_official'] or '–'} | {r['first_audio_ms']:.0f} | "
                     f"{r.get('pipeline_first_audio_ms') or '–'} |")
    lines.append("\nfirst audio: the engine's first chunk (after 4 + 1 tokens); pipeline: what "
                 "`say --stream` and HTTP streaming send first (after 4 + 2 tokens, through the "
                 "streaming post stage: level, 24 kHz, watermark).")
    for name, gate in results.get("int8_gates", {}).items():
        lines.append(f"\n{name} gate: LM hidden-state PCC {gate['lm_hidden_pcc']:.5f}, decoder audio "
                     f"PCC {gate['decoder_audio_pcc']:.6f} (SNR {gate['decoder_audio_snr_db']:.1f} dB)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Run the bench and write JSON + Markdown under ``--out``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--out", default="bench/results")
    args = parser.parse_args(argv)
    results = run_soprano_bench(SopranoBenchConfig(args.runs, args.threads,
                                                   tuple(args.backends.split(","))))
    table = soprano_markdown(results)
    print(table)
    print(f"\nsaved {save_results('soprano', results, table, args.out)}")


if __name__ == "__main__":
    main()
