"""The `voxclone` command end to end, on a warm library in a temporary VOXCLONE_HOME."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import VOICE
from voxclone.audio import load, save
from voxclone.audio.f0 import extract_f0
from voxclone.audio.io import read_tags
from voxclone.audio.metadata import read_metadata
from voxclone.cli.main import app
from voxclone.pipeline.cloner import PIECE_GAP_S
from voxclone.tts import get_tts

REPO = Path(__file__).resolve().parents[1]


def run(*args: object):
    """Invoke the CLI in-process; stdout and stderr are kept apart."""
    return CliRunner().invoke(app, [str(a) for a in args])


def ok(*args: object):
    result = run(*args)
    assert result.exit_code == 0, result.output
    return result


def voice_names() -> list[str]:
    return [v["name"] for v in json.loads(ok("voices", "list", "--json").stdout)]


def median_f0(path: Path) -> float:
    f0 = extract_f0(load(path), "dio")[0]
    return float(np.median(f0[f0 > 0]))


@pytest.fixture(scope="module")
def speech_file(tmp_path_factory, espeak) -> Path:
    path = tmp_path_factory.mktemp("speech") / "female.wav"
    save(espeak.synthesize("The quick brown fox jumps over the lazy dog.", "en", "en-us+f3"), path)
    return path


def test_voices_add_list_show_export_import_remove(warm_home, arctic_path, tmp_path):
    assert voice_names() == [VOICE]
    added = ok("voices", "add", "Bob Smith", arctic_path)
    assert "added 'Bob Smith': 1 clip(s), 3.2 s of speech" in added.stdout
    assert voice_names() == [VOICE, "Bob Smith"]
    listed = ok("voices", "list").stdout.splitlines()
    assert [line.split("\t")[0] for line in listed] == [VOICE, "Bob Smith"]

    shown = json.loads(ok("voices", "show", VOICE).stdout)
    assert shown["name"] == VOICE and shown["clips"][0]["original_name"] == arctic_path.name
    assert shown["profile"]["embedding_dim"] == 256
    assert 100 < shown["profile"]["f0_mean_hz"] < 150
    assert shown["profile"]["converter"].startswith("world world-")

    archive = tmp_path / "out" / "bob.zip"
    assert "exported 'Bob Smith'" in ok("voices", "export", "Bob Smith", "-o", archive).stdout
    assert archive.is_file()
    assert ok("voices", "remove", "bob smith").stdout.startswith("removed ")  # any case
    assert voice_names() == [VOICE]
    assert "imported 'Bob Smith': 1 clip(s)" in ok("voices", "import", archive).stdout
    assert "imported 'bob2'" in ok("voices", "import", archive, "--name", "bob2").stdout
    assert voice_names() == [VOICE, "Bob Smith", "bob2"]  # sorted case-insensitively
    assert ok("voices", "add", "Bob Smith", arctic_path, "--replace").exit_code == 0


def test_voices_list_when_empty(voxclone_home):
    assert "no voices yet" in ok("voices", "list").stdout
    assert json.loads(ok("voices", "list", "--json").stdout) == []


def test_say_with_a_library_voice(warm_home, tmp_path):
    out = tmp_path / "out.wav"
    result = ok("say", "Hello there, how are you?", "--voice", VOICE, "--tts", "espeak", "-o", out)
    assert result.stdout.startswith(f"wrote {out} (") and "base voice en-" in result.stdout
    audio = load(out)
    assert audio.sample_rate == 22050 and 0.8 < audio.duration < 4.0
    tags = read_tags(out)
    assert tags["software"].startswith("voxclone")
    stored = read_metadata(out)["settings"]  # settings + provenance, as the server writes them
    assert stored["base_voice"].startswith("en-") and stored["voice"] == VOICE
    assert stored["content"] == "synthetic speech" and stored["watermark"] == "perth-implicit"


def test_say_with_a_reference_file(warm_home, arctic_path, tmp_path):
    out = tmp_path / "ref.flac"
    result = ok("say", "Hello there.", "--ref", arctic_path, "--tts", "espeak", "--base-voice",
                "en-us+m3", "-o", out)
    assert "base voice en-us+m3" in result.stdout
    assert load(out).duration > 0.3
    assert voice_names() == [VOICE]  # a one-off reference is not stored


def test_say_uses_the_measured_default_pipeline_of_the_language(warm_home, tmp_path, monkeypatch):
    from voxclone.pipeline import defaults, style_cache
    from voxclone.pipeline.kokoro_clone import StyleSearchResult

    tts, converter = defaults.default_pipeline("en")
    if tts == "kokoro":  # the style search itself is tested in test_kokoro_clone: a known table
        table = get_tts("kokoro").style_table("jf_alpha")
        monkeypatch.setattr(style_cache, "search_style", lambda *a, **k: StyleSearchResult(
            table, "jf_alpha", 0.5, 0.5, 0.5, 0.5, None, None, 1, 0.1))
    out = tmp_path / "default.wav"
    result = ok("say", "Hello there.", "--voice", VOICE, "-o", out)
    base = result.stdout.split("base voice ")[1].split(",")[0]
    if tts == "kokoro":
        assert base.startswith("style:")
    else:
        assert base in {v.id for v in get_tts(tts).voices("en")}
    monkeypatch.setitem(defaults.MEASURED, "en", defaults.LanguageDefault("en", "espeak", "world"))
    result = ok("say", "Hello there.", "--voice", VOICE, "-o", out)
    assert "base voice en-" in result.stdout  # an espeak voice: the patched default was used


def test_say_split_and_keep_pieces(warm_home, tmp_path):
    out = tmp_path / "split.wav"
    ok("say", "One, two|Three, four|Five, six", "--voice", VOICE, "--tts", "espeak", "--split", "|",
       "--keep-pieces",
       "-o", out)
    pieces = sorted(tmp_path.glob("split-*.wav"))
    assert [p.name for p in pieces] == ["split-000.wav", "split-001.wav", "split-002.wav"]
    lengths = [len(load(p)) for p in pieces]
    assert len(load(out)) == sum(lengths) + 2 * int(PIECE_GAP_S * 22050)


def test_say_text_from_a_file_with_newline_split(warm_home, tmp_path):
    text = tmp_path / "lines.txt"
    text.write_text("First line\nSecond line\n", encoding="utf-8")
    out = tmp_path / "lines.wav"
    ok("say", f"@{text}", "--voice", VOICE, "--split", "\\n", "--keep-pieces", "-o", out)
    assert len(list(tmp_path.glob("lines-*.wav"))) == 2


def test_convert_with_pitch_shift(warm_home, speech_file, tmp_path):
    plain, shifted = tmp_path / "plain.wav", tmp_path / "shifted.wav"
    assert "wrote" in ok("convert", speech_file, "--voice", VOICE, "-o", plain).stdout
    ok("convert", speech_file, "--voice", VOICE, "-o", shifted, "--pitch-shift", "2")
    assert load(shifted).duration == pytest.approx(load(speech_file).duration, abs=0.05)
    assert median_f0(shifted) / median_f0(plain) == pytest.approx(2 ** (2 / 12), rel=0.04)
    assert median_f0(plain) < 0.75 * median_f0(speech_file)  # moved toward the male voice


def test_convert_f0_option(warm_home, speech_file, tmp_path):
    out = tmp_path / "harvest.wav"
    assert "wrote" in ok("convert", speech_file, "--voice", VOICE, "-o", out, "--f0", "harvest").stdout
    assert load(out).duration == pytest.approx(load(speech_file).duration, abs=0.05)
    bad = run("convert", speech_file, "--voice", VOICE, "-o", tmp_path / "bad.wav", "--f0", "yin")
    assert bad.exit_code == 2 and not (tmp_path / "bad.wav").exists()
    assert "Unknown F0 method 'yin': use harvest, dio, swift." in bad.stderr


def test_engines():
    result = ok("engines")
    lines = result.stdout.splitlines()
    assert any(line.split()[:3] == ["tts", "espeak", "ok"] for line in lines)
    assert any(line.split()[:3] == ["converter", "world", "ok"] for line in lines)
    assert "languages: en, es, fr, zh, ja, ko" in result.stdout
    assert any(line.split()[:2] == ["en", "(12):"] and "en-us+f3," in line for line in lines)  # per language
    openai = lines[[i for i, line in enumerate(lines) if line.startswith("OpenAI voice names")][0] + 1:]
    assert [line.split()[0] for line in openai] == ["alloy", "echo", "fable", "onyx", "nova", "shimmer"]


def test_help_lists_the_commands():
    result = ok("--help")
    for command in ("say", "convert", "engines", "voices"):
        assert command in result.stdout


def _subprocess(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "VOXCLONE_HOME": str(home), "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "voxclone.cli.main", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)


def test_real_process_error_is_one_line(warm_home):
    proc = _subprocess(warm_home, "voices", "show", "nobody")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.stderr.strip().splitlines() == [
        "error: No voice named 'nobody'. See `voxclone voices list` for the voices there are, "
        "or add it with `voxclone voices add`."]


def test_real_process_success(warm_home):
    proc = _subprocess(warm_home, "voices", "list")
    assert proc.returncode == 0 and proc.stdout.startswith(f"{VOICE}\t1 clip(s)")
    assert "Traceback" not in proc.stderr


def test_ray_without_an_address_means_a_local_ray(monkeypatch):
    from voxclone.cli import main

    seen: list[list[str]] = []
    monkeypatch.setattr(main, "app", lambda args, prog_name: seen.append(args))
    main.run(["batch", "m.csv", "--ray", "--voice", "v", "--out", "o"])
    main.run(["batch", "m.csv", "--voice", "v", "--out", "o", "--ray"])
    main.run(["batch", "m.csv", "--ray", "ray://head:10001", "--voice", "v"])
    assert seen[0][:4] == ["batch", "m.csv", "--ray", "local"] and seen[1][-2:] == ["--ray", "local"]
    assert seen[2][2:4] == ["--ray", "ray://head:10001"]


def test_say_without_a_voice_speaks_the_engines_own_voice(tmp_path) -> None:
    from voxclone.audio import load
    from voxclone.audio.metadata import read_metadata

    runner = CliRunner()
    out = tmp_path / "plain.wav"
    result = runner.invoke(app, ["say", "Hello there.", "--tts", "piper", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "piper voice en_US-joe-medium" in result.output and load(out).duration > 0.3
    assert "piper:none" in str(read_metadata(out))
    result = runner.invoke(app, ["say", "Hola.", "--tts", "espeak", "--lang", "es",
                                 "--base-voice", "nope", "-o", str(out)])
    assert result.exit_code == 2 and "Unknown base voice 'nope'" in result.output
    result = runner.invoke(app, ["say", "Hello.", "-o", str(out)])
    assert result.exit_code == 2 and "--tts ENGINE" in result.output
    result = runner.invoke(app, ["say", "Hello.", "--tts", "espeak", "--converter", "world", "-o", str(out)])
    assert result.exit_code == 2 and "clones nothing" in result.output
