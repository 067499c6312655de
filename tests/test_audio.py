"""voxclone.audio: file I/O, resampling, levels, speech detection, F0 and the speaker encoder."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from conftest import silence, tone
from voxclone.audio import (Audio, load, normalize_peak, resample, rms_db, save, speech_seconds,
                            trim_silence)
from voxclone.audio import mcep
from voxclone.audio.dsp import apply_gain_db, match_loudness, peak
from voxclone.audio.f0 import extract_f0, log_f0_stats
from voxclone.audio.io import from_bytes, read_tags
from voxclone.audio.speaker import cosine
from voxclone.errors import AudioError, InvalidSetting
from voxclone.eval.bench_f0 import agreement


def _dominant_hz(audio: Audio) -> float:
    spectrum = np.abs(np.fft.rfft(audio.samples))
    return float(np.fft.rfftfreq(len(audio), 1 / audio.sample_rate)[np.argmax(spectrum)])


@pytest.mark.parametrize("suffix, exact", [(".wav", True), (".flac", True), (".ogg", False),
                                           (".mp3", False)])
def test_save_load_round_trip(tmp_path, suffix, exact):
    src = tone(220.0, 1.0, 16000)
    path = save(src, tmp_path / "sub" / f"clip{suffix}")
    assert path.is_file() and path.parent.name == "sub"
    assert not list(path.parent.glob(".tmp-*"))  # atomic write left no temp file
    back = load(path)
    assert back.sample_rate == 16000 and back.samples.dtype == np.float32
    assert abs(len(back) - len(src)) <= (0 if exact else 2000)
    n = min(len(back), len(src))
    mid = slice(2000, n - 2000)
    if exact:  # 16-bit PCM: within one quantisation step
        assert np.max(np.abs(back.samples[:n] - src.samples[:n])) < 1e-4
    else:
        assert np.corrcoef(back.samples[mid], src.samples[mid])[0, 1] > 0.99
    assert _dominant_hz(back) == pytest.approx(220.0, abs=2.0)


def test_stereo_is_mixed_to_mono(tmp_path):
    left = tone(220.0).samples
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([left, np.zeros_like(left)], axis=1), 16000, subtype="FLOAT")
    audio = load(path)
    assert audio.samples.ndim == 1 and len(audio) == len(left)
    np.testing.assert_allclose(audio.samples, 0.5 * left, atol=1e-6)


@pytest.mark.parametrize("rate", [8000, 16000, 44100, 48000])
def test_supported_rates_load(tmp_path, rate):
    path = tmp_path / f"r{rate}.wav"
    sf.write(path, tone(300.0, 0.5, rate).samples, rate)
    audio = load(path)
    assert audio.sample_rate == rate and audio.duration == pytest.approx(0.5, abs=1e-3)


@pytest.mark.parametrize("rate", [4000, 96000])
def test_unsupported_rates_refused(tmp_path, rate):
    path = tmp_path / f"r{rate}.wav"
    sf.write(path, tone(300.0, 0.5, rate).samples, rate)
    with pytest.raises(AudioError, match=rf"{rate} Hz.*8000-48000"):
        load(path)


def test_missing_file(tmp_path):
    with pytest.raises(AudioError, match="not found"):
        load(tmp_path / "nope.wav")


def test_empty_file(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(AudioError, match="empty"):
        load(tmp_path / "empty.wav")


def test_header_without_samples(tmp_path):
    sf.write(tmp_path / "zero.wav", np.zeros(0, np.float32), 16000)
    with pytest.raises(AudioError, match="no samples"):
        load(tmp_path / "zero.wav")


@pytest.mark.parametrize("name, data", [
    ("noise.wav", np.random.default_rng(0).bytes(4096)),
    ("text.mp3", b"this is not audio at all\n" * 50),
    ("half.flac", None),
])
def test_corrupt_file(tmp_path, name, data):
    path = tmp_path / name
    if data is None:  # a real FLAC cut after its header
        save(tone(), path)
        path.write_bytes(path.read_bytes()[:60])
    else:
        path.write_bytes(data)
    with pytest.raises(AudioError, match="(?i)decode|no samples"):
        load(path)


def test_from_bytes_matches_load(tmp_path):
    path = save(tone(), tmp_path / "t.flac")
    a, b = load(path), from_bytes(path.read_bytes(), "upload.flac")
    np.testing.assert_array_equal(a.samples, b.samples)
    with pytest.raises(AudioError):
        from_bytes(b"garbage" * 100)


def test_save_writes_tags_and_refuses_unknown_suffix(tmp_path):
    path = save(tone(), tmp_path / "t.wav", {"software": "voxclone", "comment": "base=x",
                                             "unknown": "ignored"})
    tags = read_tags(path)
    assert tags["software"].startswith("voxclone") and tags["comment"] == "base=x"
    assert "unknown" not in tags
    with pytest.raises(AudioError, match="'.xyz'"):
        save(tone(), tmp_path / "t.xyz")
    assert not (tmp_path / "t.xyz").exists()


def test_save_clips_out_of_range_samples(tmp_path):
    loud = Audio(np.array([2.0, -3.0, 0.5] * 1000, np.float32), 16000)
    back = load(save(loud, tmp_path / "loud.wav"))
    assert back.samples.max() <= 1.0 and back.samples.min() >= -1.0


@pytest.mark.parametrize("src_rate, dst_rate", [(16000, 22050), (44100, 16000), (22050, 8000),
                                                (8000, 48000)])
def test_resample_length_and_pitch(src_rate, dst_rate):
    src = tone(440.0, 1.0, src_rate)
    out = resample(src, dst_rate)
    assert out.sample_rate == dst_rate and len(out) == dst_rate
    assert _dominant_hz(out) == pytest.approx(440.0, abs=2.0)


def test_resample_edge_cases():
    src = tone()
    assert resample(src, src.sample_rate) is src
    empty = resample(Audio(np.zeros(0, np.float32), 16000), 22050)
    assert len(empty) == 0 and empty.sample_rate == 22050


def _tone_between_silences() -> Audio:
    """1 s silence, 1 s tone, 2 s silence at 16 kHz."""
    sr = 16000
    return Audio(np.concatenate([silence(1.0, sr).samples, tone(220.0, 1.0, sr).samples,
                                 silence(2.0, sr).samples]), sr)


def test_speech_seconds_counts_the_tone():
    assert speech_seconds(_tone_between_silences()) == pytest.approx(1.0, abs=0.06)
    assert speech_seconds(silence(2.0)) == 0.0
    assert speech_seconds(Audio(np.zeros(10, np.float32), 16000)) == 0.0


def test_speech_seconds_with_a_noise_floor():
    audio = _tone_between_silences()
    noise = np.random.default_rng(0).normal(0.0, 1e-3, len(audio)).astype(np.float32)
    assert speech_seconds(Audio(audio.samples + noise, audio.sample_rate)) == pytest.approx(1.0, abs=0.06)


def test_trim_silence_keeps_the_tone_and_padding():
    audio = _tone_between_silences()
    trimmed = trim_silence(audio, pad_s=0.05)
    assert trimmed.duration == pytest.approx(1.1, abs=0.05)
    # the trimmed clip holds all of the tone's energy
    assert np.sum(trimmed.samples**2) == pytest.approx(np.sum(audio.samples**2), rel=1e-3)
    assert trim_silence(silence()).duration == pytest.approx(1.0)


def test_levels():
    t = tone(amp=0.5)
    assert rms_db(t) == pytest.approx(20 * np.log10(0.5 / np.sqrt(2)), abs=0.05)
    assert rms_db(silence()) == float("-inf")
    assert peak(normalize_peak(t, 0.9)) == pytest.approx(0.9, abs=1e-4)
    assert rms_db(match_loudness(t, -30.0)) == pytest.approx(-30.0, abs=0.05)
    assert peak(match_loudness(t, 0.0)) <= 0.97 + 1e-6  # limited
    assert peak(apply_gain_db(t, 20.0)) <= 0.99 + 1e-6
    assert rms_db(apply_gain_db(t, -6.0)) == pytest.approx(rms_db(t) - 6.0, abs=0.05)


def test_match_loudness_leaves_silence_silent():
    hiss = Audio(np.random.default_rng(0).normal(0, 1e-6, 16000).astype(np.float32), 16000)
    assert rms_db(match_loudness(hiss, -20.0)) < -100
    assert rms_db(match_loudness(silence(), -20.0)) == float("-inf")


def test_audio_type():
    a = Audio([0.0, 0.5, -0.5, 0.25], 4)
    assert a.samples.dtype == np.float32 and a.duration == 1.0
    assert len(a.slice(0.25, 0.75)) == 2
    joined = Audio.concat([a, a], gap_s=0.5)
    assert len(joined) == 10 and np.all(joined.samples[4:6] == 0)
    with pytest.raises(ValueError):
        Audio(np.zeros((2, 2)), 16000)
    with pytest.raises(ValueError):
        Audio.concat([a, Audio([0.0], 8)])


@pytest.mark.parametrize("method", ["harvest", "dio", "swift"])
def test_f0_of_a_tone(method):
    f0, times = extract_f0(tone(150.0, 1.0, 16000), method)
    assert len(f0) == len(times) and times[1] - times[0] == pytest.approx(0.005)
    assert np.median(f0[f0 > 0]) == pytest.approx(150.0, rel=0.02)
    mean, std = log_f0_stats(f0)
    assert np.exp(mean) == pytest.approx(150.0, rel=0.03) and std < 0.05


def test_f0_of_silence_and_bad_method():
    f0, _ = extract_f0(silence(0.5), "dio")
    assert np.all(f0 == 0)
    assert all(np.isnan(v) for v in log_f0_stats(f0))
    with pytest.raises(InvalidSetting, match="harvest, dio, swift"):
        extract_f0(tone(), "yin")  # type: ignore[arg-type]


@pytest.mark.parametrize("method, gpe, vde", [("swift", 0.14, 0.24), ("dio", 0.16, 0.26)])
def test_f0_trackers_agree_with_harvest_on_a_recording(arctic, method, gpe, vde):
    """On the CMU ARCTIC clip at WORLD's rate: measured gross pitch error 0.105 (swift) / 0.122
    (dio), fine error 8 cents, voicing error 0.186 / 0.202 (harvest voices more weak frames)."""
    audio = resample(arctic, 22050)
    reference, times = extract_f0(audio, "harvest")
    f0, other_times = extract_f0(audio, method)
    np.testing.assert_allclose(times, other_times)
    score = agreement(reference, f0)
    assert score["gpe"] < gpe and score["cents"] < 12.0 and score["vde"] < vde
    assert 0.35 < score["voiced"] < (reference > 0).mean()


def test_fast_mel_cepstrum_matches_pysptk(arctic):
    import pysptk
    import pyworld

    x = resample(arctic, 22050).samples.astype(np.float64)
    f0, t = pyworld.dio(x, 22050)
    sp = pyworld.cheaptrick(x, f0, t, 22050, fft_size=1024)
    mc = mcep.sp2mc(sp, order=34, alpha=0.455)
    np.testing.assert_allclose(mc, pysptk.sp2mc(sp, order=34, alpha=0.455), atol=1e-9)
    np.testing.assert_allclose(np.log(mcep.mc2sp(mc, alpha=0.455, fft_size=1024)),
                               np.log(pysptk.mc2sp(mc, alpha=0.455, fftlen=1024)), atol=1e-9)


def test_speaker_encoder(warm_encoder, arctic, espeak):
    emb = warm_encoder.embed(arctic)
    assert emb.shape == (256,) and emb.dtype == np.float32
    assert np.linalg.norm(emb) == pytest.approx(1.0, abs=1e-5)
    # the same speaker (two halves of the clip) is closer than a synthetic voice
    first, second = arctic.slice(0.0, 2.0), arctic.slice(2.0, 4.0)
    other = espeak.synthesize("The birch canoe slid on the smooth planks.", "en", "en-us+f3")
    same = cosine(warm_encoder.embed(first), warm_encoder.embed(second))
    assert same > cosine(warm_encoder.embed(first), warm_encoder.embed(other)) + 0.1
    many = warm_encoder.embed_many([first, second])
    assert np.linalg.norm(many) == pytest.approx(1.0, abs=1e-5) and cosine(many, emb) > 0.9
