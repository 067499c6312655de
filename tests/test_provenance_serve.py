"""Provenance through the server: every output marked, tagged and signed; POST /v1/detect;
watermark=false refused unless the operator allows it; consent through POST /v1/voices; batch
outputs carry the same provenance."""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from conftest import VOICE
from voxclone.audio.metadata import read_metadata
from voxclone.serve import ServeConfig, create_app

pytestmark = pytest.mark.skipif(importlib.util.find_spec("perth") is None or
                                importlib.util.find_spec("c2pa") is None,
                                reason="resemble-perth or c2pa-python missing")


def _client(**config) -> TestClient:
    return TestClient(create_app(ServeConfig(**config), ui=False))


def test_speech_is_marked_tagged_signed_and_detectable(warm_home: Path) -> None:
    from voxclone.provenance.credentials import verify

    with _client() as client:
        reply = client.post("/v1/audio/speech", json={"input": "Hello there.", "voice": VOICE,
                                                      "response_format": "wav", "seed": 3})
        assert reply.status_code == 200, reply.text
        path = client.get("/v1/history").json()["items"][0]["output_path"]
        meta = read_metadata(path)["settings"]
        assert meta["watermark"] == "perth-implicit" and meta["content"] == "synthetic speech"
        assert meta["voice_id"].startswith("sha256:") and meta["seed"] == 3
        assert verify(path)["valid"]
        found = client.post("/v1/detect", files={"file": ("out.wav", reply.content, "audio/wav")})
        assert found.status_code == 200 and found.json()["watermarked"], found.text
        assert found.json()["confidence"] > 0.9
        bad = client.post("/v1/detect", files={"file": ("x.wav", b"RIFF....WAVEnot audio", "audio/wav")})
        assert bad.status_code == 422 and bad.json()["error"]["type"] == "AudioError"


def test_unmarked_output_only_where_the_operator_allows_it(warm_home: Path, arctic_path: Path) -> None:
    body = {"input": "Hello there.", "voice": VOICE, "response_format": "wav", "watermark": False}
    with _client() as client:
        refused = client.post("/v1/audio/speech", json=body)
        assert refused.status_code == 422 and "--allow-no-watermark" in refused.json()["error"]["message"]
    with _client(allow_no_watermark=True) as client:
        reply = client.post("/v1/audio/speech", json=body)
        assert reply.status_code == 200, reply.text
        path = client.get("/v1/history").json()["items"][0]["output_path"]
        assert read_metadata(path)["settings"]["watermark"].startswith("none")
        found = client.post("/v1/detect", files={"file": ("out.wav", reply.content, "audio/wav")})
        assert not found.json()["watermarked"]


def test_consent_through_the_api(warm_home: Path, arctic_path: Path) -> None:
    with _client() as client:
        added = client.post("/v1/voices", data={"name": "carol", "consent": "Carol agreed, 2026-12-01."},
                            files={"files": ("c.wav", arctic_path.read_bytes(), "audio/wav")})
        assert added.status_code == 201 and added.json()["consent"] == "Carol agreed, 2026-12-01."
        assert client.get("/v1/voices/carol").json()["consent"].startswith("Carol")


def test_batch_outputs_carry_provenance(warm_home: Path, tmp_path: Path) -> None:
    from voxclone.provenance.credentials import verify
    from voxclone.provenance.watermark import detect
    from voxclone.audio import load
    from voxclone.scale import BatchOptions, run_batch

    manifest = tmp_path / "items.csv"
    manifest.write_text("id,text\nb1,Hello there.\n")
    summary = run_batch(manifest, tmp_path / "out", VOICE, BatchOptions(lang="en", seed=1))
    assert summary.done == 1, summary.failures
    out = tmp_path / "out" / "b1.wav"
    meta = read_metadata(out)["settings"]
    assert meta["item"] == "b1" and meta["watermark"] == "perth-implicit" and meta["text"] == "Hello there."
    assert meta["voice_id"].startswith("sha256:") and verify(out)["valid"]
    assert detect(load(out)).watermarked
