"""voxclone.tts.espeak: every language speaks, Mandarin and Japanese read right, style controls work."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from voxclone.audio import Audio, rms_db, speech_seconds
from voxclone.audio.f0 import extract_f0
from voxclone.errors import EngineUnavailable, InvalidSetting, TextError, UnsupportedLanguage
from voxclone.tts import Style, get_tts, tts_names
from voxclone.tts import espeak as espeak_mod

SENTENCE = "The quick brown fox jumps over the lazy dog."
TEXTS = {
    "en": "Hello, how are you today?",
    "es": "Hola, ¿cómo estás hoy?",
    "fr": "Bonjour, comment allez-vous aujourd'hui ?",
    "zh": "你好，今天天气很好。",
    "ja": "今日は良い天気ですね。",
    "ko": "안녕하세요, 오늘 날씨가 좋네요.",
}


def f0_hz(audio: Audio) -> float:
    """Median F0 over voiced frames (dio: fast; the median ignores its occasional octave errors)."""
    f0 = extract_f0(audio, "dio")[0]
    return float(np.median(f0[f0 > 0]))


def test_registered_and_shared(espeak):
    assert "espeak" in tts_names()
    assert get_tts("espeak") is espeak
    assert espeak.sample_rate == 22050 and set(TEXTS) == set(espeak.languages)


@pytest.mark.parametrize("lang", sorted(TEXTS))
def test_every_language_speaks(espeak, lang):
    audio = espeak.synthesize(TEXTS[lang], lang)
    assert audio.sample_rate == 22050
    assert 0.8 < audio.duration < 6.0
    assert rms_db(audio) > -35.0
    assert speech_seconds(audio) > 0.6


def test_mandarin_uses_the_pinyin_voice(espeak, monkeypatch):
    calls = []
    real_run = subprocess.run

    def spy(args, *a, **kw):
        calls.append(list(args))
        return real_run(args, *a, **kw)

    monkeypatch.setattr(espeak_mod.subprocess, "run", spy)
    espeak.synthesize("你好", "zh")
    voice = calls[-1][calls[-1].index("-v") + 1]
    assert voice.startswith("cmn-latn-pinyin+")
    assert all(v.id.startswith("cmn-latn-pinyin+") for v in espeak.voices("zh"))


def test_mandarin_is_read_as_mandarin(espeak):
    # The plain `cmn` voice reads 你好 as "ni three hao three" (tone numbers spoken in English);
    # read right it is two syllables, far shorter than that English reading.
    zh = espeak.synthesize("你好", "zh")
    english_reading = espeak.synthesize("ni three hao three", "en")
    assert zh.duration < 0.8 * english_reading.duration
    assert speech_seconds(zh) > 0.3


def test_japanese_kanji_are_read_through_kana(espeak, monkeypatch):
    text = "今日は良い天気ですね。"
    kana = espeak_mod.kanji_to_kana(text)
    assert kana and not espeak_mod._KANJI.search(kana)
    read = espeak.synthesize(text, "ja")
    assert read.duration == pytest.approx(espeak.synthesize(kana, "ja").duration, rel=0.05)
    # without the kana reading espeak-ng spells each kanji out as "Chinese letter ..."
    monkeypatch.setattr(espeak_mod, "kanji_to_kana", lambda t: t)
    spelled = espeak.synthesize(text, "ja")
    assert read.duration < 0.5 * spelled.duration


def test_speed(espeak):
    fast = espeak.synthesize(SENTENCE, "en", style=Style(speed=2.0))
    slow = espeak.synthesize(SENTENCE, "en", style=Style(speed=0.5))
    normal = espeak.synthesize(SENTENCE, "en")
    assert fast.duration < normal.duration < slow.duration
    assert fast.duration < 0.4 * slow.duration


def test_female_voice_is_higher_than_male(espeak):
    male = f0_hz(espeak.synthesize(SENTENCE, "en", "en-us+m3"))
    female = f0_hz(espeak.synthesize(SENTENCE, "en", "en-us+f3"))
    assert 70 < male < 150 and female > 1.5 * male


@pytest.mark.parametrize("lang", sorted(TEXTS))
def test_voices_are_distinct_and_labelled_right(espeak, lang):
    # every variant must really be applied (espeak-ng silently drops it for some voice names)
    outputs = {v.id: espeak.synthesize(TEXTS[lang], lang, v.id) for v in espeak.voices(lang)}
    digests = {hash(a.samples.tobytes()) for a in outputs.values()}
    assert len(digests) == len(outputs)
    for voice in espeak.voices(lang):
        hz = f0_hz(outputs[voice.id])
        assert (hz > 150) == (voice.gender == "F"), f"{voice.id} labelled {voice.gender}, F0 {hz:.0f} Hz"


def test_pitch(espeak):
    base = f0_hz(espeak.synthesize(SENTENCE, "en"))
    up = f0_hz(espeak.synthesize(SENTENCE, "en", style=Style(pitch=6)))
    down = f0_hz(espeak.synthesize(SENTENCE, "en", style=Style(pitch=-6)))
    assert up > 1.15 * base and down < 0.95 * base


def test_energy_changes_the_level(espeak):
    soft = rms_db(espeak.synthesize(SENTENCE, "en", style=Style(energy=0.5)))
    loud = rms_db(espeak.synthesize(SENTENCE, "en", style=Style(energy=2.0)))
    assert loud > soft + 6.0


def test_voices(espeak):
    en = espeak.voices("en")
    assert len(en) == 12 and en[0] == espeak.default_voice("en")
    assert {v.gender for v in en} == {"M", "F"} and {v.lang for v in en} == {"en"}
    assert len(espeak.voices()) == sum(len(espeak.voices(lang)) for lang in espeak.languages)
    assert [v.id for v in espeak.voices("en-US")] == [v.id for v in en]


@pytest.mark.parametrize("kwargs", [{"speed": 2.5}, {"speed": 0.1}, {"pitch": 13}, {"energy": 0.0}])
def test_style_out_of_range(kwargs):
    with pytest.raises(InvalidSetting):
        Style(**kwargs)


def test_bad_requests(espeak):
    with pytest.raises(UnsupportedLanguage, match="Supported: en"):
        espeak.synthesize("Hallo", "de")
    with pytest.raises(EngineUnavailable, match="Unknown espeak voice"):
        espeak.synthesize("Hello", "en", "fr-fr+m3")
    with pytest.raises(TextError):
        espeak.synthesize("   ", "en")
    with pytest.raises(EngineUnavailable, match="Unknown TTS engine"):
        get_tts("nope")


def test_missing_binary(monkeypatch):
    monkeypatch.setattr(espeak_mod.shutil, "which", lambda name: None)
    with pytest.raises(EngineUnavailable, match="apt-get install"):
        espeak_mod.EspeakTTS()
