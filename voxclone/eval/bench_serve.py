"""Server latency: the first request after start (warm-up on vs off) and 10 concurrent clients.

    python -m voxclone.eval.bench_serve [--clients 10] [--requests 3] [--out bench/results]

A temporary VOXCLONE_HOME holds voice ``arctic`` (the CMU ARCTIC clip pysptk ships) with its
profiles built and its Kokoro style cache entry filled with the bundled ``jf_alpha`` table, which
stands in for a searched style (latency does not depend on the values); the Kokoro model files of
the user's VOXCLONE_HOME are linked in, so nothing is joined again. The server runs with its
default engine setting (auto: en → the measured pair) on uvicorn at 127.0.0.1.

Each start is a fresh process, so nothing is warm from before: time to the first ``/health``,
the warm-up, then the first and second request for the cached voice and one for a plain voice
(OpenAI's ``alloy``); once with the warm-up, once without. The warm process then takes the load:
``clients`` clients at once, each sending ``requests`` short requests one after another, half of
the clients to the plain voice, half to the cached one: p50/p95 latency and throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from voxclone.eval.bench_files import save_results

VOICE, PLAIN, TEXT = "arctic", "alloy", "Hello there, how are you?"
MODULE = "voxclone.eval.bench_serve"


def prepare_home(home: Path) -> None:
    """Voice ``arctic`` with its profiles and a filled style cache; Kokoro's files linked in."""
    os.environ["VOXCLONE_HOME"] = str(home)
    from voxclone.config import Settings
    from voxclone.convert.base import get_converter
    from voxclone.pipeline.config import PipelineConfig
    from voxclone.pipeline.defaults import default_pipeline
    from voxclone.pipeline.kokoro_clone import StyleSearchConfig, StyleSearchResult
    from voxclone.pipeline.style_cache import save_style, style_path
    from voxclone.tts.base import get_tts
    from voxclone.voices import VoiceLibrary

    source = Path.home() / ".local" / "share" / "voxclone" / "models" / "kokoro"
    if source.is_dir():
        (home / "models" / "kokoro").mkdir(parents=True, exist_ok=True)
        for f in source.iterdir():
            if f.is_file():
                os.link(f, home / "models" / "kokoro" / f.name)
    import pysptk

    library = VoiceLibrary(Settings(home=home))
    info = library.add(VOICE, [pysptk.util.example_audio_file()])
    for conv in {"world", default_pipeline("en")[1]} - {"none"}:
        library.profile(VOICE, get_converter(conv))
    kokoro = get_tts("kokoro")
    table = kokoro.style_table("jf_alpha")
    path = style_path([c.sha256 for c in info.clips], StyleSearchConfig(effort=PipelineConfig().effort),
                      kokoro, Settings(home=home))
    save_style(path, StyleSearchResult(table, "jf_alpha", 0.0, 0.0, 0.0, 0.0, None, None, 0, 0.0))


def _post(client: Any, voice: str) -> float:
    start = time.perf_counter()
    r = client.post("/v1/audio/speech", json={"input": TEXT, "voice": voice, "response_format": "wav"})
    if r.status_code != 200:
        raise RuntimeError(f"{voice}: {r.status_code} {r.text}")
    return round(time.perf_counter() - start, 3)


async def _load(base_url: str, clients: int, requests: int) -> dict[str, Any]:
    import httpx

    async def one_client(i: int) -> list[tuple[str, float]]:
        voice = PLAIN if i % 2 == 0 else VOICE
        out = []
        async with httpx.AsyncClient(base_url=base_url, timeout=600.0) as client:
            for _ in range(requests):
                start = time.perf_counter()
                r = await client.post("/v1/audio/speech", json={"input": TEXT, "voice": voice,
                                                                 "response_format": "wav"})
                if r.status_code != 200:
                    raise RuntimeError(f"{voice}: {r.status_code} {r.text}")
                out.append((voice, time.perf_counter() - start))
        return out

    start = time.perf_counter()
    results = [x for xs in await asyncio.gather(*(one_client(i) for i in range(clients))) for x in xs]
    wall = time.perf_counter() - start

    def stats(lat: list[float]) -> dict[str, float]:
        return {"n": len(lat), "p50_s": round(float(np.percentile(lat, 50)), 3),
                "p95_s": round(float(np.percentile(lat, 95)), 3), "max_s": round(max(lat), 3)}

    return {"clients": clients, "requests_per_client": requests, "wall_s": round(wall, 2),
            "throughput_rps": round(len(results) / wall, 3), "all": stats([s for _, s in results]),
            "cached_voice": stats([s for v, s in results if v == VOICE]),
            "plain_voice": stats([s for v, s in results if v == PLAIN])}


