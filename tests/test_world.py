"""voxclone.convert.world: WORLD conversion toward the CMU ARCTIC speaker (male, ~122 Hz)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import silence, tone
from voxclone.audio import Audio, resample, rms_db
from voxclone.audio.f0 import extract_f0
from voxclone.audio.speaker import cosine
from voxclone.convert import ConvertSettings, converter_names, get_converter
from voxclone.convert.world import WorldConfig, WorldConverter
from voxclone.errors import AudioError, EngineUnavailable, InvalidSetting

TEXTS = ["The quick brown fox jumps over the lazy dog.",
         "She sells sea shells by the sea shore.",
         "Please call Stella and ask her to bring these things."]
FEMALE = "en-us+f3"


@pytest.fixture(scope="module")
def target(world, arctic):
    return world.features([arctic])


@pytest.fixture(scope="module")
def source(espeak) -> Audio:
    """A female espeak-ng voice, far from the male target (F0 ~200 Hz)."""
    return espeak.synthesize(TEXTS[0], "en", FEMALE)


@pytest.fixture(scope="module")
def converted(world, source, target) -> Audio:
    return world.convert(source, target)


def fast(world, source, target, **settings) -> Audio:
    """Conversion with the fast source F0 extractor (for tests of the mappings)."""
    return world.convert(source, target, ConvertSettings(f0_method="dio", **settings))


@pytest.fixture(scope="module")
def converted_fast(world, source, target) -> Audio:
    return fast(world, source, target)


def log_f0(audio: Audio) -> np.ndarray:
    """Log F0 of the voiced frames (dio: fast and, on clean speech, right on most frames)."""
    f0 = extract_f0(audio, "dio")[0]
    return np.log(f0[f0 > 0])


def lf0_level(audio: Audio) -> float:
    """Median log F0 (robust to dio's occasional octave errors)."""
    return float(np.median(log_f0(audio)))


def lf0_spread(audio: Audio) -> float:
    """10-90 percentile range of log F0 (robust to stray F0 errors)."""
    lo, hi = np.percentile(log_f0(audio), [10, 90])
    return float(hi - lo)


def log_mel(audio: Audio) -> np.ndarray:
    """Log-power spectrogram on 64 mel-spaced bands, 16 kHz, 25 ms frames, 10 ms hop; (T, 64)."""
    x = resample(audio, 16000).samples
    frames = np.lib.stride_tricks.sliding_window_view(x, 400)[::160] * np.hanning(400)
    power = np.abs(np.fft.rfft(frames, n=512)) ** 2
    mel = lambda hz: 2595 * np.log10(1 + hz / 700)  # noqa: E731
    edges = 700 * (10 ** (np.linspace(mel(60), mel(7600), 66) / 2595) - 1)
    bins = np.fft.rfftfreq(512, 1 / 16000)
    fb = np.array([np.interp(bins, edges[i:i + 3], [0, 1, 0], left=0, right=0) for i in range(64)])
    return np.log(power @ fb.T + 1e-8)


def spectral_corr(a: Audio, b: Audio) -> float:
    ma, mb = log_mel(a), log_mel(b)
    n = min(len(ma), len(mb))
    return float(np.corrcoef(ma[:n].ravel(), mb[:n].ravel())[0, 1])


def test_registered():
    assert "world" in converter_names()
    assert get_converter("world") is get_converter("world")
    with pytest.raises(EngineUnavailable, match="Unknown converter"):
        get_converter("nope")


def test_features_are_json_and_describe_the_target(target, arctic):
    assert json.loads(json.dumps(target)) == target
    assert np.exp(target["lf0_mean"]) == pytest.approx(np.exp(lf0_level(arctic)), rel=0.05)
    assert 90 < np.exp(target["lf0_mean"]) < 160  # a male voice
    for cls in ("voiced", "unvoiced"):
        assert len(target[f"mc_mean_{cls}"]) == len(target[f"mc_std_{cls}"]) == WorldConfig().order + 1
        assert min(target[f"mc_std_{cls}"]) > 0


def test_output_format_and_level(converted, source):
    assert converted.sample_rate == WorldConfig().sample_rate
    assert converted.duration == pytest.approx(source.duration, abs=0.05)
    assert np.all(np.isfinite(converted.samples)) and np.max(np.abs(converted.samples)) <= 1.0
    assert rms_db(converted) == pytest.approx(rms_db(source), abs=1.0)


def test_f0_moves_to_the_target(converted, source, target):
    src, out = lf0_level(source), lf0_level(converted)
    assert abs(src - target["lf0_mean"]) > 0.4  # the source starts far away (~1.6x higher)
    assert abs(out - target["lf0_mean"]) < 0.1  # within ~10 %


def test_strength_zero_keeps_the_source(world, source, target, converted_fast):
    kept = fast(world, source, target, strength=0.0)
    assert lf0_level(kept) == pytest.approx(lf0_level(source), abs=0.03)
    assert spectral_corr(kept, source) > 0.9
    assert spectral_corr(kept, source) > spectral_corr(converted_fast, source) + 0.02


def test_half_strength_lands_between(world, source, target):
    half = fast(world, source, target, strength=0.5)
    expected = 0.5 * (lf0_level(source) + target["lf0_mean"])
    assert lf0_level(half) == pytest.approx(expected, abs=0.06)


def test_speaker_similarity_rises(world, espeak, arctic, target, warm_encoder):
    goal = warm_encoder.embed(arctic)
    gains = []
    for text in TEXTS:
        src = espeak.synthesize(text, "en", FEMALE)
        before = cosine(warm_encoder.embed(src), goal)
        after = cosine(warm_encoder.embed(world.convert(src, target)), goal)
        gains.append(after - before)
    # measured: +0.05, +0.13 and +0.16 (mean +0.11)
    assert np.mean(gains) > 0.04 and min(gains) > 0.0


@pytest.mark.parametrize("semitones", [12, -7])
def test_pitch_shift(world, source, target, converted_fast, semitones):
    shifted = fast(world, source, target, pitch_shift=semitones)
    ratio = np.exp(lf0_level(shifted) - lf0_level(converted_fast))
    assert ratio == pytest.approx(2.0 ** (semitones / 12), rel=0.05)


def test_energy_scales_the_intonation(world, source, target, converted_fast):
    base = lf0_spread(converted_fast)
    wide = lf0_spread(fast(world, source, target, energy=2.0))
    narrow = lf0_spread(fast(world, source, target, energy=0.5))
    assert wide > 1.5 * base and narrow < 0.7 * base


def test_fast_f0_also_reaches_the_target(converted_fast, target):
    assert abs(lf0_level(converted_fast) - target["lf0_mean"]) < 0.1


def test_other_rates_in(world, target):
    out = world.convert(tone(180.0, 1.0, 8000), target)
    assert out.sample_rate == 22050 and out.duration == pytest.approx(1.0, abs=0.02)


def test_too_short(world, target):
    with pytest.raises(AudioError, match="too short"):
        world.convert(tone(180.0, 0.05, 16000), target)


def test_silence_stays_silent(world, target):
    assert rms_db(world.convert(silence(1.0, 22050), target)) < -90


def test_version_follows_the_config():
    default = WorldConverter()
    assert default.version == WorldConverter(WorldConfig()).version
    assert default.version.startswith("world-")
    others = {WorldConverter(WorldConfig(**change)).version for change in
              ({"order": 24}, {"alpha": 0.42}, {"frame_period_ms": 10.0}, {"sample_rate": 16000},
               {"target_f0_method": "dio"})}
    assert len(others) == 5 and default.version not in others


@pytest.mark.parametrize("kwargs", [{"strength": 1.5}, {"strength": -0.1}, {"pitch_shift": 25},
                                    {"energy": 3.0}, {"f0_method": "yin"}])
def test_settings_out_of_range(kwargs):
    with pytest.raises(InvalidSetting):
        ConvertSettings(**kwargs)


def test_dynamics_bring_the_energy_spread_toward_the_targets(world, source, target):
    from voxclone.convert.knn import KNN_DYNAMICS
    from voxclone.convert.world import DEFAULT_DYNAMICS

    assert (DEFAULT_DYNAMICS, KNN_DYNAMICS) == (False, True)  # off for world, on for knn
    plain_conv, world = world, WorldConverter(dynamics=True)
    assert world.version == plain_conv.version + ":dyn"

    speech = world.analyze(source, "dio", False).speech

    def spread(audio: Audio) -> float:
        """c0's spread over the source's speech frames (a wider swing can push quiet frames
        below the output's own speech threshold)."""
        c0 = world.analyze(audio, "dio", False).mcep[:, 0]
        n = min(len(c0), len(speech))
        return float(c0[:n][speech[:n]].std())

    before = spread(source)
    lively = {**target, "energy_spread": 1.6 * before}  # a voice whose level swings more
    plain, dyn = fast(plain_conv, source, lively), fast(world, source, lively)
    assert abs(spread(plain) - before) < 0.1 * before  # WORLD's map keeps the source's c0
    assert spread(dyn) > 1.4 * before
    half = fast(world, source, lively, strength=0.5)
    assert spread(plain) < spread(half) < spread(dyn)
    # features without the spread (made before it was kept) convert as without dynamics
    old = {k: v for k, v in target.items() if k != "energy_spread"}
    np.testing.assert_array_equal(fast(world, source, old).samples,
                                  fast(plain_conv, source, target).samples)


def test_dynamics_ratio_is_clamped_and_neutral_when_unknown():
    from voxclone.convert.dynamics import DYNAMICS_RANGE, spread_ratio

    assert spread_ratio(2.0, 1.0) == pytest.approx(2.0)
    assert spread_ratio(10.0, 1.0) == DYNAMICS_RANGE[1] and spread_ratio(0.1, 1.0) == DYNAMICS_RANGE[0]
    assert spread_ratio(1.0, 0.0) == 1.0 and spread_ratio(float("nan"), 1.0) == 1.0
