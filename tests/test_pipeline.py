"""voxclone.pipeline: VoiceCloner (text → cloned speech), VoiceConversionPipeline, engine report."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from conftest import VOICE, silence, tone
from voxclone.audio import Audio, rms_db
from voxclone.audio.f0 import extract_f0
from voxclone.errors import (AudioError, EngineUnavailable, InvalidSetting, ReferenceTooShort,
                             TextError, UnsupportedLanguage, VoiceNotFound)
from voxclone.pipeline import PipelineConfig, VoiceCloner, VoiceConversionPipeline
from voxclone.pipeline.cloner import PIECE_GAP_S
from voxclone.pipeline.engines import engine_report
from voxclone.tts import Style

TEXT = "Hello there. How are you today? I am fine."


@pytest.fixture
def cloner(warm_home) -> VoiceCloner:
    return VoiceCloner()


@pytest.fixture
def vc(warm_home) -> VoiceConversionPipeline:
    return VoiceConversionPipeline()


@pytest.fixture(scope="module")
def speech(espeak) -> Audio:
    return espeak.synthesize("The quick brown fox jumps over the lazy dog.", "en", "en-us+f3")


def median_f0(audio: Audio) -> float:
    f0 = extract_f0(audio, "dio")[0]
    return float(np.median(f0[f0 > 0]))


def test_say_returns_speech_at_22050(cloner, warm_home):
    audio = cloner.say("Hello there, how are you?", VOICE)
    assert isinstance(audio, Audio) and audio.sample_rate == 22050
    assert 0.8 < audio.duration < 4.0
    assert rms_db(audio) == pytest.approx(cloner.config.loudness_db, abs=1.0)
    assert (warm_home / "cache" / "base-voices").is_dir()  # ranking cached under VOXCLONE_HOME


def test_synthesize_reports_how(cloner):
    result = cloner.synthesize(TEXT, VOICE)
    assert len(result.pieces) == 3 and result.candidates == []
    assert result.base_voice in {v.id for v in cloner.tts.voices("en")}
    gaps = int(PIECE_GAP_S * 22050) * 2
    assert len(result.audio) == sum(len(p) for p in result.pieces) + gaps
    stages = {"profile", "base_voice", "tts", "analysis", "conversion", "synthesis", "post"}
    assert stages <= set(result.timings_ms)
    assert result.rtf > 0


def test_split_on_a_delimiter(cloner):
    result = cloner.synthesize("One | two, three | four.", VOICE, split="|")
    assert len(result.pieces) == 3
    assert all(p.sample_rate == 22050 and p.duration > 0.2 for p in result.pieces)


def test_candidates_are_scored_and_the_best_kept(cloner):
    result = cloner.synthesize("Hello there.", VOICE, candidates=2)
    assert len(result.candidates) == 2
    voices = [v for v, _ in result.candidates]
    assert len(set(voices)) == 2
    best_voice, best_score = max(result.candidates, key=lambda c: c[1])
    assert result.base_voice == best_voice and -1.0 <= best_score <= 1.0
    assert "scoring" in result.timings_ms


def test_explicit_base_voice(cloner):
    result = cloner.synthesize("Hello there.", VOICE, base_voice="en-us+f2")
    assert result.base_voice == "en-us+f2" and "tts" in result.timings_ms


def test_unknown_base_voice(cloner):
    with pytest.raises(InvalidSetting, match="Unknown base voice 'en-us\\+zz'.*en-us\\+m3"):
        cloner.synthesize("Hello there.", VOICE, base_voice="en-us+zz")


def test_iter_pieces_streams_what_say_returns(cloner):
    stream = cloner.iter_pieces(TEXT, VOICE)
    assert inspect.isgenerator(stream)
    pieces = list(stream)
    assert len(pieces) == 3 and all(p.sample_rate == 22050 for p in pieces)
    whole = cloner.say(TEXT, VOICE)
    joined = Audio.concat(pieces, PIECE_GAP_S)
    assert len(joined) == len(whole)
    np.testing.assert_allclose(joined.samples, whole.samples, atol=1e-5)


def test_output_is_deterministic(cloner):
    a = cloner.say("Hello there.", VOICE, seed=1)
    b = cloner.say("Hello there.", VOICE, seed=1)
    np.testing.assert_array_equal(a.samples, b.samples)


def test_style_pitch_shifts_the_cloned_voice(cloner):
    base = cloner.say("Hello there, how are you?", VOICE, base_voice="en-us+m3")
    up = cloner.say("Hello there, how are you?", VOICE, base_voice="en-us+m3", style=Style(pitch=6))
    assert median_f0(up) / median_f0(base) == pytest.approx(2 ** 0.5, rel=0.07)


def test_style_speed(cloner):
    slow = cloner.say("Hello there, how are you?", VOICE, base_voice="en-us+m3", style=Style(speed=0.5))
    fast = cloner.say("Hello there, how are you?", VOICE, base_voice="en-us+m3", style=Style(speed=2.0))
    assert fast.duration < 0.5 * slow.duration


def test_other_languages(cloner):
    audio = cloner.say("你好，今天天气很好。", VOICE, lang="zh", base_voice="cmn-latn-pinyin+m3")
    assert audio.duration > 1.0 and rms_db(audio) > -30


def test_punctuation_pieces_are_skipped(cloner):
    result = cloner.synthesize("Hello|-|world", VOICE, split="|", base_voice="en-us+m3")
    assert len(result.pieces) == 2
    with pytest.raises(TextError, match="nothing to say"):
        cloner.say("...", VOICE, base_voice="en-us+m3")


def test_output_sample_rate(warm_home):
    audio = VoiceCloner(PipelineConfig(output_sample_rate=16000)).say("Hello.", VOICE,
                                                                      base_voice="en-us+m3")
    assert audio.sample_rate == 16000


def test_reference_files_instead_of_a_name(cloner, arctic_path):
    result = cloner.synthesize("Hello there.", [arctic_path], base_voice="en-us+m3")
    assert result.audio.duration > 0.3 and result.base_voice == "en-us+m3"
    assert cloner.library.list()[0].name == VOICE  # nothing was added to the library
    assert len(cloner.library.list()) == 1


@pytest.mark.parametrize("call, error", [
    (lambda c: c.say("Hello", "nobody"), VoiceNotFound),
    (lambda c: c.say("", VOICE), TextError),
    (lambda c: c.say("Hallo", VOICE, lang="de"), UnsupportedLanguage),
    (lambda c: c.say("Hello", VOICE, base_voice="nope"), InvalidSetting),
])
def test_say_errors(cloner, call, error):
    with pytest.raises(error):
        call(cloner)


def test_pipeline_config_checks_strength():
    with pytest.raises(InvalidSetting):
        PipelineConfig(strength=1.5)
    assert PipelineConfig.from_dict({"strength": 0.5, "unknown": 1}).strength == 0.5


def test_raw_base_voice_without_converter(warm_home):
    cloner = VoiceCloner(PipelineConfig(converter="none"))
    result = cloner.synthesize("Hello there.", VOICE, base_voice="en-us+m3")
    assert not {"analysis", "conversion"} & set(result.timings_ms)
    assert result.audio.sample_rate == 22050


def test_a_seed_repeats_an_engine_that_samples(warm_home):
    """Piper draws noise inside its graph: the same seed gives the same speech, cloned or
    plain; the engine itself stays unseeded."""
    cloner = VoiceCloner(PipelineConfig(tts="piper", converter="none", watermark=False))
    said = [cloner.synthesize("Hello there.", VOICE, seed=7).audio.samples for _ in range(2)]
    assert np.array_equal(*said)
    plain = [cloner.speak_plain("Hello there.", seed=7).audio.samples for _ in range(2)]
    assert np.array_equal(*plain)
    assert cloner.tts.model(cloner.tts.default_voice("en").id).seed is None  # nothing carries over
    two = "Hello there. Good bye."  # streamed, the pieces draw on as in one call
    assert np.array_equal(np.concatenate([c.samples for c in cloner.say_stream(two, VOICE, seed=7)]),
                          cloner.synthesize(two, VOICE, seed=7).audio.samples)
    assert np.array_equal(np.concatenate([c.samples for c in cloner.stream_plain(two, seed=7)]),
                          cloner.speak_plain(two, seed=7).audio.samples)


# --- speech → speech ---------------------------------------------------------------------

def test_convert_keeps_length_and_level(vc, speech):
    out = vc.convert(speech, VOICE)
    assert out.sample_rate == 22050
    assert out.duration == pytest.approx(speech.duration, abs=0.05)
    assert rms_db(out) == pytest.approx(rms_db(speech), abs=1.0)
    assert median_f0(out) < 0.75 * median_f0(speech)  # female source → male target


def test_convert_pitch_shift(vc, speech):
    base = vc.convert(speech, VOICE)
    up = vc.convert(speech, VOICE, pitch_shift=12)
    assert median_f0(up) / median_f0(base) == pytest.approx(2.0, rel=0.07)


def test_stats_count_conversions_and_failures(vc, speech):
    assert vc.stats() == {"conversions": 0, "failures": 0, "mean_ms": 0.0, "engine": "world"}
    vc.convert(speech, VOICE)
    with pytest.raises(AudioError):
        vc.convert(tone(150.0, 0.05), VOICE)
    with pytest.raises(VoiceNotFound):
        vc.convert(speech, "nobody")
    stats = vc.stats()
    assert stats["conversions"] == 1 and stats["failures"] == 2 and stats["mean_ms"] > 0


def test_profile_conversion_reports_stages(vc, speech):
    report = vc.profile_conversion(speech, VOICE)
    assert {"analysis", "conversion", "synthesis"} <= set(report.stages_ms)
    assert all(ms >= 0 for ms in report.stages_ms.values())
    assert report.total_ms >= sum(report.stages_ms[s] for s in ("analysis", "conversion", "synthesis"))
    assert report.rtf > 0 and report.duration_s == pytest.approx(speech.duration)
    assert report.rtf == pytest.approx(report.total_ms / 1000 / speech.duration)


def test_batch_convert_reports_bad_items_and_goes_on(vc, speech):
    results = vc.batch_convert([speech, tone(150.0, 0.05), speech], VOICE)
    assert isinstance(results[0], Audio) and isinstance(results[2], Audio)
    assert isinstance(results[1], AudioError) and "too short" in str(results[1])
    stats = vc.stats()
    assert stats["conversions"] == 2 and stats["failures"] == 1


def test_batch_convert_unknown_voice_fails_at_once(vc, speech):
    with pytest.raises(VoiceNotFound):
        vc.batch_convert([speech], "nobody")


def test_convert_silence_stays_silent(vc):
    out = vc.convert(silence(1.0, 22050), VOICE)
    assert rms_db(out) < -60


def test_convert_with_reference_files(vc, speech, arctic_path, tmp_path):
    out = vc.convert(speech, [arctic_path])
    assert out.duration == pytest.approx(speech.duration, abs=0.05)
    short = tmp_path / "short.wav"
    from voxclone.audio import save

    save(speech.slice(0.0, 1.0), short)
    with pytest.raises(ReferenceTooShort):
        vc.convert(speech, [short])


def test_warmup(vc):
    vc.warmup()
    assert vc.stats()["conversions"] == 0  # a warm-up without a voice is not counted
    vc.warmup(VOICE)
    assert vc.stats()["conversions"] == 1


def test_conversion_needs_a_converter(warm_home):
    with pytest.raises(EngineUnavailable):
        VoiceConversionPipeline(PipelineConfig(converter="none"))


def test_engine_report():
    rows = {(r.kind, r.name): r for r in engine_report()}
    espeak, world = rows[("tts", "espeak")], rows[("converter", "world")]
    assert espeak.available and world.available
    assert any("zh" in d and "ja" in d for d in espeak.details)
    assert any(d.startswith("version: world-") for d in world.details)
    for row in rows.values():
        assert row.available or row.reason  # every unavailable engine says why


def test_say_stream_yields_early_and_joins_to_say(cloner) -> None:
    """Streaming: the first chunk arrives before the rest is made; chunks join to say()'s output."""
    import time as _time

    text = "First sentence here. Second sentence follows. A third one ends it."
    start = _time.perf_counter()
    stream = cloner.say_stream(text, VOICE)
    first = next(stream)
    t_first = _time.perf_counter() - start
    rest = list(stream)
    t_all = _time.perf_counter() - start
    assert len(rest) == 2 and t_first < t_all
    joined = np.concatenate([first.samples] + [c.samples for c in rest])
    whole = cloner.say(text, VOICE)
    assert len(joined) == len(whole)
    assert np.allclose(joined, whole.samples, atol=1e-4)