def serve_once(warmup: bool, clients: int, requests: int) -> dict[str, Any]:
    """In this (fresh) process: start a server, time the first requests, then the load."""
    t0 = time.perf_counter()
    import httpx

    from voxclone.serve import ServeConfig, create_app
    from voxclone.serve.testing import running_server

    config = ServeConfig(warmup=warmup)
    with running_server(create_app(config, ui=False), timeout_s=300) as url:
        with httpx.Client(base_url=url, timeout=600.0) as client:
            health = client.get("/health").json()
            out: dict[str, Any] = {"warmup": warmup, "workers": config.workers,
                                   "health_s": round(time.perf_counter() - t0, 2),
                                   "engine": health["engines_by_language"]["en"]}
            if warmup:
                while client.get("/health").json()["warmup"]["state"] != "done":
                    time.sleep(0.2)
                status = client.get("/health").json()["warmup"]
                out.update(warmup_s=status["seconds"], warmup_steps_ms=status["steps_ms"],
                           warmup_errors=status["errors"])
            out["first_cached_s"] = _post(client, VOICE)
            out["second_cached_s"] = _post(client, VOICE)
            out["first_plain_s"] = _post(client, PLAIN)
            out["second_plain_s"] = _post(client, PLAIN)
        if clients:
            out["load"] = asyncio.run(_load(url, clients, requests))
    return out


def markdown(results: dict[str, Any]) -> str:
    """The figures as Markdown tables."""
    warm, cold = results["warm"], results["cold"]
    rows = [("first /health after start", "health_s"), ("warm-up", "warmup_s"),
            ("first request, cached voice", "first_cached_s"), ("second request, cached voice", "second_cached_s"),
            ("first request, plain voice", "first_plain_s"), ("second request, plain voice", "second_plain_s")]
    fmt = lambda d, k: f"{d[k]:.2f}" if d.get(k) is not None else "–"  # noqa: E731
    lines = [f"server engine for en: {warm['engine']}; {warm['workers']} workers; load average "
             f"before {results['load_average'][0]:.2f}", "",
             "| seconds | warm-up on | warm-up off |", "|---|---|---|"]
    lines += [f"| {name} | {fmt(warm, key)} | {fmt(cold, key)} |" for name, key in rows]
    load = warm["load"]
    lines += ["", f"{load['clients']} clients × {load['requests_per_client']} requests at once: "
              f"{load['throughput_rps']:.2f} requests/s ({load['wall_s']:.1f} s)", "",
              "| voice | requests | p50 s | p95 s | max s |", "|---|---|---|---|---|"]
    for kind in ("all", "cached_voice", "plain_voice"):
        s = load[kind]
        lines.append(f"| {kind.replace('_', ' ')} | {s['n']} | {s['p50_s']:.2f} | {s['p95_s']:.2f} | {s['max_s']:.2f} |")
    return "\n".join(lines)


def run(clients: int = 10, requests: int = 3) -> dict[str, Any]:
    """Both starts, each in a fresh process over one prepared home."""
    with tempfile.TemporaryDirectory(prefix="voxclone-bench-serve-") as tmp:
        home = Path(tmp) / "home"
        subprocess.run([sys.executable, "-m", MODULE, "--prepare", str(home)], check=True)
        results: dict[str, Any] = {"load_average": os.getloadavg(), "text": TEXT}
        for key, args in (("cold", ["--no-warmup", "--clients", "0"]),
                          ("warm", ["--clients", str(clients), "--requests", str(requests)])):
            out = subprocess.run([sys.executable, "-m", MODULE, "--child", *args], check=True,
                                 capture_output=True, text=True, env={**os.environ, "VOXCLONE_HOME": str(home)})
            results[key] = json.loads(out.stdout.strip().splitlines()[-1])
        results["load_average_after"] = os.getloadavg()
    return results


def write_results(results: dict[str, Any], out_dir: Path) -> Path:
    """JSON and Markdown under ``out_dir``; the JSON path."""
    return save_results("serve", results, markdown(results), out_dir)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--requests", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    parser.add_argument("--prepare", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-warmup", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.prepare:
        prepare_home(args.prepare)
    elif args.child:
        print(json.dumps(serve_once(not args.no_warmup, args.clients, args.requests)))
    else:
        results = run(args.clients, args.requests)
        print(markdown(results))
        print(f"\nsaved {write_results(results, args.out)}")


if __name__ == "__main__":
    main()
