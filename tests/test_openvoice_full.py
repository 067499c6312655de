"""The full OpenVoice V2 converter config on random weights in the official format: key set and
shapes against the released checkpoint's list, strict loading, chunking and backend parity."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
import torch

from voxclone.audio import Audio
from voxclone.convert.openvoice import OpenVoiceConverter
from voxclone.convert.openvoice.checkpoint import load_model
from voxclone.convert.openvoice.config import OpenVoiceConfig
from voxclone.convert.openvoice.model import SynthesizerTrn
from voxclone.convert.openvoice.testing import write_random_checkpoint

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "openvoice-v2-state-dict.txt"
OFFICIAL_CONFIG = {
    "_version_": "v2",
    "data": {"sampling_rate": 22050, "filter_length": 1024, "hop_length": 256, "win_length": 1024,
             "n_speakers": 0},
    "model": {"zero_g": True, "inter_channels": 192, "hidden_channels": 192, "filter_channels": 768,
              "n_heads": 2, "n_layers": 6, "kernel_size": 3, "p_dropout": 0.1, "resblock": "1",
              "resblock_kernel_sizes": [3, 7, 11],
              "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5], [1, 3, 5]],
              "upsample_rates": [8, 8, 2, 2], "upsample_initial_channel": 512,
              "upsample_kernel_sizes": [16, 16, 4, 4], "gin_channels": 256},
}

pytestmark = pytest.mark.slow


def pcc(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(np.ravel(a), np.ravel(b))[0, 1])


def reference_shapes() -> dict[str, tuple[int, ...]]:
    lines = REFERENCE.read_text().splitlines()
    out = {}
    for line in lines[1:]:
        key, shape = line.split(" ", 1)
        out[key] = tuple(ast.literal_eval(shape))
    return out


@pytest.fixture(scope="module")
def full_dir(tmp_path_factory) -> Path:
    folder = write_random_checkpoint(tmp_path_factory.mktemp("ovfull") / "v2", OpenVoiceConfig(), seed=7)
    import json

    assert json.loads((folder / "config.json").read_text()) == OFFICIAL_CONFIG
    return folder


@pytest.fixture(scope="module")
def saved(full_dir: Path) -> dict[str, torch.Tensor]:
    ckpt = torch.load(full_dir / "checkpoint.pth", weights_only=True)
    assert set(ckpt) == {"model"}
    return ckpt["model"]


@pytest.fixture(scope="module")
def speech(espeak) -> Audio:
    audio = espeak.synthesize("The birch canoe slid on the smooth planks. Glue the sheet to the "
                              "dark blue background. It is easy to tell the depth of a well.", "en")
    return Audio(audio.samples[: 6 * audio.sample_rate], audio.sample_rate)


def test_key_set_and_shapes(saved: dict[str, torch.Tensor]) -> None:
    ours = {k: tuple(v.shape) for k, v in SynthesizerTrn(OpenVoiceConfig()).state_dict().items()}
    assert {k: tuple(v.shape) for k, v in saved.items()} == ours
    assert len(ours) == 486 and sum(int(np.prod(s)) for s in ours.values()) == 32_792_226
    if not REFERENCE.is_file():
        pytest.skip(f"{REFERENCE} is absent: checked against our own model only")
    assert ours == reference_shapes()


def test_strict_load_from_the_official_format(full_dir: Path, saved: dict[str, torch.Tensor]) -> None:
    loaded = load_model(full_dir).state_dict()
    assert set(loaded) == set(saved) and all(torch.equal(loaded[k], saved[k]) for k in saved)


def test_backends_and_chunking_match(full_dir: Path, speech: Audio) -> None:
    torch_conv = OpenVoiceConverter.from_pretrained(full_dir, backend="torch")
    src = torch_conv.extract_tone_color(speech, vad=False)
    tgt = np.random.default_rng(0).standard_normal(256).astype(np.float32) * np.abs(src).mean()
    ref = torch_conv.convert(speech, src, tgt, tau=0.0).samples
    assert np.std(ref) > 1e-4
    # chunks of 2 s seeing 1.5 s either side (receptive field ~1.27 s): windows end inside the clip
    chunked = OpenVoiceConverter.from_pretrained(full_dir, backend="torch", chunk_s=2.0, context_s=1.5)
    frames, chunk, context = len(speech) // 256, chunked.chunk_frames, chunked.context_frames
    assert chunk > context and 2 * chunk + context < frames  # the 2nd window is inside the clip
    np.testing.assert_allclose(chunked.convert(speech, src, tgt, tau=0.0).samples, ref, atol=1e-5)
    for backend in ("onnxruntime", "onnxruntime-int8", "openvino"):
        pytest.importorskip(backend.split("-")[0])
        other = OpenVoiceConverter.from_pretrained(full_dir, backend=backend)
        assert pcc(other.extract_tone_color(speech, vad=False), src) >= 0.999
        out = other.convert(speech, src, tgt, tau=0.0).samples
        assert pcc(out, ref) >= 0.999, backend
