"""Provenance in every output: metadata and C2PA round trips (WAV, MP3), tampering, keys,
consent, and the detect/info commands on good, unmarked, corrupt and huge files."""

from __future__ import annotations

import importlib.util
import json
import os

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import VOICE
from voxclone.audio import Audio, load, save
from voxclone.audio.metadata import metadata_tags, read_metadata
from voxclone.cli.main import app
from voxclone.provenance.record import CONTENT, output_info, voice_id

needs_c2pa = pytest.mark.skipif(importlib.util.find_spec("c2pa") is None, reason="c2pa-python missing")
needs_perth = pytest.mark.skipif(importlib.util.find_spec("perth") is None, reason="resemble-perth missing")
runner = CliRunner()


def info(**extra):
    return output_info("speech", "Hello.", "alice", "espeak:world", {"speed": 1.0},
                       voice_id(["b" * 64, "a" * 64]), True, 7, "Alice agreed on 2026-12-01.", **extra)


def test_record_fields_and_voice_id() -> None:
    rec = info()
    assert rec["content"] == CONTENT and rec["synthetic"] is True and rec["generator"] == "voxclone"
    assert rec["seed"] == 7 and rec["watermark"] == "perth-implicit" and rec["engine"] == "espeak:world"
    assert rec["voice_id"] == voice_id(["a" * 64, "b" * 64]).lower()  # order of clips does not matter
    assert rec["voice_id"].startswith("sha256:") and "Hello" not in rec["voice_id"]


@pytest.mark.parametrize("suffix", [".wav", ".mp3", ".ogg"])
def test_metadata_round_trip(tmp_path, arctic: Audio, suffix: str) -> None:
    path = save(arctic, tmp_path / f"out{suffix}", metadata_tags(info()))
    stored = read_metadata(path)["settings"]
    assert stored["consent"] == "Alice agreed on 2026-12-01." and stored["voice_id"] == info()["voice_id"]


@needs_c2pa
@pytest.mark.parametrize("suffix", [".wav", ".mp3"])
def test_credentials_round_trip_and_tampering(tmp_path, arctic: Audio, suffix: str) -> None:
    from voxclone.provenance.credentials import SOURCE_TYPE, sign, verify

    path = save(arctic, tmp_path / f"out{suffix}", metadata_tags(info()))
    assert verify(path)["signed"] is False
    sign(path, info())
    result = verify(path)
    assert result["signed"] and result["valid"] and not result["changed_after_signing"]
    action = result["actions"][0]
    assert action["action"] == "c2pa.created" and action["digitalSourceType"] == SOURCE_TYPE
    assert action["softwareAgent"]["name"] == "voxclone espeak:world"
    assert result["provenance"]["voice_id"] == info()["voice_id"]
    assert read_metadata(path)["settings"]["seed"] == 7 and len(load(path)) > 0  # still plays
    data = bytearray(path.read_bytes())
    at = data.find(b"data") + 8 + 5000 if suffix == ".wav" else len(data) - 1000  # in the audio
    data[at] ^= 0x5A
    tampered = tmp_path / f"tampered{suffix}"
    tampered.write_bytes(bytes(data))
    bad = verify(tampered)
    assert bad["signed"] and not bad["valid"] and bad["changed_after_signing"]


@needs_c2pa
def test_keys_made_once_then_replaced(voxclone_home) -> None:
    first = runner.invoke(app, ["keys", "--json"])
    assert first.exit_code == 0, first.output
    again = json.loads(runner.invoke(app, ["keys", "--json"]).stdout)
    assert json.loads(first.stdout)["sha256_fingerprint"] == again["sha256_fingerprint"]
    assert oct(os.stat(voxclone_home / "keys" / "signer.key.pem").st_mode & 0o777) == "0o600"
    new = json.loads(runner.invoke(app, ["keys", "--new", "--json"]).stdout)
    assert new["sha256_fingerprint"] != again["sha256_fingerprint"]


def test_consent_stored_with_the_voice(voxclone_home, arctic_path) -> None:
    from voxclone.voices import VoiceLibrary

    result = runner.invoke(app, ["voices", "add", "bob", str(arctic_path), "--consent",
                                 "Bob agreed to cloning for the demo, 2026-12-01."])
    assert result.exit_code == 0, result.output
    lib = VoiceLibrary()
    assert lib.info("bob").consent.startswith("Bob agreed")
    lib.add("eve", [arctic_path])
    assert lib.info("eve").consent is None
    from voxclone.errors import InvalidSetting

    with pytest.raises(InvalidSetting, match="consent"):
        lib.add("mallory", [arctic_path], consent="x" * 5000)


