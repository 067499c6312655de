"""voxclone serve without HTTP: runtime settings, history, UI actions, metadata, the CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from conftest import VOICE, tone
from voxclone.audio.io import save
from voxclone.audio.metadata import metadata_tags, parse_comment, read_metadata
from voxclone.errors import InvalidSetting, ProfileVersionError, VoxcloneError
from voxclone.serve import PRESETS, GenerationRecord, History, RuntimeSettings, Service, SpeechJob
from voxclone.serve import ui_actions as act
from voxclone.pipeline.defaults import default_converter, default_pipeline
from voxclone.serve.jobs import choose_engine, parse_engine
from voxclone.serve.testing import free_port


def test_metadata_round_trip_in_every_format(tmp_path: Path):
    info = {"text": "héllo " * 200, "voice": "alice", "engine": "espeak:world", "settings": {"pitch": 2.0}}
    for suffix in (".wav", ".flac", ".mp3", ".ogg", ".opus"):
        path = save(tone(seconds=0.5, sr=22050), tmp_path / f"x{suffix}", metadata_tags(info))
        meta = read_metadata(path)
        assert meta["settings"]["voice"] == "alice" and meta["settings"]["settings"] == {"pitch": 2.0}
        assert meta["settings"]["text_chars"] == len(info["text"])  # long text shortened, length kept
        assert meta["settings"]["text"].startswith("héllo héllo")
    assert read_metadata(save(tone(), tmp_path / "plain.wav"))["settings"] is None
    with pytest.raises(ProfileVersionError):
        parse_comment('{"voxclone": 99}')


def test_engine_parsing_and_job_checks():
    rt = RuntimeSettings(tts="espeak", converter="world")  # pinned
    assert parse_engine(None, rt) == (rt.tts, rt.converter) == parse_engine(None, rt, "fr")
    assert parse_engine("espeak:none", rt) == ("espeak", "none")
    assert parse_engine("espeak", rt) == ("espeak", rt.converter)
    assert parse_engine("world", rt) == (rt.tts, "world")
    with pytest.raises(InvalidSetting, match="Unknown engine"):
        parse_engine("espeak:nosuch", rt)
    auto = RuntimeSettings()  # the default: each language's measured pair
    assert auto.engine == "auto"
    for lang in ("en", "fr", "ko"):
        assert parse_engine(None, auto, lang) == default_pipeline(lang)
        assert choose_engine(None, auto, lang).source == f"measured default for {lang}"
    assert parse_engine("auto", rt, "zh") == default_pipeline("zh")  # a request may ask for it
    assert parse_engine("piper", auto, "en") == ("piper", default_converter("en", "piper"))
    assert choose_engine("piper", auto).source == "tts: request, converter: measured default for en"
    assert choose_engine(None, rt).source == "server setting"
    assert set(PRESETS) == {"fast", "standard", "high quality"}
    job = act.speech_job("Hi.", "\\n", "v", "en", "espeak:world", 2.0, -1, 1.0, 0.0, 1.0, "wav")
    assert job.split == "\n" and job.seed is None and job.candidates == 2
    assert act.speech_job("Hi.", "", "v", "en", "", 1, 5, 1, 0, 1, "mp3").seed == 5


def test_runtime_settings_persist_and_are_checked(voxclone_home: Path):
    service = Service()
    new = service.update_runtime(output_sample_rate=16000, volume_db=-25.0, tts="espeak", converter="none")
    assert Service().runtime == new  # read back on the next start
    for bad in ({"output_sample_rate": 12345}, {"volume_db": 0.0}, {"converter": "nosuch"}):
        with pytest.raises(InvalidSetting):
            service.update_runtime(**bad)
    assert service.runtime == new
    service.shutdown()


def test_runtime_settings_change_the_output(warm_home: Path):
    service = Service()
    service.update_runtime(output_sample_rate=16000)
    gen = service.speak(SpeechJob("Hello there.", VOICE, format="wav"))
    assert gen.audio.sample_rate == 16000 and read_metadata(gen.path)["settings"]["settings"]["output_sample_rate"] == 16000
    service.shutdown()


def test_history_orders_and_reads_back(tmp_path: Path):
    hist = History(tmp_path / "h.sqlite")
    a = hist.add(GenerationRecord("speech", "one", "v", "espeak:world", {"speed": 1.0}, {"total_ms": 5.0},
                                  1.0, "/x/1.wav"))
    b = hist.add(GenerationRecord("convert", "", "v", "-:world", {}, {}, 2.0, "/x/2.wav"))
    assert (a.id, b.id) == (1, 2)
    assert [r.id for r in hist.list()] == [2, 1] and hist.get(1) == a and hist.get(3) is None


def test_ui_actions_history_copy_and_import(warm_home: Path, tmp_path: Path):
    service = Service()
    with pytest.raises(VoxcloneError, match="No history entry"):
        act.history_entry(service, 1)
    gen = service.speak(act.speech_job("Hi there.", "\\n", VOICE, "en", "", 1, 3, 1.1, 1.0, 1.2, "flac"))
    path, meta = act.history_entry(service, gen.record.id)
    assert path == str(gen.path) and meta["settings"]["voice"] == VOICE and "comment" not in meta["tags"]
    copied = act.copied_settings(service, gen.record.id)
    assert copied == {"text": "Hi there.", "split": "\\n", "voice": VOICE, "lang": "en",
                      "engine": gen.record.engine, "candidates": 1, "seed": 3, "speed": 1.1,
                      "pitch": 1.0, "energy": 1.2, "format": "flac", "captions": False}
    assert act.history_rows(service)[0][:3] == [gen.record.id, gen.record.created, "speech"]
    archive = service.library.export(VOICE, tmp_path / "v.zip")
    assert service.import_voice(archive, "copy").name == "copy"
    assert act.voice_names(service) == [VOICE, "copy"]
    clip = service.library.clips_dir / VOICE / service.library.info(VOICE).clips[0].filename
    assert "Added voice 'third'" in act.add_voice(service, "third", None, str(clip))  # a "recording"
    stats = service.voice_stats("third")
    assert stats["profile"]["speech_seconds"] > 2.5
    service.shutdown()


def test_info_command_without_settings_and_on_bad_files(tmp_path: Path):
    from voxclone.cli.main import app

    plain = save(tone(), tmp_path / "plain.wav")
    out = CliRunner().invoke(app, ["info", str(plain)])
    assert out.exit_code == 0 and "no voxclone settings" in out.output
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio")
    out = CliRunner().invoke(app, ["info", str(bad)])
    assert out.exit_code == 2 and "Cannot read tags" in out.output


@pytest.mark.slow
def test_serve_command_serves_api_docs_and_ui_on_one_port(voxclone_home: Path, tmp_path: Path):
    port = free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    log = open(tmp_path / "serve.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "voxclone.cli.main", "serve", "--port", str(port)],
                            env=env, stdout=log, stderr=log)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                health = httpx.get(f"{base}/health", timeout=2.0)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
                time.sleep(0.5)
        assert health.json()["status"] == "ok"
        assert "voxclone" in httpx.get(f"{base}/").text
        assert "/v1/audio/speech" in httpx.get(f"{base}/openapi.json").json()["paths"]
        assert httpx.get(f"{base}/v1/voices").json() == {"voices": []}
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
        log.close()
