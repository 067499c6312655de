"""Speaking rate: syllable counts in the six languages, speech seconds without pauses, the
clamped speed factor, and a cloned voice spoken at its own pace."""

from __future__ import annotations

import numpy as np
import pytest

from voxclone.audio.types import Audio
from voxclone.errors import AudioError
from voxclone.pipeline import speaking_rate as sr


@pytest.mark.parametrize("text, lang, count", [
    ("The birch canoe slid on the smooth planks.", "en", 9),
    ("Hola, ¿cómo estás hoy?", "es", 7),
    ("Bonjour, comment allez-vous?", "fr", 7),
    ("你好，今天怎么样", "zh", 7),
    ("안녕하세요", "ko", 5),
])
def test_syllables(text: str, lang: str, count: int) -> None:
    assert sr.syllables(text, lang) == count
    assert sr.syllables("  ", lang) == 0


def test_speech_seconds_leave_out_pauses_but_not_short_gaps() -> None:
    rate = 16000
    tone = (0.3 * np.sin(2 * np.pi * 200 * np.arange(rate) / rate)).astype(np.float32)
    gap = np.zeros(rate // 20, np.float32)      # 50 ms: inside speech
    pause = np.zeros(rate, np.float32)          # 1 s: a pause
    audio = Audio(np.concatenate([pause, tone, gap, tone, pause, tone, pause]), rate)
    assert sr.speech_seconds(audio) == pytest.approx(3.05, abs=0.03)
    assert sr.speech_seconds(Audio(np.zeros(100, np.float32), rate)) == 0.0
    assert sr.speech_seconds(Audio(np.zeros(rate, np.float32), rate)) == 0.0
    with pytest.raises(AudioError):
        sr.rate([(Audio(np.zeros(rate, np.float32), rate), "")], "en")


def test_speed_factor_is_clamped() -> None:
    assert sr.speed_factor(4.0, 5.0) == pytest.approx(0.8)
    assert sr.speed_factor(2.0, 5.0) == sr.MIN_FACTOR
    assert sr.speed_factor(9.0, 5.0) == sr.MAX_FACTOR
    assert sr.speed_factor(4.0, 0.0) == 1.0 and sr.speed_factor(float("nan"), 4.0) == 1.0


def test_cloned_voice_speaks_at_its_own_pace(warm_home, voxclone_home) -> None:
    """The arctic voice's measured rate sets espeak-ng's speed: the paced output's rate is
    closer to the voice's than the unpaced one's, and the factor is cached on disk."""
    from voxclone.config import Settings
    from voxclone.pipeline import PipelineConfig, VoiceCloner

    text = "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background."
    plain = VoiceCloner(PipelineConfig(tts="espeak", converter="world")).say(text, "arctic")
    paced_cloner = VoiceCloner(PipelineConfig(tts="espeak", converter="world", match_rate=True))
    paced = paced_cloner.say(text, "arctic")
    library = paced_cloner.library
    clips = library.clips("arctic")
    hashes = [c.sha256 for c in library.info("arctic").clips]
    target = sr.voice_rate(clips, hashes, "en", Settings().cache_dir)
    assert list((Settings().cache_dir / "rates").glob("*.json"))
    (factor,) = paced_cloner._rate_factors.values()
    assert factor != 1.0
    before, after = (abs(sr.rate([(a, text)], "en") - target) for a in (plain, paced))
    assert after < before


def test_cli_match_rate_needs_a_voice(voxclone_home, tmp_path) -> None:
    from typer.testing import CliRunner

    from voxclone.cli.main import app

    out = tmp_path / "x.wav"
    result = CliRunner().invoke(app, ["say", "Hi.", "--tts", "espeak", "--match-rate", "-o", str(out)])
    assert result.exit_code != 0 and "--match-rate paces a cloned voice" in result.output
    assert len(result.output.strip().splitlines()) == 1 and not out.exists()
