"""End to end through the CLI: dataset prepare → train config → train codec-lm → say with it."""

from __future__ import annotations

import json
import types
from pathlib import Path

import torch
from typer.testing import CliRunner

from voxclone.audio.dsp import resample
from voxclone.audio.io import load, save
from voxclone.cli.main import app
from voxclone.train.testing import ARCTIC_TEXT, arctic_clip, write_ljspeech

torch.set_num_threads(1)


def _fake_asr(monkeypatch):
    """The prompt transcript comes from the ASR; this test is not about it."""
    import voxclone.asr

    monkeypatch.setattr(voxclone.asr, "transcribe", lambda audio, lang=None, **_: types.SimpleNamespace(
        text=ARCTIC_TEXT, language="en", words=[]))


def test_prepare_configure_train_and_speak(tmp_path, monkeypatch):
    runner = CliRunner()
    clip = resample(arctic_clip(), 22050)
    words = ARCTIC_TEXT.split()
    src = write_ljspeech(tmp_path / "src", [("full", clip, ARCTIC_TEXT),
                                            ("head", clip.slice(0.2, 2.3), " ".join(words[:5])),
                                            ("tail", clip.slice(1.9, 3.9), " ".join(words[5:]))])
    data = tmp_path / "data"
    r = runner.invoke(app, ["dataset", "prepare", str(src), "--out", str(data)])
    assert r.exit_code == 0, r.output
    assert "3 clips" in r.output and (data / "metadata_val.csv").read_text().count("|") == 2
    cfg = tmp_path / "exp.yaml"
    r = runner.invoke(app, ["train", "config", "-o", str(cfg), "--data", str(data), "--size", "tiny",
                            "--steps", "6", "--out", str(tmp_path / "run"), "--set", "codec.n_codes=64",
                            "--set", "codec.n_q=4", "--set", "codec.f0_method=dio",
                            "--set", "monitor.sample_every=3", "--set", "save_every=3"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["train", "codec-lm", "--config", str(cfg), "--device", "cpu"])
    assert r.exit_code == 0, r.output
    ckpt = tmp_path / "run" / "checkpoints" / "step-0000006"
    assert ckpt.is_dir() and (tmp_path / "run" / "curves.png").is_file()
    records = [json.loads(x) for x in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    samples = [x for x in records if "sample" in x]
    assert len(samples) == 2 and set(samples[0]["flags"]) >= {"silence", "clipping", "looping"}
    assert Path(samples[0]["sample"]).is_file()
    _fake_asr(monkeypatch)
    save(clip, tmp_path / "ref.wav")
    out = tmp_path / "said.wav"
    r = runner.invoke(app, ["say", "see it", "--tts", f"codec-lm:{ckpt}", "--converter", "none",
                            "--ref", str(tmp_path / "ref.wav"), "-o", str(out)])
    assert r.exit_code == 0, r.output
    said = load(out)
    assert said.duration > 0  # a 6-step model says nothing useful; this checks the plumbing only
    r = runner.invoke(app, ["train", "codec-lm", "--config", str(tmp_path / "missing.yaml")])
    assert r.exit_code != 0 and "not found" in r.output


def test_prepare_from_a_library_voice(tmp_path, monkeypatch):
    monkeypatch.setenv("VOXCLONE_HOME", str(tmp_path / "home"))
    _fake_asr(monkeypatch)
    save(arctic_clip(), tmp_path / "alice.wav")
    from voxclone.voices import VoiceLibrary

    VoiceLibrary().add("alice", [tmp_path / "alice.wav"])
    r = CliRunner().invoke(app, ["dataset", "prepare", "--voice", "alice", "--out", str(tmp_path / "d")])
    assert r.exit_code == 0, r.output
    assert "1 clips" in r.output
    line = (tmp_path / "d" / "metadata.csv").read_text().strip()
    assert line.endswith(f"|{ARCTIC_TEXT}|{ARCTIC_TEXT}")
