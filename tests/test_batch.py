"""Batch jobs run locally: manifests and hostile ids, the job database, resume after an
interrupt, per-item failures, and worker processes that die mid-job."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from conftest import VOICE
from voxclone.audio import save
from voxclone.cli.main import app
from voxclone.errors import BatchError, InvalidSetting, ManifestError
from voxclone.scale import BatchOptions, load_manifest, run_batch, validate_id
from voxclone.scale.job import interrupts_held, locked_folder, output_file, write_atomic
from voxclone.scale.jobdb import DB_NAME, JobDB
from voxclone.scale.testing import CrashOn, InterruptAt

TEXTS = ["One two.", "Three four.", "Five six.", "Seven eight."]
REPO = Path(__file__).resolve().parents[1]


def manifest(path: Path, rows: list[tuple[str, str]], header: str = "id,text", sep: str = ",") -> Path:
    path.write_text("\n".join([header.replace(",", sep)] + [f"{a}{sep}{b}" for a, b in rows]) + "\n", encoding="utf-8")
    return path


def say_manifest(tmp_path: Path, n: int = 4) -> Path:
    return manifest(tmp_path / "m.csv", [(f"u{i}", TEXTS[i % len(TEXTS)]) for i in range(n)])


def wavs(out: Path) -> dict[str, np.ndarray]:
    return {p.stem: sf.read(p, dtype="int16")[0] for p in sorted(out.glob("*.wav"))}


def db_rows(out: Path) -> dict[str, tuple[str, int, str | None]]:
    with sqlite3.connect(out / DB_NAME) as conn:
        return {r[0]: r[1:] for r in conn.execute("SELECT id, status, attempts, error FROM items")}


@pytest.mark.parametrize("bad", ["../x", "", "a/b", "/abs", ".hidden", "x..y", "dot.", "a b", "é"])
def test_hostile_ids_are_rejected_at_load(tmp_path, bad):
    with pytest.raises(ManifestError, match="line 3"):
        load_manifest(manifest(tmp_path / "m.csv", [("ok", "Hi."), (bad, "Hi.")]))
    with pytest.raises(ManifestError):
        validate_id(bad)
    with pytest.raises(ManifestError):
        output_file(tmp_path, bad)


def test_manifest_forms(tmp_path, espeak):
    with pytest.raises(ManifestError, match="duplicate id 'a'"):
        load_manifest(manifest(tmp_path / "d.csv", [("a", "x"), ("b", "y"), ("a", "z")]))
    with pytest.raises(ManifestError, match="id,text"):
        load_manifest(manifest(tmp_path / "h.csv", [("a", "x")], header="name,text"), "say")
    with pytest.raises(ManifestError, match="not found"):
        load_manifest(tmp_path / "missing.csv")
    mode, items = load_manifest(manifest(tmp_path / "t.tsv", [("a", '"Hi," she said.')], sep="\t"))
    assert mode == "say" and items[0].text == '"Hi," she said.'
    _, items = load_manifest(manifest(tmp_path / "q.csv", [("a", '"Hello, world."')]))
    assert items[0].text == "Hello, world."
    folder = tmp_path / "clips"
    save(espeak.synthesize("Hello.", "en"), folder / "c1.wav")
    save(espeak.synthesize("Bye.", "en"), folder / "c2.flac")
    mode, items = load_manifest(folder)
    assert mode == "convert" and [i.id for i in items] == ["c1", "c2"]
    with pytest.raises(ManifestError, match="--mode convert"):
        load_manifest(folder, "say")
    mode, items = load_manifest(manifest(tmp_path / "p.csv", [("x", "clips/c1.wav")], header="id,path"))
    assert mode == "convert" and items[0].path == str(tmp_path / "clips" / "c1.wav")


def test_write_atomic_and_job_db(tmp_path):
    target = tmp_path / "out" / "a.wav"
    target.parent.mkdir()
    write_atomic(target, b"RIFF1234")
    assert target.read_bytes() == b"RIFF1234" and [p.name for p in target.parent.iterdir()] == ["a.wav"]
    db = JobDB(tmp_path, "fp1", "settings one")
    db.add(["a", "b"])
    db.mark_running("a")
    db.mark_done("b", 1.0, 0.5)
    db.close()
    db = JobDB(tmp_path, "fp1")  # 'a' was running when the process stopped
    assert db.status("a") == "pending" and db.status("b") == "done" and db.row("a")["attempts"] == 1
    db.close()
    with pytest.raises(BatchError, match="other settings"):
        JobDB(tmp_path, "fp2", "settings two")


def test_interrupt_held_until_the_output_is_recorded(tmp_path):
    """Ctrl-C while an output is being finished lands after it and its record, not between."""
    out = tmp_path / "out"  # beside the test's VOXCLONE_HOME, which may hold linked models
    out.mkdir()
    target, steps = out / "a.wav", []

    def finish(tmp: Path) -> None:
        os.kill(os.getpid(), signal.SIGINT)  # as a user's Ctrl-C in the middle of signing
        steps.append(("signed", tmp.name.startswith(".tmp-")))

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # an earlier test may ignore it
    try:
        with pytest.raises(KeyboardInterrupt):
            with interrupts_held():
                write_atomic(target, b"RIFF1234", finish)
                steps.append(("recorded", target.read_bytes() == b"RIFF1234"))
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, previous)
    assert steps == [("signed", True), ("recorded", True)] and os.listdir(out) == ["a.wav"]


def test_local_run_records_failures_and_resumes(warm_home, tmp_path):
    src = manifest(tmp_path / "m.csv", [("a", "Hello there."), ("empty", ""), ("b", "Good bye.")])
    out = tmp_path / "out"
    first = run_batch(src, out, VOICE)
    assert (first.done, first.failed, first.skipped) == (2, 1, 0)
    assert first.failures[0][0] == "empty" and "TextError" in first.failures[0][1]
    assert first.audio_s > 0 and first.rtf > 0 and first.items_per_s > 0
    rows = db_rows(out)
    assert rows["a"][0] == rows["b"][0] == "done" and rows["empty"][0] == "failed"
    assert "empty" in rows["empty"][2]
    outs = wavs(out)
    assert set(outs) == {"a", "b"} and all(len(w) > 8000 and np.abs(w).max() > 1000 for w in outs.values())
    inode = (out / "a.wav").stat().st_ino
    (out / "b.wav").unlink()  # a removed output is made again
    again = run_batch(src, out, VOICE)
    assert (again.done, again.failed, again.skipped) == (1, 1, 1)
    assert (out / "a.wav").stat().st_ino == inode  # finished items are never redone
    assert np.array_equal(wavs(out)["b"], outs["b"])
    with pytest.raises(BatchError, match="other settings"):
        run_batch(src, out, VOICE, BatchOptions(speed=1.2))


def test_interrupt_then_resume(warm_home, tmp_path):
    src, out = say_manifest(tmp_path, 4), tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_batch(src, out, VOICE, factory=InterruptAt("u2"))
    assert set(wavs(out)) == {"u0", "u1"} and db_rows(out)["u2"][0] == "running"
    assert not list(out.glob(".tmp-*"))
    inodes = {p.name: p.stat().st_ino for p in out.glob("*.wav")}
    resumed = run_batch(src, out, VOICE)
    assert (resumed.done, resumed.failed, resumed.skipped) == (2, 0, 2)
    assert {p.name: p.stat().st_ino for p in out.glob("u[01].wav")} == inodes
    fresh = run_batch(src, tmp_path / "fresh", VOICE)
    assert fresh.done == 4
    a, b = wavs(out), wavs(tmp_path / "fresh")
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_cli_sigint_then_resume(warm_home, tmp_path):
    """Ctrl-C (SIGINT) to a running `voxclone batch`, then the same command again."""
    N = 60  # enough items that the job is still running when the signal lands on a fast machine
    src, out = say_manifest(tmp_path, N), tmp_path / "out"
    cmd = [sys.executable, "-m", "voxclone.cli.main", "batch", str(src), "--voice", VOICE, "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    # The child gets Ctrl-C's default action even where this test process ignores SIGINT (a
    # library loaded by an earlier test may do so, and children inherit an ignored signal).
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while len(list(out.glob("u*.wav"))) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted" in err
    before = {p.name: p.stat().st_ino for p in out.glob("*.wav")}
    assert 2 <= len(before) < N and not list(out.glob(".tmp-*"))
    result = CliRunner().invoke(app, ["batch", str(src), "--voice", VOICE, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"done {N - len(before)}, failed 0, skipped {len(before)}" in result.stdout
    assert len(list(out.glob("*.wav"))) == N
    assert all((out / name).stat().st_ino == ino for name, ino in before.items())


def test_cli_convert_folder_and_bad_manifest(warm_home, tmp_path, espeak):
    folder = tmp_path / "in"
    for i, text in enumerate(["Hello there.", "Good bye."]):
        save(espeak.synthesize(text, "en"), folder / f"clip{i}.wav")
    (folder / "broken.wav").write_bytes(b"not audio at all")
    result = CliRunner().invoke(app, ["batch", str(folder), "--voice", VOICE, "--out", str(tmp_path / "o")])
    assert result.exit_code == 1, result.output  # one item failed, the job went on
    assert "done 2, failed 1, skipped 0" in result.stdout and "failed broken: AudioError" in result.output
    assert sorted(p.name for p in (tmp_path / "o").glob("*.wav")) == ["clip0.wav", "clip1.wav"]
    from voxclone.audio.metadata import read_metadata

    # as `voxclone convert`: knn by default, world for the arctic voice's 3.2 s of speech,
    assert read_metadata(tmp_path / "o" / "clip0.wav")["settings"]["engine"] == "-:world"
    named = CliRunner().invoke(app, ["batch", str(folder), "--voice", VOICE, "--converter", "knn",
                                     "--out", str(tmp_path / "o3")])
    assert named.exit_code != 0 and "at least 5 s" in named.output  # and a named knn is refused
    bad = manifest(tmp_path / "bad.csv", [("../escape", "Hi.")])
    result = CliRunner().invoke(app, ["batch", str(bad), "--voice", VOICE, "--out", str(tmp_path / "o2")])
    assert result.exit_code == 2 and "invalid id '../escape'" in result.output
    assert not (tmp_path / "escape.wav").exists() and not (tmp_path / "o2").exists()


@pytest.mark.slow
def test_process_pool_survives_dying_workers(warm_home, tmp_path):
    """Two worker processes; one item kills its process once, another every time."""
    src, out = say_manifest(tmp_path, 6), tmp_path / "out"
    plan = CrashOn(once="u1", marker=str(tmp_path / "crashed"), always="u4")
    summary = run_batch(src, out, VOICE, workers=2, factory=plan)
    assert (tmp_path / "crashed").exists()
    assert (summary.done, summary.failed) == (5, 1) and summary.failures[0][0] == "u4"
    assert "WorkerDied" in summary.failures[0][1]
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".voxclone")) == \
        [f"u{i}.wav" for i in (0, 1, 2, 3, 5)]
    reference = run_batch(src, tmp_path / "ref", VOICE)
    a, b = wavs(out), wavs(tmp_path / "ref")
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_bad_settings_fail_before_any_work(warm_home, tmp_path):
    src = say_manifest(tmp_path, 2)
    with pytest.raises(InvalidSetting, match="speed=3"):
        run_batch(src, tmp_path / "o", VOICE, BatchOptions(speed=3.0))
    (tmp_path / "file").write_text("x")
    with pytest.raises(BatchError, match="is a file"):
        run_batch(src, tmp_path / "file", VOICE)
    with pytest.raises(BatchError, match="is a file, not a folder"):
        run_batch(src, tmp_path / "file" / "sub", VOICE)
    assert not (tmp_path / "o").exists()
    with locked_folder(tmp_path / "busy"):  # another job holds the folder
        with pytest.raises(BatchError, match="Another batch job"):
            run_batch(src, tmp_path / "busy", VOICE)


@pytest.mark.slow
def test_kokoro_style_is_searched_once_by_the_driver_and_shipped(warm_home, tmp_path, monkeypatch):
    from voxclone.pipeline import PipelineConfig, style_cache
    from voxclone.pipeline.kokoro_clone import StyleSearchResult
    from voxclone.tts.kokoro import KokoroTTS

    base = KokoroTTS().style_table("jf_alpha")
    calls: list[int] = []

    def search(clips, config, tts, progress, cache_dir=None):  # stands in for the (slow) search: a known table
        calls.append(len(clips))
        return StyleSearchResult(base * 1.05, "jf_alpha", 0.5, 0.6, 0.5, 0.55, None, None, 1, 0.1)

    monkeypatch.setattr(style_cache, "search_style", search)
    # compared below with an unmarked Kokoro reference, so made without the watermark
    options = BatchOptions(pipeline=PipelineConfig(tts="kokoro", converter="none", watermark=False))
    out = tmp_path / "out"
    summary = run_batch(say_manifest(tmp_path, 2), out, VOICE, options)
    assert (summary.done, summary.failed) == (2, 0) and calls == [1]
    info = sf.info(out / "u0.wav")
    assert info.samplerate == 24000 and info.duration > 0.3
    expected = KokoroTTS().synthesize(TEXTS[0], "en", style_table=base * 1.05)
    got, _ = sf.read(out / "u0.wav", dtype="float32")
    n = min(len(got), len(expected.samples))
    assert abs(len(got) - len(expected.samples)) < 240
    assert np.corrcoef(got[:n], expected.samples[:n])[0, 1] > 0.99  # the shipped style was used
    again = run_batch(say_manifest(tmp_path, 2), out, VOICE, options)
    assert again.skipped == 2 and calls == [1]  # the style came from the cache
