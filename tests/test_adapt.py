"""Per-voice adaptation: the frame map, the alignment of parallel speech, the ``adapted``
converter, its cache, and where it refuses to run."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import VOICE
from voxclone.audio import Audio
from voxclone.convert import ConvertSettings, converter_names, get_converter
from voxclone.convert.adapted import AdaptedConverter
from voxclone.convert.dynamics import with_dynamics
from voxclone.convert.frame_map import (MIN_PAIRS, FrameMap, FrameMapConfig, context_frames,
                                         decoded_map)
from voxclone.errors import InvalidSetting, ReferenceTooShort
from voxclone.pipeline import PipelineConfig, VoiceCloner
from voxclone.pipeline.adapt import align_windows, frame_path, parallel_pairs, voice_adaptation

TEXT = ("The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background. "
        "It is easy to tell the depth of a well.")
DIO = ConvertSettings(f0_method="dio")
QUICK = FrameMapConfig(steps=150)


@pytest.fixture(scope="module")
def conv() -> AdaptedConverter:
    return AdaptedConverter(frame_map=QUICK)


@pytest.fixture(scope="module")
def clip(espeak) -> Audio:
    """About 7 s of one espeak-ng voice, standing in for a voice's clip."""
    return espeak.synthesize(TEXT, "en", "en-us+f3")


def test_registered_with_its_own_version(world):
    conv = get_converter("adapted")
    assert "adapted" in converter_names() and conv.adapts_to_base_voice
    assert conv.version.startswith(world.version) and conv.version != world.version
    assert AdaptedConverter(blend=1.0).version != conv.version
    assert AdaptedConverter(residual=True).version != conv.version
    assert AdaptedConverter(frame_map=FrameMapConfig(hidden=64)).version != conv.version
    unpitched = AdaptedConverter(pitches=())  # the pitch choice is made at conversion:
    assert unpitched.version != conv.version  # another output,
    assert unpitched.adaptation_version == conv.adaptation_version == unpitched.version  # same map
    with pytest.raises(InvalidSetting):
        AdaptedConverter(blend=1.5)


def test_context_frames_repeat_the_edges():
    mcep = np.arange(12, dtype=float).reshape(6, 2)
    z = context_frames(mcep, np.array([1, 0, 1, 0, 1, 0], bool), context=1, stride=2)
    assert z.shape == (6, 3 * 2 + 1)
    np.testing.assert_array_equal(z[0], [0, 1, 0, 1, 4, 5, 1])  # frame −2 is frame 0
    np.testing.assert_array_equal(z[5], [6, 7, 10, 11, 10, 11, 0])


def test_frame_map_learns_a_mapping_and_round_trips():
    rng = np.random.default_rng(0)
    src = rng.normal(size=(3000, 8))
    voiced = rng.random(3000) > 0.3
    x = context_frames(np.concatenate([np.zeros((3000, 1)), src], axis=1)[:, 1:], voiced, 1, 1)
    w = rng.normal(size=(8, 8)) * 0.5
    y = np.tanh(src @ w) + 0.3 * voiced[:, None]
    fmap = FrameMap.fit(x, y, FrameMapConfig(context=1, stride=1, steps=400))
    full = np.concatenate([np.zeros((3000, 1)), src], axis=1)
    pred = fmap.predict(full, voiced)
    assert np.mean((pred - y) ** 2) < 0.2 * np.var(y)  # most of the variance is learned
    text = fmap.to_text()
    again = FrameMap.from_text(text)
    np.testing.assert_allclose(again.predict(full, voiced), pred, atol=0.05)  # float16 weights
    kept = decoded_map(text)  # decoded once per text, then shared
    assert decoded_map(str(text)) is kept and decoded_map(fmap.to_text()) is kept
    np.testing.assert_array_equal(kept.predict(full, voiced), again.predict(full, voiced))
    with pytest.raises(ReferenceTooShort, match="aligned"):
        FrameMap.fit(x[: MIN_PAIRS - 1], y[: MIN_PAIRS - 1])


