"""Perth-Net re-implementation: strict loading, ONNX vs torch, round trip, and parity with the
original ``resemble-perth`` code (run here with a test-only stand-in for its three torchaudio
classes; skipped when the package is not installed)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from perth_reference import original_perth
from voxclone.audio import Audio
from voxclone.audio.dsp import resample
from voxclone.errors import AudioError, ModelCorrupt
from voxclone.provenance.perth_net import PerthConfig, PerthNet

perth_installed = pytest.mark.skipif(
    __import__("importlib").util.find_spec("perth") is None, reason="resemble-perth not installed")


def pcc(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(np.ravel(a), np.ravel(b))[0, 1])


@pytest.fixture(scope="module")
def marker():
    from voxclone.provenance.watermark import watermarker

    return watermarker()


@pytest.fixture(scope="module")
def speech32(arctic: Audio) -> np.ndarray:
    return resample(arctic, 32000).samples


@perth_installed
def test_round_trip_and_unmarked(marker, arctic: Audio) -> None:
    marked = marker.embed(arctic)
    assert marked.sample_rate == arctic.sample_rate and len(marked) == len(arctic)
    snr = 10 * np.log10(np.sum(arctic.samples ** 2) / np.sum((marked.samples - arctic.samples) ** 2))
    assert 10 < snr < 30  # the mark sits under the speech, not on top of it
    hit, clean = marker.detect(marked), marker.detect(arctic)
    assert hit.watermarked and hit.confidence > 0.9
    assert not clean.watermarked and clean.confidence < 0.3


@perth_installed
def test_other_rates_silence_and_short_audio(marker, arctic: Audio) -> None:
    for sr in (24000, 44100):
        audio = resample(arctic, sr)
        assert marker.detect(marker.embed(audio)).watermarked
    quiet = Audio(np.zeros(16000, np.float32), 16000)
    assert np.array_equal(marker.embed(quiet).samples, quiet.samples)
    assert marker.detect(quiet).confidence == 0.0
    with pytest.raises(AudioError, match="too short"):
        marker.detect(Audio(arctic.samples[:1000], 16000))


def test_onnx_stacks_match_torch_on_random_weights() -> None:
    from voxclone.provenance.watermark import Watermarker

    torch.manual_seed(0)
    model = PerthNet(PerthConfig(hidden_size=16)).eval()
    x = (0.1 * np.random.default_rng(0).standard_normal(32000)).astype(np.float32)
    a, b = Watermarker(model, "torch"), Watermarker(model, "onnx")
    assert pcc(a.embed_32k(x), b.embed_32k(x)) > 0.9999
    assert abs(a.confidence_32k(x) - b.confidence_32k(x)) < 1e-4


def test_strength_scales_the_added_mark(arctic: Audio) -> None:
    from voxclone.provenance.watermark import Watermarker

    torch.manual_seed(0)
    model = PerthNet(PerthConfig(hidden_size=16)).eval()
    full, half = Watermarker(model, "torch"), Watermarker(model, "torch", strength=0.5)
    assert full.strength == 1.0
    delta_full = full.embed(arctic).samples.astype(np.float64) - arctic.samples
    delta_half = half.embed(arctic).samples.astype(np.float64) - arctic.samples
    assert np.abs(delta_full).max() > 1e-3
    ulp = float(np.spacing(np.float32(np.abs(arctic.samples).max() + np.abs(delta_full).max())))
    np.testing.assert_allclose(delta_half, 0.5 * delta_full, rtol=0, atol=ulp)  # float32 sum only


@pytest.mark.parametrize("strength", [0.0, -0.5, 1.5, float("nan")])
def test_strength_out_of_range_is_refused(strength: float) -> None:
    from voxclone.errors import InvalidSetting
    from voxclone.provenance.watermark import Watermarker

    with pytest.raises(InvalidSetting, match="strength"):
        Watermarker(PerthNet(PerthConfig(hidden_size=8)), "torch", strength=strength)


@perth_installed
def test_round_trip_at_the_default_strength(arctic: Audio) -> None:
    from voxclone.provenance.watermark import Watermarker

    marker = Watermarker()
    assert marker.strength == 1.0
    assert marker.detect(marker.embed(arctic)).watermarked


@perth_installed
def test_bundled_checkpoint_windows_are_hann(voxclone_home) -> None:
    """The cached-graph path builds the STFT from the config: the checkpoint's windows must be
    the plain Hann windows it assumes; the graphs are cached for the next start."""
    from voxclone.provenance.watermark import Watermarker

    model = PerthNet.from_pretrained()
    for win in (model.ap.spectrogram.window, model.ap.inv_spectrogram.window):
        assert torch.equal(win, torch.hann_window(2048))
    Watermarker()
    assert len(list((voxclone_home / "cache" / "perth").glob("*.onnx"))) == 2


def test_loader_is_strict(tmp_path) -> None:
    model = PerthNet(PerthConfig(hidden_size=8))
    state = model.state_dict()
    path = tmp_path / "perth_net_1.pth.tar"
    torch.save({"model": state, "step": 1}, path)
    (tmp_path / "hparams.yaml").write_text("hidden_size: 8\nsample_rate: 32000\n")
    assert PerthNet.from_pretrained(path).hp.hidden_size == 8
    state.pop("ap.stretch.phase_advance")
    torch.save({"model": state, "step": 1}, path)
    with pytest.raises(ModelCorrupt, match="phase_advance"):
        PerthNet.from_pretrained(path)


# --- parity with the original code --------------------------------------------------------------

@pytest.fixture(scope="module")
def original():
    """The original PerthImplicitWatermarker, imported with the stand-in torchaudio, which is
    removed again (with every perth module) afterwards."""
    with original_perth() as marker:
        yield marker


@perth_installed
def test_parity_with_original_perth(original, marker, speech32: np.ndarray) -> None:
    ours = marker.embed(Audio(speech32, 32000)).samples
    theirs = original.apply_watermark(speech32, sample_rate=32000)
    assert pcc(ours, theirs) > 0.9999
    rng = np.random.default_rng(1)
    inputs = [speech32, theirs, 0.5 * theirs, speech32[8000:], theirs[16000:],
              theirs + 0.02 * rng.standard_normal(len(theirs)).astype(np.float32),
              speech32 + 0.02 * rng.standard_normal(len(speech32)).astype(np.float32)]
    a = [float(original.get_watermark(x.astype(np.float32), 32000, round=False)) for x in inputs]
    b = [marker.confidence_32k(x.astype(np.float32)) for x in inputs]
    assert np.max(np.abs(np.subtract(a, b))) < 1e-3
    assert pcc(a, b) > 0.999


@perth_installed
def test_parity_at_another_rate(original, marker, arctic: Audio) -> None:
    """At 16 kHz the original resamples with librosa, ours with soxr: still the same mark."""
    ours = marker.embed(arctic).samples
    theirs = original.apply_watermark(arctic.samples, sample_rate=16000)
    n = min(len(ours), len(theirs))
    assert pcc(ours[:n] - arctic.samples[:n], theirs[:n] - arctic.samples[:n]) > 0.99
    assert float(original.get_watermark(ours, 16000, round=False)) > 0.9
