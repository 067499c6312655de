"""voxclone.convert.knn: the nearest-neighbour converter, its matching set and the encoder states."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import silence
from voxclone.audio import Audio
from voxclone.audio.dsp import resample
from voxclone.convert import ConvertSettings, converter_names, get_converter
from voxclone.convert.knn import KnnConfig, KnnConverter
from voxclone.pipeline.knn import knn_converter
from voxclone.convert.matching_set import MatchingSet
from voxclone.convert.world import WorldConfig
from voxclone.errors import AudioError, InvalidSetting, ReferenceTooShort, SilentReference
from voxclone.voices.profile import build_profile

TEXT = ("The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background. "
        "It is easy to tell the depth of a well.")
DIO = ConvertSettings(f0_method="dio")


@pytest.fixture(scope="module")
def knn() -> KnnConverter:
    return knn_converter()


@pytest.fixture(scope="module")
def voice(espeak) -> Audio:
    """About 7 s of one espeak-ng voice: enough speech for a matching set."""
    return espeak.synthesize(TEXT, "en", "en-us+m3")


@pytest.fixture(scope="module")
def target(knn, voice):
    return knn.features([voice])


def test_registered_with_its_own_version(knn, world):
    assert "knn" in converter_names() and get_converter("knn").name == "knn"
    assert knn.version.startswith(world.version) and knn.version != world.version
    assert knn_converter(knn=KnnConfig(layer=2)).version != knn.version
    with pytest.raises(InvalidSetting):
        knn_converter(knn=KnnConfig(blend=1.5))


def test_a_converter_without_a_key_function_says_how_to_build_one(voice):
    from voxclone.errors import EngineUnavailable

    with pytest.raises(EngineUnavailable, match="knn_converter"):
        KnnConverter().features([voice])


def test_matching_set_round_trips_through_text(target):
    bank = MatchingSet.from_text(target["matching_set"])
    assert bank.keys.shape[0] == bank.values.shape[0] == bank.voiced.shape[0] > 250
    np.testing.assert_allclose(np.linalg.norm(bank.keys, axis=1), 1.0, atol=2e-3)
    again = MatchingSet.from_text(bank.to_text())
    np.testing.assert_array_equal(again.keys, bank.keys)
    np.testing.assert_array_equal(again.values, bank.values)


def test_output_as_long_as_the_source(knn, target, arctic, espeak):
    for source in (arctic, espeak.synthesize("Hello there, how are you?", "en", "en-us+f3")):
        out = knn.convert(source, target, DIO)
        assert out.sample_rate == knn.config.sample_rate
        assert len(out) == round(len(source) * out.sample_rate / source.sample_rate)
        assert np.isfinite(out.samples).all() and np.abs(out.samples).max() > 0.01


def test_own_clip_matches_itself(knn, target, voice, espeak):
    """Each window of the target's own clip finds itself first (k = 1), so converting that clip
    with the matched envelope alone gives back nearly its own envelope."""
    bank = MatchingSet.from_text(target["matching_set"])
    own = knn.matching_set([voice], [knn.analyze(voice, knn.config.target_f0_method)])
    sims = own.keys @ bank.keys.T
    assert (sims.argmax(axis=1) == np.arange(len(own))).mean() > 0.95
    np.testing.assert_allclose(bank.match(own.keys, own.voiced, 1), own.values, atol=0.05)

    alone = knn_converter(knn=KnnConfig(k=1, blend=1.0, smooth_frames=1))
    an = alone.analyze(voice, "dio")
    matched = alone.matched_mcep(voice, an, bank)
    other = alone.matched_mcep(voice, an, MatchingSet.from_text(alone.features([espeak.synthesize(TEXT, "en", "en-us+f4")])["matching_set"]))
    speech = an.speech
    own_err = np.abs(matched[speech] - an.mcep[speech, 1:]).mean()
    other_err = np.abs(other[speech] - an.mcep[speech, 1:]).mean()
    assert own_err < 0.5 * other_err


def test_bad_inputs_get_clear_errors(knn, target, arctic):
    with pytest.raises(ReferenceTooShort, match="at least 5 s"):
        build_profile("short", [arctic], knn)  # passes the 3 s minimum, too little to match
    with pytest.raises(SilentReference):
        build_profile("silent", [silence(6.0)], knn)
    with pytest.raises(AudioError, match="silent"):
        knn.convert(silence(2.0), target, DIO)
    with pytest.raises(AudioError, match="11025 Hz is not supported"):
        knn.convert(resample(arctic, 11025), target, DIO)
    with pytest.raises(InvalidSetting, match="matching set"):
        knn.convert(arctic, {k: v for k, v in target.items() if k != "matching_set"}, DIO)


def test_profile_cache_rebuilds_the_matching_set_when_clips_change(tmp_path, voice, arctic_path):
    from voxclone.audio.io import save
    from voxclone.voices import VoiceLibrary

    library = VoiceLibrary()
    first_clip = save(voice, tmp_path / "a.wav")
    library.add("bob", [first_clip])
    knn = knn_converter(WorldConfig(target_f0_method="dio"))  # the cache, not the F0, is tested
    first = library.profile("bob", knn)
    assert library.profile("bob", knn) == first  # cached
    library.add_clips("bob", [arctic_path])
    second = library.profile("bob", knn)
    assert second.clip_hashes != first.clip_hashes
    assert len(MatchingSet.from_text(second.features["matching_set"])) > len(
        MatchingSet.from_text(first.features["matching_set"]))


@pytest.mark.slow
def test_say_and_convert_with_knn(warm_home, voice, tmp_path, arctic):
    from voxclone.audio.io import save
    from voxclone.pipeline import PipelineConfig, VoiceCloner, VoiceConversionPipeline

    ref = save(voice, tmp_path / "ref.wav")
    result = VoiceCloner(PipelineConfig(tts="espeak", converter="knn")).synthesize(
        "Good morning.", [ref])
    assert result.audio.duration > 0.5 and "matching" in result.timings_ms
    out = VoiceConversionPipeline(PipelineConfig(converter="knn")).convert(arctic, [ref])
    assert abs(out.duration - arctic.duration) < 0.05


def test_encoder_states_match_ctranslate2(arctic):
    """Our numpy encoder's last layer equals CTranslate2's ``encode`` on the same features."""
    ctranslate2 = pytest.importorskip("ctranslate2")
    from voxclone.asr.encoder import log_mel, whisper_encoder
    from voxclone.asr.models import model_dir

    clip = arctic.slice(0, 2.0)
    encoder = whisper_encoder("tiny.en")
    model = ctranslate2.models.Whisper(str(model_dir("tiny.en")), device="cpu", compute_type="float32")
    mel = np.ascontiguousarray(log_mel(clip)[None], dtype=np.float32)
    theirs = np.array(model.encode(ctranslate2.StorageView.from_array(mel)))[0]
    ours = encoder.states(clip, encoder.n_layers)
    assert ours.shape == theirs.shape == (100, 384)
    assert np.corrcoef(ours.ravel(), theirs.ravel())[0, 1] > 0.9999
    assert encoder.states(clip, 1).shape == (100, 384)


@pytest.mark.slow
def test_bench_row(voice, espeak):
    from voxclone.eval.bench_knn import knn_markdown, run_knn_bench

    row = run_knn_bench(Audio.concat([voice, voice]), espeak.synthesize("Hello there.", "en"), runs=1)
    assert row["build_s_per_min"] > 0 and row["rtf"] > 0 and row["entries"] > 250
    assert 0 < row["matching_set_s_per_min"] < row["build_s_per_min"]
    assert 0 < row["unwarped_rtf"]
    assert "knn converter" in knn_markdown(row) and "without the warp and pitch choices" in knn_markdown(row)


def test_matching_in_blocks_gives_the_same_neighbours(monkeypatch):
    """Long inputs are matched a block of queries at a time (bounded memory), with the same result."""
    from voxclone.convert import matching_set

    rng = np.random.default_rng(0)
    bank = MatchingSet(rng.normal(size=(300, 16)).astype(np.float32), rng.normal(size=(300, 5)),
                       rng.random(300) > 0.3)
    bank.keys = matching_set.unit(bank.keys)
    queries, voiced = rng.normal(size=(500, 16)).astype(np.float32), rng.random(500) > 0.5
    whole = bank.match(queries, voiced, 4)
    monkeypatch.setattr(matching_set, "QUERY_BLOCK", 7)
    np.testing.assert_array_equal(bank.match(queries, voiced, 4), whole)


def test_nearness_is_the_mean_cosine_of_the_neighbours():
    rng = np.random.default_rng(1)
    from voxclone.convert.matching_set import unit

    bank = MatchingSet(unit(rng.normal(size=(200, 8))), rng.normal(size=(200, 3)), np.ones(200, bool))
    queries = np.concatenate([bank.keys[:5], unit(rng.normal(size=(5, 8)))])
    means, near = bank.nearest(queries, np.ones(10, bool), 1)
    np.testing.assert_allclose(near[:5], 1.0, atol=1e-5)  # each key finds itself
    np.testing.assert_allclose(means[:5], bank.values[:5])
    assert (near[5:] < 0.999).all()
    np.testing.assert_array_equal(bank.match(queries, np.ones(10, bool), 3),
                                  bank.nearest(queries, np.ones(10, bool), 3)[0])


def test_blend_by_nearness_spans_its_range(knn, target, voice):
    ranged = knn_converter(knn=KnnConfig(blend_range=(0.1, 0.4), smooth_frames=1))
    an = ranged.analyze(voice, "dio")
    bank = MatchingSet.from_text(target["matching_set"])
    matched, blend = ranged.matched(voice, an, bank)
    np.testing.assert_array_equal(matched, ranged.matched_mcep(voice, an, bank))
    assert blend.shape == (len(an.mcep), 1)
    assert blend.min() == pytest.approx(0.1) and blend.max() == pytest.approx(0.4)
    assert knn.matched(voice, an, bank)[1] == knn.knn.blend
    assert ranged.version != knn_converter(knn=KnnConfig(smooth_frames=1)).version
    with pytest.raises(InvalidSetting):
        knn_converter(knn=KnnConfig(blend_range=(0.1, 1.4)))


def test_order_spread_is_widened_back_never_narrowed(knn, voice):
    from voxclone.convert.dynamics import SPREAD_CAP, with_order_spread

    an = knn.analyze(voice, "dio")
    rng = np.random.default_rng(2)
    reference = an.mcep + rng.normal(scale=0.3, size=an.mcep.shape)
    narrowed = an.mcep.copy()
    narrowed[:, 1:] = narrowed[:, 1:].mean(axis=0) + 0.8 * (narrowed[:, 1:] - narrowed[:, 1:].mean(axis=0))
    out = with_order_spread(narrowed, reference, an)
    voiced = an.speech & (an.f0 > 0)
    ratio = out[voiced, 1:].std(axis=0) / narrowed[voiced, 1:].std(axis=0)
    goal = reference[voiced, 1:].std(axis=0) / narrowed[voiced, 1:].std(axis=0)
    np.testing.assert_allclose(ratio, np.clip(goal, 1.0, SPREAD_CAP), rtol=1e-6)
    np.testing.assert_allclose(out[voiced, 1:].mean(axis=0), narrowed[voiced, 1:].mean(axis=0), atol=1e-9)
    np.testing.assert_array_equal(out[:, 0], narrowed[:, 0])
    np.testing.assert_array_equal(out[~an.speech], narrowed[~an.speech])
    wide = with_order_spread(reference, narrowed, an)  # a narrower reference: unchanged
    np.testing.assert_allclose(wide, reference)
