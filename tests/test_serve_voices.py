"""voxclone serve without set-up: OpenAI's voice names and base-voice ids speak as themselves,
library voices win, the measured per-language default pair, and the warm-up at start."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from conftest import VOICE
from voxclone.audio.metadata import read_metadata
from voxclone.pipeline.defaults import default_pipeline
from voxclone.pipeline.plain_voices import OPENAI_VOICES, find_plain_voice, openai_voice_table
from voxclone.serve import ServeConfig, Service, SpeechJob, create_app
from voxclone.serve.encode import pcm_samples
from voxclone.serve.warmup import Warmup

TEXT = "Hello there."


def _client(**config: object) -> TestClient:
    return TestClient(create_app(ServeConfig(**{"warmup": False, **config}), ui=False))


def _error(response, status: int, kind: str) -> str:
    assert response.status_code == status, response.text
    err = response.json()["error"]
    assert err["type"] == kind and err["code"] == status
    return err["message"]


def _decoded(content: bytes) -> np.ndarray:
    audio, sr = sf.read(io.BytesIO(content), dtype="float32")
    assert sr == 24000 and 0.3 < len(audio) / sr < 4.0 and np.sqrt(np.mean(audio ** 2)) > 0.03
    return audio


def _speak_openai_names(names: list[str]) -> None:
    """An OpenAI client speaks each name on a server with an empty library."""
    from openai import OpenAI

    table = openai_voice_table("en")
    with _client() as client:
        oai = OpenAI(base_url="http://testserver/v1", api_key="unused", http_client=client)
        for name in names:
            reply = oai.audio.speech.with_raw_response.create(model="tts-1", voice=name, input=TEXT,
                                                              response_format="wav")
            _decoded(reply.content)
            assert reply.headers["x-base-voice"] == table[name].voice
            item = client.get("/v1/history?limit=1").json()["items"][0]
            assert item["voice"] == name and item["engine"] == f"{table[name].tts}:none"
            assert item["settings"]["engine_choice"] == "base voice"
            assert item["settings"]["plain_voice"] == table[name].describe()
            meta = read_metadata(item["output_path"])["settings"]
            assert meta["base_voice"] == table[name].voice and meta["voice_id"] == ""
        assert client.get("/v1/voices").json() == {"voices": []}  # nothing was set up
        listed = client.get("/v1/base-voices?language=en").json()
        assert listed["openai"]["alloy"] == {"tts": table["alloy"].tts, "voice": table["alloy"].voice}
        assert "en-us+f3" in listed["engines"]["espeak"]


def test_an_openai_name_speaks_on_a_fresh_server():
    _speak_openai_names(["onyx"])  # Piper joe where installed: no Kokoro model to load


@pytest.mark.slow
def test_every_openai_name_speaks_on_a_fresh_server():
    _speak_openai_names(list(OPENAI_VOICES))  # the first Kokoro use of a process joins its model


def test_offline_mapping_prefers_kokoro_and_falls_back_per_language():
    kokoro = find_plain_voice("jf_alpha", "ja")
    if kokoro is None:
        pytest.skip("Kokoro is not installed")
    en, ko = openai_voice_table("en"), openai_voice_table("ko")
    assert {v.tts for v in en.values()} <= {"kokoro", "piper"}  # no espeak while Kokoro is here
    assert len({v.voice for v in en.values()}) == 6  # six distinct voices
    assert all(v.tts == "espeak" and v.voice.startswith("ko+") for v in ko.values())  # no Korean Kokoro
    assert find_plain_voice("ALLOY", "en") == en["alloy"]
    assert find_plain_voice("en-us+f3", "en").tts == "espeak"
    assert find_plain_voice("en-us+f3", "en", tts="kokoro") is None
    assert find_plain_voice("nobody", "en") is None


def test_a_base_voice_id_speaks_streams_and_refuses_cloning_options():
    with _client() as client:
        body = {"input": "First one. And a second.", "voice": "en-us+f3", "response_format": "pcm"}
        full = client.post("/v1/audio/speech", json=body)
        assert full.status_code == 200, full.text
        assert full.headers["x-base-voice"] == "en-us+f3"
        item = client.get("/v1/history?limit=1").json()["items"][0]
        assert item["engine"] == "espeak:none" and item["settings"]["tts"] == "espeak"
        with client.stream("POST", "/v1/audio/speech", json={**body, "stream": True}) as r:
            assert r.status_code == 200
            streamed = pcm_samples(b"".join(r.iter_bytes()))
        whole = pcm_samples(full.content)
        assert len(streamed) == len(whole) and np.max(np.abs(streamed.astype(int) - whole)) <= 1
        msg = _error(client.post("/v1/audio/speech", json={**body, "engine": "espeak:world"}),
                     422, "InvalidSetting")
        assert "spoken as itself" in msg
        _error(client.post("/v1/audio/speech", json={**body, "candidates": 2}), 422, "InvalidSetting")
        ok = client.post("/v1/audio/speech", json={**body, "engine": "espeak"})  # tts named: fine
        assert ok.status_code == 200


def test_unknown_voice_is_a_404_naming_what_is_accepted(warm_home: Path):
    with _client() as client:
        msg = _error(client.post("/v1/audio/speech", json={"input": TEXT, "voice": "nobody"}),
                     404, "VoiceNotFound")
        for accepted in (VOICE, "alloy", "shimmer", "en-us+m3", "GET /v1/base-voices", "POST /v1/voices"):
            assert accepted in msg
        _error(client.post("/v1/audio/speech", json={"input": TEXT, "voice": "../etc"}),
               422, "InvalidVoiceName")
        _error(client.post("/v1/audio/speech", json={"input": TEXT, "voice": "alloy", "language": "xx"}),
               422, "UnsupportedLanguage")


def test_a_library_voice_of_the_same_name_wins(warm_home: Path, arctic_path: Path):
    service = Service(ServeConfig(warmup=False))
    service.library.add("alloy", [arctic_path])
    gen = service.speak(SpeechJob(TEXT, "alloy", format="wav"))
    assert gen.record.engine == "espeak:world"  # cloned with the server's (pinned) pair
    assert gen.record.settings["engine_choice"] == "server setting"
    assert "plain_voice" not in gen.record.settings
    assert read_metadata(gen.path)["settings"]["voice_id"]  # the clips' hash: a library voice
    service.shutdown()


@pytest.mark.slow  # the first Kokoro use of a process joins its model (~1 min alone, seconds in the suite)
def test_the_server_default_is_the_measured_pair_of_each_language(warm_home: Path, monkeypatch):
    from voxclone.pipeline import style_cache
    from voxclone.pipeline.kokoro_clone import StyleSearchResult
    from voxclone.tts import get_tts

    (warm_home / "serve" / "settings.json").unlink()  # the default setting: auto
    if "kokoro" in {default_pipeline("en")[0], default_pipeline("fr")[0]}:
        # the search itself is tested in test_kokoro_clone; here a known table stands for it
        table = get_tts("kokoro").style_table("jf_alpha")
        monkeypatch.setattr(style_cache, "search_style", lambda *a, **k: StyleSearchResult(
            table, "jf_alpha", 0.5, 0.5, 0.5, 0.5, None, None, 1, 0.1))
    with _client() as client:
        health = client.get("/health").json()
        assert health["engine"] == "auto"
        assert health["engines_by_language"] == {
            lang: ":".join(default_pipeline(lang)) for lang in health["engines_by_language"]}
        for lang, text in (("en", TEXT), ("fr", "Bonjour à tous.")):
            r = client.post("/v1/audio/speech", json={"input": text, "voice": VOICE, "language": lang,
                                                      "response_format": "wav"})
            assert r.status_code == 200, r.text
            item = client.get("/v1/history?limit=1").json()["items"][0]
            assert item["engine"] == ":".join(default_pipeline(lang))
            stored = read_metadata(item["output_path"])["settings"]
            assert stored["engine"] == item["engine"]
            assert stored["settings"]["engine_choice"] == f"measured default for {lang}"
            assert (stored["settings"]["tts"], stored["settings"]["converter"]) == default_pipeline(lang)
            if item["engine"].endswith(":adapted"):  # a start style: WORLD's map spoke, and says so
                assert stored["settings"]["converter_used"] == "world"


def test_warmup_runs_in_the_background_while_the_server_answers(warm_home: Path, monkeypatch):
    release, entered = threading.Event(), threading.Event()
    real = Warmup._warm_encoder

    def held(self: Warmup) -> None:  # hold the warm-up in the middle until the requests are in
        entered.set()
        assert release.wait(60)
        real(self)

    monkeypatch.setattr(Warmup, "_warm_encoder", held)
    with _client(warmup=True) as client:
        service = client.app.state.service
        assert entered.wait(60)
        assert client.get("/health").json()["warmup"]["state"] == "running"
        r = client.post("/v1/audio/speech", json={"input": TEXT, "voice": VOICE, "response_format": "wav"})
        assert r.status_code == 200, r.text  # served during the warm-up
        release.set()
        assert service.warmup.wait(120)
        status = client.get("/health").json()["warmup"]
    assert status["state"] == "done" and status["errors"] == [] and status["seconds"] > 0
    steps = status["steps_ms"]
    assert any(k.startswith("tts espeak (en, es, fr, zh, ja, ko)") for k in steps)
    assert f"speak espeak:world ({VOICE}, en)" in steps and "watermark" in steps


def test_ui_engine_menu_offers_auto_and_saves_it(voxclone_home: Path):
    from voxclone.serve import ui_actions as act
    from voxclone.serve.ui import _engines

    service = Service(ServeConfig(warmup=False))
    assert service.runtime.engine == "auto" and act.engine_label(service.runtime.engine) == act.AUTO_LABEL
    assert _engines()[0] == act.AUTO_LABEL and "espeak:world" in _engines()
    job = act.speech_job("Hi.", "", "alloy", "fr", act.AUTO_LABEL, 1, -1, 1, 0, 1, "wav")
    assert job.engine == "auto" and job.check(service.config, service.runtime, False).pair == default_pipeline("fr")
    service.update_runtime(**dict(zip(("tts", "converter"), act.engine_setting("espeak:world"))))
    assert act.engine_label(Service(ServeConfig(warmup=False)).runtime.engine) == "espeak:world"
    service.update_runtime(**dict(zip(("tts", "converter"), act.engine_setting(act.AUTO_LABEL))))
    assert Service(ServeConfig(warmup=False)).runtime.engine == "auto"  # saved for the next start
    service.shutdown()
