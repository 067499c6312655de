"""Batch jobs on Ray: one local Ray session (2 CPUs) shared by this module's tests."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from conftest import VOICE
from voxclone.scale import BatchOptions, run_batch
from voxclone.scale.jobdb import DB_NAME
from voxclone.scale.testing import CrashOn

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow
TEXTS = ["One two.", "Three four.", "Five six.", "Seven eight.", "Nine ten."]


@pytest.fixture(scope="module")
def ray_session():
    """A local Ray with 2 CPUs, no dashboard and a small object store, for the whole module."""
    ray.init(address="local", num_cpus=2, include_dashboard=False, object_store_memory=100 * 1024 * 1024,
             log_to_driver=False)
    yield
    ray.shutdown()


def manifest(tmp_path: Path, n: int) -> Path:
    path = tmp_path / "m.csv"
    rows = [f"u{i},{TEXTS[i % len(TEXTS)]}" for i in range(n)]
    path.write_text("\n".join(["id,text", *rows]) + "\n", encoding="utf-8")
    return path


def wavs(out: Path) -> dict[str, np.ndarray]:
    return {p.stem: sf.read(p, dtype="int16")[0] for p in sorted(out.glob("*.wav"))}


def statuses(out: Path) -> dict[str, str]:
    with sqlite3.connect(out / DB_NAME) as conn:
        return dict(conn.execute("SELECT id, status FROM items"))


def test_ray_and_local_give_identical_outputs_and_resume(ray_session, warm_home, tmp_path):
    src = manifest(tmp_path, 6)
    options = BatchOptions(seed=7)
    local = run_batch(src, tmp_path / "local", VOICE, options)
    on_ray = run_batch(src, tmp_path / "ray", VOICE, options, workers=2, ray="local")
    assert local.done == on_ray.done == 6 and on_ray.failed == 0
    a, b = wavs(tmp_path / "local"), wavs(tmp_path / "ray")
    assert a.keys() == b.keys() == {f"u{i}" for i in range(6)}
    for key in a:
        assert np.array_equal(a[key], b[key]), key
    assert set(statuses(tmp_path / "ray").values()) == {"done"}
    again = run_batch(src, tmp_path / "ray", VOICE, options, workers=2, ray="local")
    assert (again.done, again.skipped) == (0, 6)
    assert ray.is_initialized()  # a session it did not start is left running


def test_ray_worker_death_loses_nothing(ray_session, warm_home, tmp_path):
    """u2's worker process dies once (Ray restarts it and retries); u5 kills its worker every
    time and is recorded failed; every other output exists exactly once."""
    src, out = manifest(tmp_path, 8), tmp_path / "out"
    plan = CrashOn(once="u2", marker=str(tmp_path / "crashed"), always="u5")
    summary = run_batch(src, out, VOICE, workers=2, ray="local", factory=plan)
    assert (tmp_path / "crashed").exists()  # the crash really happened
    assert (summary.done, summary.failed) == (7, 1), summary.failures
    assert summary.failures[0][0] == "u5" and "WorkerDied" in summary.failures[0][1]
    names = sorted(p.name for p in out.iterdir() if not p.name.startswith(".voxclone"))
    assert names == sorted(f"u{i}.wav" for i in range(8) if i != 5)
    db = statuses(out)
    assert db.pop("u5") == "failed" and set(db.values()) == {"done"}
    reference = run_batch(src, tmp_path / "ref", VOICE)  # the retried item is complete and right
    assert np.array_equal(wavs(out)["u2"], wavs(tmp_path / "ref")["u2"])