def test_alignment_of_a_stretched_copy_is_monotone_and_complete():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(50, 16))
    b = np.repeat(a, 2, axis=0)  # the same "phones", twice as slow
    path = align_windows(a, b)
    assert tuple(path[0]) == (0, 0) and tuple(path[-1]) == (49, 99)
    assert (np.diff(path, axis=0) >= 0).all()
    assert (np.abs(path[:, 1] // 2 - path[:, 0]) <= 1).mean() > 0.95
    frames = frame_path(path[:3], 4, 8, 100)
    assert frames.shape[1] == 2 and frames[:, 0].max() < 8


def test_own_speech_as_base_voice_learns_itself(conv, clip):
    """With the clip itself as the base TTS's speech the alignment is the diagonal and the map
    gives back nearly the clip's own envelope (a sanity check of pairs and fit)."""
    pairs = parallel_pairs([clip], ["ignored"], lambda text: clip, conv)
    path = pairs[0].path
    assert (path[:, 0] == path[:, 1]).mean() > 0.95
    x, y = conv.training_frames(pairs)
    fmap = FrameMap.fit(x, y, FrameMapConfig(steps=400))
    an = pairs[0].source
    pred = fmap.predict(an.mcep, an.f0 > 0)[an.speech]
    err = np.mean((pred - an.mcep[an.speech, 1:]) ** 2)
    assert err < 0.25 * np.var(an.mcep[an.speech, 1:], axis=0).sum() / an.mcep.shape[1]


def test_converts_at_the_source_length_and_needs_an_adaptation(conv, clip, espeak):
    pairs = parallel_pairs([clip], [TEXT], lambda text: espeak.synthesize(text, "en", "en-us+m3"), conv)
    target = {**conv.features([clip]), **conv.adaptation(pairs)}
    assert target["adaptation_frames"] >= MIN_PAIRS
    source = espeak.synthesize("Hello there, how are you?", "en", "en-us+m3")
    out = conv.convert(source, target, DIO)
    assert len(out) == pytest.approx(len(source) * out.sample_rate / source.sample_rate, abs=120)
    assert np.isfinite(out.samples).all() and np.abs(out.samples).max() > 0.01
    with pytest.raises(InvalidSetting, match="voices adapt"):
        conv.convert(source, conv.features([clip]), DIO)
    residual = AdaptedConverter(frame_map=QUICK, residual=True)
    x, y = residual.training_frames(pairs)
    assert np.abs(y.mean(axis=0)).max() < np.abs(conv.training_frames(pairs)[1].mean(axis=0)).max()
    out = residual.convert(source, {**target, **residual.adaptation(pairs)}, DIO)
    assert len(out) == pytest.approx(len(source) * out.sample_rate / source.sample_rate, abs=120)


def test_adaptation_is_cached_per_clips(conv, clip, espeak, tmp_path, monkeypatch):
    import voxclone.asr as asr
    from voxclone.asr.types import Transcript

    heard, lang = [], ["en"]
    monkeypatch.setattr(asr, "transcribe", lambda audio, language, name, words=False:
                        heard.append(language) or Transcript(TEXT, lang[0], model="test"))
    spoken = []

    def speak(text: str, lang: str) -> Audio:
        spoken.append(lang)
        return espeak.synthesize(text, lang, "en-us+m3")

    def adapt(hashes: list[str], cache=tmp_path, clips=(clip,)):
        return voice_adaptation(conv, "espeak", "en-us+m3", list(clips), hashes, speak, ("en", "fr"), cache)

    first = adapt(["h1"])
    assert heard == [None] and spoken == ["en"]  # the clip's language is heard, then spoken in
    assert adapt(["h1"]) == first and len(heard) == 1 and len(list((tmp_path / "adaptations").iterdir())) == 1
    adapt(["h2"])  # other clips
    assert len(heard) == 2 and len(list((tmp_path / "adaptations").iterdir())) == 2
    entries = sorted((tmp_path / "adaptations").iterdir())
    entries[0].write_text("{not json")
    import json

    tampered = json.loads(entries[1].read_text())
    entries[1].write_text(json.dumps({**tampered, "adaptation": "bm90IGEgbWFw"}))  # not a map
    adapt(["h1"])
    adapt(["h2"])
    assert len(heard) == 4  # both damaged entries were learned again
    adapt(["h1"])
    adapt(["h2"])
    assert len(heard) == 4  # and then read
    lang[0] = "de"
    with pytest.raises(ReferenceTooShort, match="language espeak speaks"):
        adapt(["h4"], None)
    for _ in range(2):  # clips that give no map are remembered as such
        with pytest.raises(ReferenceTooShort, match="language espeak speaks"):
            adapt(["h5"])
    assert len(heard) == 6
    with pytest.raises(ReferenceTooShort, match="30 s"):
        adapt(["h3"], None, [Audio(np.zeros(31 * 16000, np.float32), 16000)])


def test_a_cached_map_is_read_while_another_voice_learns(conv, clip, espeak, tmp_path, monkeypatch):
    import threading

    import voxclone.pipeline.adapt as adapt_module

    learning, release = threading.Event(), threading.Event()
    real = adapt_module._learn

    def slow(*args, **kwargs):
        learning.set()
        assert release.wait(60)
        return real(*args, **kwargs)

    def adapt(hashes: list[str]):
        return voice_adaptation(conv, "espeak", "en-us+m3", [clip], hashes,
                                lambda text, lang: espeak.synthesize(text, lang, "en-us+m3"),
                                ("en",), tmp_path)

    import voxclone.asr as asr
    from voxclone.asr.types import Transcript

    monkeypatch.setattr(asr, "transcribe", lambda audio, language, name, words=False:
                        Transcript(TEXT, "en", model="test"))
    first = adapt(["a"])  # learned and cached
    monkeypatch.setattr(adapt_module, "_learn", slow)
    other = threading.Thread(target=adapt, args=(["b"],))
    other.start()
    try:
        assert learning.wait(60)  # voice b is being learned, holding its entry's lock
        assert adapt(["a"]) == first  # voice a's map is read meanwhile, not queued behind b
    finally:
        release.set()
        other.join()


def test_pipeline_adapts_a_library_voice_and_refuses_speech_conversion(warm_home, clip, tmp_path):
    from voxclone.audio import save
    from voxclone.pipeline import VoiceConversionPipeline
    from voxclone.voices import VoiceLibrary

    cloner = VoiceCloner(PipelineConfig(tts="espeak", converter="adapted"))
    cloner.converter = AdaptedConverter(frame_map=QUICK)
    with pytest.raises(ReferenceTooShort, match="aligned"):
        cloner.adapt(VOICE)  # 3.2 s of speech
    save(clip, tmp_path / "clip.wav")
    VoiceLibrary().add("seven", [tmp_path / "clip.wav"])
    info = cloner.adapt("seven", base_voice="en-us+m3")
    assert (info["tts"], info["base_voice"]) == ("espeak", "en-us+m3") and info["frames"] >= MIN_PAIRS
    fresh = VoiceCloner(PipelineConfig(tts="espeak", converter="adapted"))
    fresh.converter = cloner.converter
    assert fresh.adapt("seven", base_voice="en-us+m3") == info  # read from the cache
    result = fresh.synthesize("Good morning, everyone.", "seven", base_voice="en-us+m3")
    assert result.audio.duration > 0.5 and "adaptation" in result.timings_ms
    with pytest.raises(InvalidSetting, match="say"):
        VoiceConversionPipeline(PipelineConfig(converter="adapted"))
    with pytest.raises(InvalidSetting, match="adapted"):
        VoiceCloner(PipelineConfig(tts="espeak", converter="world")).adapt(VOICE)


def test_bench_row_times_learning_and_conversion(clip, espeak):
    from voxclone.eval.bench_adapt import adapt_markdown, run_adapt_bench

    r = run_adapt_bench([clip], [TEXT], lambda text: espeak.synthesize(text, "en", "en-us+m3"),
                        espeak.synthesize("Hello there, how are you?", "en", "en-us+m3"), runs=1)
    assert r["frames"] >= MIN_PAIRS and r["rtf"] > 0 and r["world_rtf"] > 0 and r["fit_s"] > 0
    assert "adapted converter" in adapt_markdown(r)


@pytest.mark.slow  # the first Kokoro use of a process joins its model
def test_kokoro_voice_speaks_world_until_its_refined_style_has_a_map(warm_home, arctic, tmp_path,
                                                                     monkeypatch):
    """The default English pipeline's staging: the start style speaks with WORLD's map (nothing
    learned on first use); `prepare` refines the style and learns the map of the refined one;
    then ``adapted`` speaks. The style search and the learning are stood in for (both are
    tested on their own); the map is a real one in the stored format."""
    import voxclone.pipeline.adapt as adapt_module
    from voxclone.audio import save
    from voxclone.pipeline import style_cache
    from voxclone.pipeline.kokoro_clone import StyleSearchResult
    from voxclone.tts import get_tts
    from voxclone.voices import VoiceLibrary

    kokoro = get_tts("kokoro")

    def result(voice: str, stage: str) -> StyleSearchResult:
        return StyleSearchResult(kokoro.style_table(voice), voice, 0.5, 0.6, 0.5, 0.55, None,
                                 None, 0, 0.1, stage)

    monkeypatch.setattr(style_cache, "start_style", lambda *a, **k: result("jf_nezumi", "start"))
    monkeypatch.setattr(style_cache, "search_style", lambda *a, **k: result("jf_alpha", "refined"))
    order = AdaptedConverter().config.order
    rng = np.random.default_rng(0)
    fmap = FrameMap.fit(rng.normal(size=(MIN_PAIRS, 5 * order + 1)),
                        rng.normal(size=(MIN_PAIRS, order)), FrameMapConfig(steps=5)).to_text()
    learned: list[str] = []

    def learn(converter, tts_name, voice_id, *args, **kwargs):
        learned.append(voice_id)
        return {"adaptation": fmap, "adaptation_frames": MIN_PAIRS}

    monkeypatch.setattr(adapt_module, "voice_adaptation", learn)
    cloner = VoiceCloner(PipelineConfig(tts="kokoro", converter="adapted", watermark=False,
                                        staged_adaptation=True))
    first = cloner.synthesize("Good morning.", VOICE)
    assert first.converter == "world" and cloner.spoke_with == "world" and learned == []
    assert first.audio.duration > 0.3 and np.isfinite(first.audio.samples).all()
    cloner.prepare(VOICE).result()
    refined = cloner.add_style(kokoro.style_table("jf_alpha"))
    assert learned == [refined]  # the map of the refined style, not of the start one
    second = cloner.synthesize("Good morning.", VOICE)
    assert (second.converter, second.base_voice, learned) == ("adapted", refined, [refined])
    assert not np.array_equal(second.audio.samples[:1000], first.audio.samples[:1000])
    eager = VoiceCloner(PipelineConfig(tts="kokoro", converter="adapted", watermark=False,
                                       search_first=True, staged_adaptation=True))
    monkeypatch.setattr(style_cache, "search_style", lambda *a, **k: result("jm_kumo", "refined"))
    save(Audio(0.8 * arctic.samples, arctic.sample_rate), tmp_path / "quieter.wav")
    VoiceLibrary().add("other", [tmp_path / "quieter.wav"])  # other clips: no style yet
    assert eager.synthesize("Good morning.", "other").converter == "adapted"  # learned first
    assert len(learned) == 2

    def refuse(*args, **kwargs):
        raise ReferenceTooShort("only 3 s aligned")

    monkeypatch.setattr(adapt_module, "voice_adaptation", refuse)
    fresh = VoiceCloner(PipelineConfig(tts="kokoro", converter="adapted", watermark=False,
                                       staged_adaptation=True))
    assert fresh.synthesize("Good morning.", VOICE).converter == "world"  # staged: WORLD speaks
    fresh.prepare(VOICE).result()  # and the preparation does not fail on it
    strict = VoiceCloner(PipelineConfig(tts="kokoro", converter="adapted", watermark=False))
    with pytest.raises(ReferenceTooShort, match="3 s"):
        strict.synthesize("Good morning.", VOICE)  # asked for by name: refused


def test_prosody_parts_of_own_speech_change_nothing(conv, clip):
    """With the clip's analysis on both sides of the pairs (the diagonal path) the F0 map's
    correction is about 0 and the dynamics ratio 1; a copy with its energy spread halved gives a
    ratio of about 2."""
    from dataclasses import replace

    from voxclone.convert import prosody_map as pm
    from voxclone.convert.adapted import ParallelUtterance

    an = conv.analyze(clip, "harvest", False)
    diagonal = np.repeat(np.arange(len(an.f0))[:, None], 2, axis=1)
    pairs = [ParallelUtterance(an, an, diagonal)]
    from voxclone.audio.f0 import log_f0_stats

    mean, std = log_f0_stats(an.f0)
    x = pm.f0_inputs(an.f0, mean, std)
    assert x.shape == (len(an.f0), 2 * len(pm.F0_OFFSETS))
    np.testing.assert_array_equal(x[:, -1], an.f0 > 0)  # the centre's flag is the map's flag column
    f0_map = pm.fit_f0_map(pairs, mean, std, FrameMapConfig(steps=300))
    z = pm.mapped_f0_z(f0_map, an.f0, mean, std)
    own = np.clip((np.log(an.f0[an.f0 > 0]) - mean) / std, -pm.Z_LIMIT, pm.Z_LIMIT)
    assert np.mean((z - own) ** 2) < 0.1
    assert pm.dynamics_ratio(pairs) == pytest.approx(1.0)
    flat = with_dynamics(an.mcep, an.speech, 0.5)
    e, f = an.mcep[an.speech, 0], flat[an.speech, 0]
    assert f.std() == pytest.approx(0.5 * e.std()) and f.mean() == pytest.approx(e.mean())
    np.testing.assert_array_equal(flat[~an.speech], an.mcep[~an.speech])
    softer = [replace(pairs[0], source=replace(an, mcep=flat))]
    assert pm.dynamics_ratio(softer) == pytest.approx(2.0, rel=0.01)


def test_intonation_and_dynamics_options_convert_and_need_their_parts(clip, espeak):
    conv = AdaptedConverter(frame_map=QUICK, f0_blend=0.5, dynamics=True)
    plain_conv = AdaptedConverter(frame_map=QUICK, f0_blend=0.0, dynamics=False)
    assert conv.version != plain_conv.version
    with pytest.raises(InvalidSetting):
        AdaptedConverter(f0_blend=1.5)
    pairs = parallel_pairs([clip], [TEXT], lambda text: espeak.synthesize(text, "en", "en-us+m3"), conv)
    learned = conv.adaptation(pairs)
    assert {"f0_adaptation", "dynamics_ratio"} <= set(learned)
    target = {**conv.features([clip]), **learned}
    source = espeak.synthesize("Hello there, how are you?", "en", "en-us+m3")
    out = conv.convert(source, target, DIO)
    assert len(out) == pytest.approx(len(source) * out.sample_rate / source.sample_rate, abs=120)
    assert np.isfinite(out.samples).all() and np.abs(out.samples).max() > 0.01
    plain = plain_conv.convert(source, target, DIO)
    assert np.abs(out.samples - plain.samples).mean() > 1e-4  # the parts change the speech
    no_f0 = conv.convert(source, {k: v for k, v in target.items() if k != "f0_adaptation"}, DIO)
    dyn_only = AdaptedConverter(frame_map=QUICK, f0_blend=0.0, dynamics=True).convert(source, target, DIO)
    np.testing.assert_allclose(no_f0.samples, dyn_only.samples)  # too little voiced speech: WORLD's F0
