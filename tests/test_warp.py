"""voxclone.convert.warp and the converters' warp choice: the source's formants moved toward the voice's."""

from __future__ import annotations

import numpy as np
import pytest
import pyworld

from voxclone.audio.mcep import mc2sp, sp2mc
from voxclone.audio.types import Audio
from voxclone.convert import ConvertSettings
from voxclone.convert.warp import WARPS, choose_warp, warp
from voxclone.convert.world import WorldConverter, _warped
from voxclone.errors import InvalidSetting
from voxclone.pipeline.knn import knn_converter

TEXT = ("The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background. "
        "It is easy to tell the depth of a well.")
OTHER = "Hello there, how are you doing today? The weather is fine."
DIO = ConvertSettings(f0_method="dio")
FFT, RATE, ALPHA = 1024, 22050, 0.455


def _peak_hz(mcep: np.ndarray) -> float:
    sp = mc2sp(mcep, alpha=ALPHA, fft_size=FFT)[0]
    return float(np.argmax(sp) * RATE / FFT)


@pytest.fixture(scope="module")
def formant() -> np.ndarray:
    """Mel-cepstrum (1, 35) of an envelope with one resonance at 1 kHz."""
    f = np.arange(FFT // 2 + 1) * RATE / FFT
    amp = 10.0 * np.exp(-0.5 * ((f - 1000.0) / 150.0) ** 2) + 0.1
    return sp2mc(amp[None] ** 2, order=34, alpha=ALPHA)


def test_a_positive_warp_raises_the_formants_and_a_negative_one_lowers_them(formant):
    base = _peak_hz(formant)
    assert 950 < base < 1050
    assert 1.05 < _peak_hz(warp(formant, 0.05)) / base < 1.15
    assert 0.85 < _peak_hz(warp(formant, -0.05)) / base < 0.95
    for beta in (0.05, -0.05):
        assert warp(formant, beta)[0, 0] == formant[0, 0]  # the frame energy is kept
    same = warp(formant, 0.0)
    np.testing.assert_array_equal(same, formant)
    assert same is not formant


def test_opposite_warps_undo_each_other_and_the_choice_finds_a_known_one(formant):
    back = warp(warp(formant, 0.06), -0.06)
    assert np.abs(mc2sp(back, ALPHA, FFT) / mc2sp(formant, ALPHA, FFT) - 1).max() < 0.05
    assert choose_warp(formant[0], warp(formant, 0.04)[0]) == pytest.approx(0.04)
    assert choose_warp(formant[0], warp(formant, -0.08)[0]) == pytest.approx(-0.08)


def _resynthesised(conv: WorldConverter, audio: Audio, beta: float) -> Audio:
    """``audio`` through WORLD with its formants warped by ``beta`` and nothing else changed."""
    an = _warped(conv.analyze(audio, "dio"), beta)
    sp = mc2sp(an.mcep, alpha=conv.config.alpha, fft_size=conv.fft_size)
    y = pyworld.synthesize(an.f0, np.ascontiguousarray(sp), an.ap, conv.config.sample_rate,
                           conv.config.frame_period_ms)
    return Audio(y.astype(np.float32), conv.config.sample_rate)


@pytest.mark.parametrize("moved", [-0.08, 0.08])
def test_the_speaker_encoder_undoes_a_warp_of_the_voices_own_speech(espeak, warm_encoder, moved):
    """The voice's own speech (other words) with its formants moved: the choice moves them back."""
    conv = WorldConverter(warps=(-0.08, 0.0, 0.08))
    target = conv.features([espeak.synthesize(TEXT, "en", "en-us+m3")])
    source = _resynthesised(conv, espeak.synthesize(OTHER, "en", "en-us+m3"), moved)
    an = conv.analyze(source, "dio")
    chosen, stats = conv.warped_analysis(an, target, DIO)
    np.testing.assert_allclose(chosen.mcep, _warped(an, -moved).mcep)
    assert stats is None  # measured again on the warped frames
    kept, _ = conv.warped_analysis(an, target, ConvertSettings(strength=0.0, f0_method="dio"))
    assert kept is an


def test_warps_change_the_version_need_an_embedding_and_are_checked(espeak, warm_encoder):
    plain, warped = WorldConverter(), WorldConverter(warps=WARPS)
    assert warped.version != plain.version and ":warp-" in warped.version
    voice = espeak.synthesize(TEXT, "en", "en-us+m3")
    assert "embedding" not in plain.features([voice])
    feats = warped.features([voice])
    assert len(feats["embedding"]) == 256
    source = espeak.synthesize(OTHER, "en", "en-us+f3")
    out = warped.convert(source, feats, DIO)
    assert len(out) == pytest.approx(len(source) * out.sample_rate / source.sample_rate, abs=300)
    an = warped.analyze(source, "dio")
    assert warped.warped_analysis(an, plain.features([voice]), DIO)[0] is an  # no embedding
    with pytest.raises(InvalidSetting, match="warps"):
        WorldConverter(warps=(0.6,))


def test_the_pitch_offset_is_the_encoders_choice_and_yields_to_an_asked_shift(espeak, warm_encoder):
    """``pitches``: the mapped pitch offset by the candidate whose conversion of the head the
    encoder prefers; the output is exactly that of the offset given by hand."""
    from dataclasses import replace

    from voxclone.audio.speaker import cosine, speaker_encoder

    offsets = (-1.5, 0.0, 1.5)
    conv, plain = WorldConverter(pitches=offsets), WorldConverter()
    assert ":pitch-" in conv.version and conv.version != plain.version
    target = conv.features([espeak.synthesize(TEXT, "en", "en-us+f3")])
    source = espeak.synthesize(OTHER, "en", "en-us+m3")
    an = conv.analyze(source, "dio")
    chosen = conv.pitched_settings(an, target, DIO)
    goal = np.asarray(target["embedding"], dtype=np.float32)
    scores = [cosine(speaker_encoder().embed(plain.convert(source, target, replace(DIO, pitch_shift=p))),
                     goal) for p in offsets]
    assert chosen.pitch_shift == offsets[int(np.argmax(scores))]  # the utterance is under 8 s
    np.testing.assert_array_equal(conv.convert(source, target, DIO).samples,
                                  plain.convert(source, target, chosen).samples)
    asked = replace(DIO, pitch_shift=-4.0)  # a shift of the caller's own: no choice
    assert conv.pitched_settings(an, target, asked) is asked
    still = ConvertSettings(strength=0.0, f0_method="dio")
    assert conv.pitched_settings(an, target, still) is still
    assert conv.pitched_settings(an, plain.features([source]), DIO) is DIO  # no embedding
    with pytest.raises(InvalidSetting, match="pitches"):
        WorldConverter(pitches=(3.0,))


def test_the_warps_winning_head_stands_for_the_unshifted_pitch(espeak, warm_encoder, monkeypatch):
    """With warps and pitches both on, the offset-0 candidate is the warp's winning head
    conversion: the same choice as made afresh, one WORLD conversion fewer."""
    conv = WorldConverter(warps=WARPS, pitches=(-1.5, 0.0, 1.5))
    target = conv.features([espeak.synthesize(TEXT, "en", "en-us+f3")])
    an = conv.analyze(espeak.synthesize(OTHER, "en", "en-us+m3"), "dio")
    calls: list[int] = []
    made = WorldConverter._world_conversion

    def counted(self, *args):
        calls.append(1)
        return made(self, *args)

    monkeypatch.setattr(WorldConverter, "_world_conversion", counted)
    warped, stats, settings = conv.chosen_analysis(an, target, DIO)
    assert len(calls) == len(WARPS) + 3 - 1
    again, again_stats = conv.warped_analysis(an, target, DIO)
    np.testing.assert_array_equal(warped.mcep, again.mcep)
    assert settings == conv.pitched_settings(again, target, DIO, again_stats)


def test_knn_warps_by_default_and_keeps_the_length(espeak, warm_encoder):
    from voxclone.convert.knn import KNN_PITCHES

    knn = knn_converter()
    assert knn.warps == WARPS and ":warp-" in knn.version
    assert knn.pitches == KNN_PITCHES and ":pitch-" in knn.version
    assert ":pitch-" not in knn_converter(pitches=()).version
    assert knn_converter(warps=()).version != knn.version
    feats = knn.features([espeak.synthesize(TEXT, "en", "en-us+m3")])
    assert "embedding" in feats and "matching_set" in feats
    source = espeak.synthesize(OTHER, "en", "en-us+f3")
    out = knn.convert(source, feats, DIO)
    assert len(out) == round(len(source) * out.sample_rate / source.sample_rate)


def test_convert_defaults_to_knn_and_says_when_a_short_voice_takes_world(warm_home, espeak, arctic,
                                                                          tmp_path, caplog):
    """``voxclone convert`` without --converter: knn; a voice under knn's 5 s of speech gets
    WORLD's conversion, a warning and a profile that says so; asked for knn, it gets the error."""
    from typer.testing import CliRunner

    from voxclone.audio.io import load, save
    from voxclone.audio.metadata import read_metadata
    from voxclone.cli.main import app
    from voxclone.convert.base import CONVERT_DEFAULT, SHORT_VOICE_CONVERTER
    from voxclone.errors import ReferenceTooShort
    from voxclone.pipeline import PipelineConfig, VoiceConversionPipeline

    assert (CONVERT_DEFAULT, SHORT_VOICE_CONVERTER) == ("knn", "world")
    long_ref = save(espeak.synthesize(TEXT, "en", "en-us+m3"), tmp_path / "long.wav")
    short_ref = save(arctic, tmp_path / "short.wav")  # ~3.2 s of speech
    pipeline = VoiceConversionPipeline(PipelineConfig(converter=CONVERT_DEFAULT),
                                       fallback=SHORT_VOICE_CONVERTER)
    assert pipeline.profile([long_ref]).converter == "knn"
    with caplog.at_level("WARNING"):
        short = pipeline.profile([short_ref])
    assert short.converter == "world" and "Converting with the world converter" in caplog.text
    out = pipeline.convert(arctic, short)
    assert abs(out.duration - arctic.duration) < 0.05
    with pytest.raises(ReferenceTooShort):
        VoiceConversionPipeline(PipelineConfig(converter="knn")).profile([short_ref])

    src = save(espeak.synthesize(OTHER, "en", "en-us+f3"), tmp_path / "src.wav")
    for ref, used in ((long_ref, "knn"), (short_ref, "world")):
        out_path = tmp_path / f"{used}.wav"
        result = CliRunner().invoke(app, ["convert", str(src), "--ref", str(ref), "--no-watermark",
                                          "-o", str(out_path)])
        assert result.exit_code == 0, result.output
        assert f"converter {used})" in result.stdout
        assert load(out_path).duration > 1.0
        assert read_metadata(out_path)["settings"]["engine"] == f"-:{used}"


def test_a_knn_pipeline_warms_up_without_a_voice():
    from voxclone.pipeline import PipelineConfig, VoiceConversionPipeline

    VoiceConversionPipeline(PipelineConfig(converter="knn"), fallback="world").warmup()