@needs_perth
@needs_c2pa
def test_say_output_carries_mark_metadata_and_credentials(warm_home, tmp_path) -> None:
    from voxclone.voices import VoiceLibrary

    lib = VoiceLibrary()
    with lib.index.tx(write=True) as conn:  # the warm voice, its profile kept: consent added
        lib.index.set_consent(conn, VOICE, "The speaker agreed.")
    out = tmp_path / "hello.wav"
    result = runner.invoke(app, ["say", "Hello there.", "--voice", VOICE, "--tts", "espeak",
                                 "--converter", "world", "-o", str(out)])
    assert result.exit_code == 0, result.output
    shown = json.loads(runner.invoke(app, ["info", str(out), "--json"]).stdout)
    stored = shown["settings"]
    assert stored["consent"] == "The speaker agreed." and stored["watermark"] == "perth-implicit"
    assert stored["voice_id"] == voice_id(c.sha256 for c in lib.info(VOICE).clips)
    assert shown["watermark_check"]["watermarked"] and shown["credentials"]["valid"]
    text = runner.invoke(app, ["info", str(out)]).stdout
    assert "watermark check: watermarked" in text and "content credentials: valid" in text


@needs_perth
def test_detect_command(tmp_path, arctic: Audio, arctic_path) -> None:
    from voxclone.provenance.watermark import embed

    marked = save(embed(arctic), tmp_path / "marked.wav")
    result = runner.invoke(app, ["detect", str(marked), str(arctic_path)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert ": watermarked (confidence" in lines[0] and ": not watermarked" in lines[1]
    rows = [json.loads(x) for x in runner.invoke(app, ["detect", "--json", str(marked)]).stdout.splitlines()]
    assert rows[0]["watermarked"] and rows[0]["confidence"] > 0.9


def test_detect_and_info_on_corrupt_and_huge_files(tmp_path, monkeypatch) -> None:
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" + os.urandom(300))
    result = runner.invoke(app, ["detect", str(corrupt)])
    assert result.exit_code == 2 and "Cannot decode audio file" in result.output
    assert "Traceback" not in result.output
    result = runner.invoke(app, ["info", str(corrupt)])
    assert result.exit_code == 2 and "error:" in result.output
    import voxclone.audio.io as aio

    huge = tmp_path / "huge.wav"
    save(Audio(np.zeros(16000, np.float32), 16000), huge)
    monkeypatch.setattr(aio, "MAX_FILE_BYTES", 1000)  # the file is ~32 kB: "huge" here
    result = runner.invoke(app, ["detect", str(huge)])
    assert result.exit_code == 2 and "too large" in result.output
    shown = runner.invoke(app, ["info", str(huge)])  # the tags still read; the checks say why not
    assert shown.exit_code == 0 and "watermark check: Audio file is too large" in shown.output


@needs_perth
@needs_c2pa
def test_streamed_and_converted_outputs_carry_provenance(warm_home, arctic_path, tmp_path) -> None:
    from voxclone.provenance.credentials import verify

    streamed, converted = tmp_path / "live.wav", tmp_path / "conv.wav"
    result = runner.invoke(app, ["say", "One. Two.", "--voice", VOICE, "--tts", "espeak",
                                 "--converter", "world", "--stream", "-o", str(streamed)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["convert", str(arctic_path), "--voice", VOICE, "--no-watermark",
                                 "-o", str(converted)])
    assert result.exit_code == 0, result.output
    live, conv = read_metadata(streamed)["settings"], read_metadata(converted)["settings"]
    assert live["settings"]["stream"] is True and live["watermark"] == "perth-implicit"
    assert conv["kind"] == "convert" and conv["watermark"].startswith("none")
    assert live["voice_id"] == conv["voice_id"]
    assert verify(streamed)["valid"] and verify(converted)["valid"]
    from voxclone.provenance.watermark import detect

    assert detect(load(streamed)).watermarked and not detect(load(converted)).watermarked
