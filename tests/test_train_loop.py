"""Training loop: schedules, configs, scheduled sampling, monitors, non-finite steps, checkpoints
and exact resume in a fresh process."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from voxclone.audio.dsp import resample
from voxclone.codeclm.world_rvq import WorldRVQCodec, WorldRVQConfig
from voxclone.errors import InvalidSetting
from voxclone.train import checkpoint as ckpt
from voxclone.train.config import load_config, to_yaml
from voxclone.train.data import collate
from voxclone.train.monitor import (NonFiniteGuard, SpikeDetector, TrainingDiverged,
                                    attention_entropy, code_usage)
from voxclone.train.run import build_trainer, train_codec_lm
from voxclone.train.schedule import lr_factor, teacher_forcing
from voxclone.train.testing import ARCTIC_TEXT, arctic_clip, write_ljspeech

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """Four clips cut from the ARCTIC recording (with rough transcripts) + a fitted 4 × 64 codec."""
    root = tmp_path_factory.mktemp("lj")
    clip = resample(arctic_clip(), 22050)
    words = ARCTIC_TEXT.split()
    clips = [("full", clip, ARCTIC_TEXT), ("a", clip.slice(0.3, 2.2), " ".join(words[:4])),
             ("b", clip.slice(1.8, 3.9), " ".join(words[4:])), ("c", clip.slice(0.5, 3.0), " ".join(words[1:6]))]
    folder = write_ljspeech(root / "data", clips, val=1)
    codec = WorldRVQCodec.fit([clip], WorldRVQConfig(n_q=4, n_codes=64, f0_method="dio"))
    codec.save(root / "codec")
    return folder, root / "codec"


def _overrides(data: Path, codec: Path, out: Path) -> list[str]:
    return [f"data.train={data}", f"codec.path={codec}", f"out={out}", "model.size=tiny",
            "max_steps=20", "save_every=10", "monitor.val_every=5", "monitor.log_every=1",
            "monitor.grad_norm_every=4", "scheduled_sampling.end=0.5", "nar.corruption=0.1",
            "model.dropout=0.1", "data.batch_frames=400", "data.max_batch=2", "optim.warmup_steps=4",
            "optim.grad_accum=2"]


def test_schedules():
    assert teacher_forcing(0, 1.0, 0.3, 0, 100) == 1.0
    assert teacher_forcing(50, 1.0, 0.3, 0, 100) == pytest.approx(0.65)
    assert teacher_forcing(100, 1.0, 0.3, 0, 100) == pytest.approx(0.3)
    assert teacher_forcing(500, 1.0, 0.3, 0, 100) == pytest.approx(0.3)
    assert teacher_forcing(5, 1.0, 0.5, 10, 20) == 1.0
    assert lr_factor(0, 10, 100, "cosine", 0.1) == pytest.approx(0.1)
    assert lr_factor(9, 10, 100, "cosine", 0.1) == pytest.approx(1.0)
    assert lr_factor(100, 10, 100, "cosine", 0.1) == pytest.approx(0.1)
    assert lr_factor(55, 10, 100, "linear", 0.0) == pytest.approx(0.5)


def test_config_layers_base_file_experiment_and_overrides(tmp_path):
    (tmp_path / "base.yaml").write_text("max_steps: 50\nmodel:\n  size: tiny\noptim:\n  lr: 0.001\n")
    (tmp_path / "exp.yaml").write_text("base: base.yaml\nmax_steps: 70\n")
    cfg = load_config(tmp_path / "exp.yaml", ["optim.lr=0.002"])
    assert (cfg.max_steps, cfg.model.size, cfg.optim.lr) == (70, "tiny", 0.002)
    (tmp_path / "saved.yaml").write_text(to_yaml(cfg))
    assert load_config(tmp_path / "saved.yaml") == cfg
    with pytest.raises(InvalidSetting):
        load_config(None, ["model.length_control=guess"])
    with pytest.raises(InvalidSetting):
        load_config(None, ["max_steps=lots"])


def test_scheduled_sampling_replaces_the_scheduled_share(dataset, tmp_path):
    data, codec = dataset
    trainer = build_trainer(load_config(None, _overrides(data, codec, tmp_path)))
    batch = collate(trainer.train_items)
    torch.manual_seed(0)
    l1, m1, _ = trainer.ar_loss(batch, 1.0)
    torch.manual_seed(0)
    l1b, _, _ = trainer.ar_loss(batch, 1.0)
    assert m1["replaced"] == 0.0 and torch.equal(l1, l1b)
    n = int(batch.code_lens.sum())
    shares = [trainer.ar_loss(batch, 0.3)[1]["replaced"] for _ in range(5)]
    sigma = math.sqrt(0.3 * 0.7 / n)
    assert abs(float(np.mean(shares)) - 0.7) < 3 * sigma


def test_monitors():
    uniform = code_usage(torch.arange(64).repeat(10), 64)
    assert uniform["perplexity"] == pytest.approx(64) and uniform["dead"] == 0
    const = code_usage(torch.full((100,), 3), 64)
    assert const["perplexity"] == pytest.approx(1.0) and const["dead"] == 63
    from voxclone.codeclm.config import NARConfig
    from voxclone.codeclm.nar import NARModel

    nar = NARModel(NARConfig(n_text=10, n_codes=16, n_q=2, d_model=16, n_heads=2, n_layers=1)).eval()
    for p in nar.blocks[0].attn.qkv.parameters():
        torch.nn.init.zeros_(p)  # q = k = 0: uniform attention over the 5 + 7 positions
    run = lambda: nar(torch.ones(1, 5, dtype=torch.long), torch.tensor([5]),  # noqa: E731
                      torch.zeros(1, 2, 7, dtype=torch.long), torch.tensor([7]), torch.tensor([1]))
    assert attention_entropy(nar, run) == [pytest.approx(math.log(12), abs=1e-5)]
    spikes = SpikeDetector(z=6.0)
    assert all(spikes.update(2.0 + 0.01 * (i % 3)) is None for i in range(40))
    assert spikes.update(10.0) is not None


def test_non_finite_gradients_are_skipped_then_abort(dataset, tmp_path):
    data, codec = dataset
    trainer = build_trainer(load_config(None, _overrides(data, codec, tmp_path) + ["monitor.max_nonfinite=2"]))
    before = {k: v.clone() for k, v in trainer.ar.state_dict().items()}
    hook = trainer.ar.head.weight.register_hook(lambda g: g * float("nan"))
    record = trainer.train_step()
    assert record["skipped"] and record["nonfinite_steps"] == 1
    assert all(torch.equal(before[k], v) for k, v in trainer.ar.state_dict().items())
    trainer.train_step()
    with pytest.raises(TrainingDiverged):
        trainer.train_step()
    hook.remove()
    with pytest.raises(TrainingDiverged):
        NonFiniteGuard(0).check(float("inf"), 1)


def test_resume_is_exact_in_a_fresh_process(dataset, tmp_path):
    data, codec = dataset
    straight = train_codec_lm(load_config(None, _overrides(data, codec, tmp_path / "a")))
    half = train_codec_lm(load_config(None, _overrides(data, codec, tmp_path / "b")), until=10)
    assert half.name == "step-0000010"
    script = ("import sys, torch; torch.set_num_threads(1);"
              "from voxclone.train.config import load_config;"
              "from voxclone.train.run import build_trainer;"
              "t = build_trainer(load_config(sys.argv[1]), resume=True);"
              "assert t.step == 10, t.step;"
              "t.fit()")
    subprocess.run([sys.executable, "-c", script, str(half / "config.yaml")], check=True, cwd=ROOT,
                   env={"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
    resumed = ckpt.latest_checkpoint(tmp_path / "b")
    assert resumed.name == straight.name == "step-0000020"
    wa, wb = ckpt.load_weights(straight), ckpt.load_weights(resumed)
    assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)
    sa, sb = ckpt.load_state(straight), ckpt.load_state(resumed)
    opt_a, opt_b = sa["optimizer"]["state"], sb["optimizer"]["state"]
    assert opt_a.keys() == opt_b.keys()
    for k in opt_a:
        assert all(torch.equal(opt_a[k][n], opt_b[k][n]) for n in opt_a[k])
    assert sa["sampler"] == sb["sampler"] and sa["scheduler"] == sb["scheduler"]
    assert torch.equal(sa["rng"]["torch"], sb["rng"]["torch"])
    # the logs agree too, and the resumed run rewrote none of its first half
    la = [json.loads(x) for x in (tmp_path / "a" / "log.jsonl").read_text().splitlines()]
    lb = [json.loads(x) for x in (tmp_path / "b" / "log.jsonl").read_text().splitlines()]
    assert [r.get("loss") for r in la] == [r.get("loss") for r in lb]
    assert (tmp_path / "a" / "curves.png").stat().st_size > 1000
    assert any("attn_entropy_ar" in r for r in la) and any("grad_norms" in r for r in la)
    assert not list((tmp_path / "b" / "checkpoints").glob(".tmp-*"))


def test_checkpoint_contents_load_weights_only(dataset, tmp_path):
    data, codec = dataset
    folder = train_codec_lm(load_config(None, _overrides(data, codec, tmp_path) + ["max_steps=2"]))
    state = torch.load(folder / "state.pt", map_location="cpu", weights_only=True)
    assert state["step"] == 2 and "python" in state["rng"] and "numpy" in state["rng"]
    meta = ckpt.read_meta(folder)
    assert meta["codec"]["id"] == "world-rvq" and len(meta["codec"]["hash"]) == 16
    assert load_config(folder / "config.yaml").max_steps == 2
    from voxclone.codeclm.pretrained import CodecLM

    lm = CodecLM.from_pretrained(folder)
    audio = lm.synthesize("superlative degree", arctic_clip(), ARCTIC_TEXT, max_seconds=0.5, seed=0)
    assert audio.sample_rate == 24000 and 0 < audio.duration <= 0.5 + 1e-6
