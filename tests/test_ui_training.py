"""The web UI's Training tab actions: configure, start, live progress, stop with a checkpoint,
resume; the tab builds into the app."""

from __future__ import annotations

import time

import pytest

from voxclone.audio.dsp import resample
from voxclone.errors import VoxcloneError
from voxclone.serve.ui_train import TrainingRuns
from voxclone.train.testing import ARCTIC_TEXT, arctic_clip, write_ljspeech


@pytest.mark.slow
def test_configure_start_progress_stop_resume(tmp_path):
    runs = TrainingRuns(tmp_path / "training")
    with pytest.raises(VoxcloneError):
        runs.configure("demo")  # nothing prepared
    clip = resample(arctic_clip(), 22050)
    words = ARCTIC_TEXT.split()
    src = write_ljspeech(tmp_path / "src", [("full", clip, ARCTIC_TEXT),
                                            ("head", clip.slice(0.2, 2.3), " ".join(words[:5]))])
    assert "2 clips" in runs.prepare("demo", folder=str(src))
    yaml = runs.configure("demo", "tiny", 400, 1e-3, ["codec.n_codes=64", "codec.n_q=4",
                                                     "codec.f0_method=dio", "save_every=1000",
                                                     "monitor.log_every=1", "monitor.val_every=0"])
    assert "max_steps: 400" in yaml
    assert "started" in runs.start("demo")
    _wait_for_step(runs, 3)
    assert "step" in runs.progress("demo") and runs.running("demo")
    assert "Stopping" in runs.stop("demo")
    assert runs.wait("demo", timeout=120) == 0
    ckpt = runs.checkpoint("demo")
    assert ckpt is not None and int(ckpt.rsplit("-", 1)[1]) < 400  # stopped early, checkpoint kept
    assert runs.loss_plot("demo", tmp_path / "loss.png").stat().st_size > 1000
    first = int(ckpt.rsplit("-", 1)[1])
    runs.start("demo", resume=True)
    _wait_for_step(runs, first + 2)
    runs.stop("demo")
    assert runs.wait("demo", timeout=120) == 0
    assert int(runs.checkpoint("demo").rsplit("-", 1)[1]) >= first + 2


def _wait_for_step(runs: TrainingRuns, step: int) -> None:
    deadline = time.time() + 120
    while time.time() < deadline and not [r for r in runs.records("demo") if r.get("step", 0) >= step]:
        time.sleep(0.5)


def test_training_tab_is_part_of_the_ui(tmp_path, monkeypatch):
    monkeypatch.setenv("VOXCLONE_HOME", str(tmp_path))
    from voxclone.serve.config import ServeConfig
    from voxclone.serve.service import Service
    from voxclone.serve.ui import build_ui

    demo = build_ui(Service(ServeConfig()))
    ids = {getattr(b, "elem_id", None) for b in demo.blocks.values()}
    assert {"train-prepare", "train-configure", "train-start", "train-stop", "train-speak"} <= ids
