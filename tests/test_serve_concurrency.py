"""voxclone serve under load: 10 concurrent /v1/audio/speech requests on a real server."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from conftest import VOICE
from voxclone.serve import ServeConfig, create_app
from voxclone.serve.encode import pcm_samples
from voxclone.serve.testing import running_server

OUT = Path(__file__).resolve().parents[1] / "out" / "serve"
TEXTS = ["Hello there.", "Good morning to you.", "See you later."]
N_REQUESTS = 10


async def _speak(client: httpx.AsyncClient, text: str) -> tuple[httpx.Response, float]:
    start = time.perf_counter()
    r = await client.post("/v1/audio/speech", json={"input": text, "voice": VOICE,
                                                     "response_format": "pcm"})
    return r, time.perf_counter() - start


async def _health_probe(client: httpx.AsyncClient, stop: asyncio.Event) -> list[float]:
    times = []
    while not stop.is_set():
        start = time.perf_counter()
        assert (await client.get("/health")).status_code == 200
        times.append(time.perf_counter() - start)
        await asyncio.sleep(0.05)
    return times


async def _load(base_url: str) -> dict:
    async with httpx.AsyncClient(base_url=base_url, timeout=300.0) as client:
        refs = {}
        for text in TEXTS:  # sequential references (also warms each worker's pipeline path)
            r, _ = await _speak(client, text)
            assert r.status_code == 200, r.text
            refs[text] = pcm_samples(r.content).astype(int)
        stop = asyncio.Event()
        probe = asyncio.create_task(_health_probe(client, stop))
        start = time.perf_counter()
        texts = [TEXTS[i % len(TEXTS)] for i in range(N_REQUESTS)]
        results = await asyncio.gather(*(_speak(client, t) for t in texts))
        wall = time.perf_counter() - start
        stop.set()
        health = await probe
    failures = [r.text for r, _ in results if r.status_code != 200]
    mismatched = [t for t, (r, _) in zip(texts, results) if r.status_code == 200 and not (
        len(pcm_samples(r.content)) == len(refs[t])
        and np.max(np.abs(pcm_samples(r.content).astype(int) - refs[t])) <= 1)]
    lat = np.array([s for _, s in results])
    return {"requests": N_REQUESTS, "failures": len(failures), "mismatched_audio": len(mismatched),
            "p50_s": round(float(np.percentile(lat, 50)), 3), "p95_s": round(float(np.percentile(lat, 95)), 3),
            "max_s": round(float(lat.max()), 3), "wall_s": round(wall, 3),
            "health_probes": len(health), "health_max_s": round(max(health), 3),
            "workers": ServeConfig().workers, "errors": failures[:3]}


@pytest.mark.slow
def test_ten_concurrent_speech_requests_all_succeed(warm_home: Path):
    with running_server(create_app(ServeConfig(), ui=False)) as base_url:
        stats = asyncio.run(_load(base_url))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "concurrency.json").write_text(json.dumps(stats, indent=2))
    print("\nconcurrency:", json.dumps(stats))
    assert stats["failures"] == 0, stats["errors"]
    assert stats["mismatched_audio"] == 0
    assert stats["health_probes"] >= 2 and stats["health_max_s"] < 2.0  # stays responsive


@pytest.mark.slow
def test_stream_sends_the_first_sentence_before_the_rest(warm_home: Path):
    text = ("This is the first sentence of the stream. Here comes a second one, a little longer "
            "than the first. And a third one to finish.")
    with running_server(create_app(ServeConfig(), ui=False)) as base_url:
        with httpx.Client(base_url=base_url, timeout=300.0) as client:
            assert client.post("/v1/audio/speech", json={"input": "Warm up.", "voice": VOICE,
                                                         "response_format": "pcm"}).status_code == 200
            start = time.perf_counter()
            arrivals = []
            with client.stream("POST", "/v1/audio/speech", json={
                    "input": text, "voice": VOICE, "response_format": "pcm", "stream": True}) as r:
                assert r.status_code == 200
                for block in r.iter_raw():
                    arrivals.append((time.perf_counter() - start, len(block)))
    first, total = arrivals[0][0], arrivals[-1][0]
    assert sum(n for _, n in arrivals) > 0 and first < 0.8 * total, arrivals
