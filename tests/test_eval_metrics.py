"""Metrics with known answers: similarity, WER, DNSMOS and failure detection."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from voxclone.audio import Audio, load
from voxclone.errors import EngineUnavailable
from voxclone.eval import (detect_failures, dnsmos, normalize_text, similarity_to_set,
                           speaker_similarity, transcribe, wer, word_error_rate)

SR = 16000
# pysptk ships CMU ARCTIC's arctic_a0007 (speaker bdl)
ARCTIC_TEXT = "And you always want to see it in the superlative degree."
SENTENCE = "The birch canoe slid on the smooth planks."


@pytest.fixture(scope="module")
def encoder():
    from voxclone.audio.speaker import speaker_encoder

    return speaker_encoder()


@pytest.fixture(scope="module")
def arctic() -> Audio:
    pysptk = pytest.importorskip("pysptk")
    return load(pysptk.util.example_audio_file())


@pytest.fixture(scope="module")
def espeak():
    from voxclone.tts import get_tts

    try:
        return get_tts("espeak")
    except EngineUnavailable as exc:
        pytest.skip(str(exc))


def _sine(freq: float = 220.0, amp: float = 0.5, seconds: float = 1.0) -> np.ndarray:
    return amp * np.sin(2 * np.pi * freq * np.arange(int(seconds * SR)) / SR)


def _white(seconds: float = 3.0, amp: float = 0.1) -> Audio:
    return Audio(amp * np.random.default_rng(0).standard_normal(int(seconds * SR)), SR)


# --- speaker similarity ---------------------------------------------------------------------

def test_identical_audio_is_most_similar(encoder, espeak):
    a = espeak.synthesize(SENTENCE, "en", voice="en-us+m3")
    b = espeak.synthesize(SENTENCE, "en", voice="en-us+f3")
    same = speaker_similarity(a, a, encoder=encoder)
    other = speaker_similarity(a, b, encoder=encoder)
    assert same > 0.99
    assert other < same - 0.05


def test_similarity_accepts_embeddings(encoder, arctic):
    emb = encoder.embed(arctic)
    assert speaker_similarity(arctic, emb, encoder=encoder) == pytest.approx(1.0, abs=1e-4)
    assert similarity_to_set(arctic, [emb, arctic], encoder=encoder) == pytest.approx(1.0, abs=1e-4)
    with pytest.raises(ValueError):
        similarity_to_set(arctic, [], encoder=encoder)


# --- WER ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("Hello,   World!", "hello world"),
    ("It\u2019s 21 o'clock.", "it's twenty one o'clock"),
    ("I have 3 cats and 40 dogs", "i have three cats and forty dogs"),
    ("'Quoted' -- words; don't", "quoted words don't"),
    ("Room 101", "room one hundred and one"),
    ("Mr. Smith came 3rd", "mister smith came third"),
])
def test_normalize_text(text, expected):
    assert normalize_text(text) == expected


def test_wer_known_values():
    assert wer("a b c", "a b c") == 0.0
    assert wer("A, b; c!", "a b c") == 0.0
    assert wer("a b c d", "a x c") == pytest.approx(0.5)
    assert wer("twenty one", "21") == 0.0
    assert wer("", "") == 0.0 and wer("", "something") == 1.0
    assert wer("a b", "") == 1.0


def test_transcribes_real_speech(arctic):
    score, hypothesis = word_error_rate(arctic, ARCTIC_TEXT)
    assert score <= 0.1, hypothesis
    assert transcribe(Audio(np.zeros(0), SR), "en").text == ""


# --- DNSMOS ---------------------------------------------------------------------------------

def test_dnsmos_ranks_speech_above_noise(arctic):
    pytest.importorskip("speechmos")
    clean, noise = dnsmos(arctic), dnsmos(_white())
    for scores in (clean, noise):
        assert {"ovrl", "sig", "bak"} <= set(scores)
        assert all(isinstance(v, float) and 1.0 <= v <= 5.0 for v in scores.values())
    assert clean["ovrl"] > noise["ovrl"] + 1.0


def test_dnsmos_without_speechmos(monkeypatch, arctic):
    monkeypatch.setitem(sys.modules, "speechmos", None)
    with pytest.raises(EngineUnavailable, match="pip install speechmos"):
        dnsmos(arctic)


# --- failure detection ----------------------------------------------------------------------

def test_clean_speech_raises_no_flag(arctic, espeak):
    speech = espeak.synthesize(SENTENCE, "en")
    for clip in (arctic, speech):
        report = detect_failures(clip, expected_duration_s=clip.duration)
        assert report.flags() == [] and report.ok, report


def test_silence():
    assert detect_failures(Audio(np.zeros(SR), SR)).flags() == ["silence"]
    assert detect_failures(_white(amp=1e-4)).silence  # about -80 dBFS
    assert detect_failures(Audio(np.zeros(0), SR)).silence


def test_clipping():
    hard = Audio(np.clip(_sine(amp=1.5), -1.0, 1.0), SR)
    flat_top = Audio(np.clip(_sine(amp=1.0), -0.8, 0.8), SR)
    assert detect_failures(hard).clipping
    assert detect_failures(flat_top).clipping
    assert not detect_failures(Audio(_sine(amp=0.9), SR)).clipping


def test_looping(arctic):
    looped = Audio(np.tile(arctic.samples, 5), arctic.sample_rate)
    report = detect_failures(looped)
    assert report.looping
    assert report.loop_lag_s == pytest.approx(arctic.duration, abs=0.05)
    assert not detect_failures(arctic).looping


def test_noise_only(arctic):
    report = detect_failures(_white())
    assert report.noise_only and not report.silence
    assert report.flags() == ["noise_only"]
    assert not detect_failures(arctic).noise_only


def test_duration_off(arctic):
    assert detect_failures(arctic, expected_duration_s=1.5).duration_off
    assert detect_failures(arctic, expected_duration_s=10.0).duration_off
    assert not detect_failures(arctic, expected_duration_s=5.0).duration_off
    assert "duration_off" in detect_failures(arctic, expected_duration_s=1.0).to_dict()["flags"]
