"""A new voice speaks at once (start style, refined later) and a cached one fast (pieces
overlapped, world-auto's strength chosen once per voice, WORLD's mel-cepstra in one product)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from voxclone.audio import Audio
from voxclone.config import Settings
from voxclone.convert import ConvertSettings
from voxclone.pipeline import style_cache
from voxclone.pipeline.kokoro_clone import StyleSearchConfig, StyleSearchResult
from voxclone.timing import StageTimer
from voxclone.voices import VoiceLibrary

pytestmark = pytest.mark.filterwarnings("ignore:open_text is deprecated:DeprecationWarning")
TINY = StyleSearchConfig(texts=("The boy was there at dawn.",), budget_s=600.0, max_steps=1,
                         wer_guard=False)


def test_stage_timer_adds_up_from_threads() -> None:
    timer = StageTimer()

    def work() -> None:
        for _ in range(200):
            with timer.stage("tts"):
                pass

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(timer.ms) == {"tts"} and timer.ms["tts"] >= 0.0


class _FakeTTS:
    """What the cache keys read of an engine."""

    def model_path(self) -> Path:
        return Path("kokoro-v1.0.int8.onnx")

    def voice_tables(self) -> dict[str, np.ndarray]:
        return {"jf_alpha": np.zeros((510, 1, 256), np.float32)}


def _result(value: float, stage: str) -> StyleSearchResult:
    table = np.full((510, 1, 256), value, np.float32)
    return StyleSearchResult(table, "jf_alpha", 0.5, 0.6, 0.5, 0.55, None, None, 0, 0.1, stage)


def test_start_style_until_the_refined_one_exists(tmp_path: Path, arctic_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def start(clips, config, tts, cache_dir=None):
        calls.append("start")
        return _result(1.0, "start")

    def search(clips, config, tts, progress, cache_dir=None):
        calls.append("search")
        time.sleep(0.2)  # long enough for a second caller to arrive while it runs
        return _result(2.0, "refined")

    monkeypatch.setattr(style_cache, "start_style", start)
    monkeypatch.setattr(style_cache, "search_style", search)
    settings = Settings(home=tmp_path / "home")
    library = VoiceLibrary(settings)
    library.add("arctic", [arctic_path])
    hashes = [c.sha256 for c in library.info("arctic").clips]
    assert style_cache.cached_stage(hashes, TINY, _FakeTTS(), settings) is None
    first = style_cache.voice_style(library, "arctic", TINY, _FakeTTS(), settings)
    assert calls == ["start"] and first.stage == "start" and first.table[0, 0, 0] == 1.0
    assert style_cache.voice_style(library, "arctic", TINY, _FakeTTS(), settings).stage == "start"
    assert calls == ["start"]  # read back, not found again
    # Two refiners at once (the server's background one and a `voices prepare`): one search.
    found: list[StyleSearchResult] = []
    threads = [threading.Thread(target=lambda: found.append(style_cache.cached_style(
        library, "arctic", TINY, _FakeTTS(), settings))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == ["start", "search"] and [r.stage for r in found] == ["refined"] * 2
    now = style_cache.voice_style(library, "arctic", TINY, _FakeTTS(), settings)
    assert now.stage == "refined" and now.table[0, 0, 0] == 2.0
    folder = settings.cache_dir / "kokoro-styles"
    assert len(list(folder.glob("start-*.npz"))) == 1 and len(list(folder.glob("*.npz"))) == 2
    assert not list(folder.glob(".*"))  # no temporary file left behind
    # Every effort shares the start style; the refined one is per config.
    fast = StyleSearchConfig(texts=TINY.texts, effort="fast", max_steps=1, wer_guard=False)
    assert style_cache.voice_style(library, "arctic", fast, _FakeTTS(), settings).stage == "start"


def test_results_without_a_stage_read_as_refined() -> None:
    meta = _result(1.0, "refined").meta()
    del meta["stage"]
    assert StyleSearchResult.from_meta(np.zeros((510, 1, 256)), meta).stage == "refined"


class _CountingAuto:
    """A converter with world-auto's choice API that counts its choices."""

    name, version, strengths = "count", "1", (0.0, 0.5, 1.0)

    def __init__(self) -> None:
        self.calls = 0

    def choose(self, audio, target, settings):
        self.calls += 1
        time.sleep(0.05)
        return audio, 0.5


def test_voice_strength_is_chosen_once_for_concurrent_callers(tmp_path: Path, espeak) -> None:
    from voxclone.pipeline import strength

    converter = _CountingAuto()
    speak = lambda text: espeak.synthesize(text, "en")  # noqa: E731
    target = {"embedding": [0.1] * 4, "lf0_mean": 5.0}
    got: list[float] = []
    threads = [threading.Thread(target=lambda: got.append(strength.voice_fraction(
        converter, "espeak", "en-us", "en", target, ConvertSettings(), speak, tmp_path)))
        for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == [0.5] * 3 and converter.calls == 1
    strength._MEMORY.clear()  # a new process reads it from disk
    assert strength.voice_fraction(converter, "espeak", "en-us", "en", target, ConvertSettings(),
                                   speak, tmp_path) == 0.5 and converter.calls == 1
    assert len(list((tmp_path / "strengths").glob("*.json"))) == 1
    assert strength.calibration_text("en").count(".") == strength.CALIBRATION_SENTENCES


def test_shared_base_voices_keep_their_calibration_speech(tmp_path: Path, espeak) -> None:
    """A shared base voice's calibration speech is spoken once for every target (the same
    samples read back, a damaged file spoken again); a voice's own style keeps nothing."""
    from voxclone.pipeline import strength

    spoken: list[str] = []

    def speak(text: str):
        spoken.append(text)
        return espeak.synthesize(text, "en")

    strength._MEMORY.clear()
    converter = _CountingAuto()
    for i in range(2):  # two targets, one shared base voice
        target = {"embedding": [0.3 * (i + 1)] * 4, "lf0_mean": 4.0 + i}
        strength.voice_fraction(converter, "espeak", "en-us", "en", target, ConvertSettings(),
                                speak, tmp_path, shared=True)
    assert converter.calls == 2 and spoken == [strength.calibration_text("en")]
    kept = strength.calibration_speech("espeak", "en-us", "en", speak, tmp_path)
    again = espeak.synthesize(strength.calibration_text("en"), "en")
    assert len(spoken) == 1 and np.array_equal(kept.samples, again.samples)
    (path,) = (tmp_path / "strengths").glob("speech-*.npz")
    path.write_bytes(b"damaged")
    assert len(strength.calibration_speech("espeak", "en-us", "en", speak, tmp_path)) == len(again)
    assert len(spoken) == 2
    strength.voice_fraction(converter, "espeak", "style:own", "en", {"embedding": [0.5] * 4},
                            ConvertSettings(), speak, tmp_path, shared=False)
    assert len(spoken) == 3 and len(list((tmp_path / "strengths").glob("speech-*.npz"))) == 1


def test_convert_at_gives_the_chosen_output(warm_encoder, arctic, espeak) -> None:
    from voxclone.convert.world_auto import AutoWorldConverter

    auto = AutoWorldConverter()
    target = auto.features([arctic])
    source = espeak.synthesize("The quick brown fox jumps over the lazy dog.", "en", "en-us+f3")
    settings = ConvertSettings(f0_method="dio")
    chosen, fraction = auto.choose(source, target, settings)
    assert fraction in auto.strengths
    again = auto.convert_at(source, target, fraction, settings)
    np.testing.assert_allclose(again.samples, chosen.samples, atol=1e-4)


def test_overlapped_pieces_equal_pieces_spoken_one_by_one(warm_home) -> None:
    from voxclone.pipeline import PipelineConfig, VoiceCloner
    from voxclone.tts import Style

    cloner = VoiceCloner(PipelineConfig(tts="espeak", converter="world", watermark=False))
    texts = ["The birch canoe slid on the smooth planks.",
             "Glue the sheet to the dark blue background.", "It is easy to tell the depth."]
    result = cloner.synthesize(" ".join(texts), "arctic")
    profile, voice = cloner.profile("arctic"), result.base_voice
    settings = cloner._convert_settings(Style())
    alone = [cloner._convert_piece(cloner._base_speech(t, "en", voice, Style()), "en", voice,
                                   Style(), profile, settings, StageTimer()) for t in texts]
    streamed = list(cloner.iter_pieces(" ".join(texts), "arctic", base_voice=voice))
    assert len(result.pieces) == len(streamed) == 3
    for ours, stream, theirs in zip(result.pieces, streamed, alone):
        np.testing.assert_array_equal(ours.samples, theirs.samples)
        np.testing.assert_array_equal(stream.samples, theirs.samples)


@pytest.mark.slow
def test_new_voice_speaks_with_its_start_style_then_the_refined_one(
        arctic_path: Path, warm_encoder, monkeypatch: pytest.MonkeyPatch) -> None:
    """No mocks: a real Kokoro start phase and a one-step search, asserted on the cache."""
    from voxclone.pipeline import PipelineConfig, VoiceCloner

    monkeypatch.setattr(VoiceCloner, "_search_config", lambda self: TINY)
    cloner = VoiceCloner(PipelineConfig(tts="kokoro", converter="none", watermark=False))
    cloner.library.add("arctic", [arctic_path])
    assert cloner.style_stage("arctic") is None
    first = cloner.synthesize("Good morning.", "arctic")
    assert first.audio.duration > 0.3 and np.isfinite(first.audio.samples).all()
    folder = cloner.settings.cache_dir / "kokoro-styles"
    assert cloner.style_stage("arctic") == "start"
    assert len(list(folder.glob("start-*.npz"))) == 1
    assert not [p for p in folder.glob("*.npz") if not p.name.startswith(("start-", "bundled-"))]
    start = style_cache.load_style(next(folder.glob("start-*.npz")))
    assert start.stage == "start" and start.steps == 0
    assert first.base_voice == cloner.add_style(start.table)
    cloner.prepare("arctic", background=True).result(timeout=600)
    assert cloner.style_stage("arctic") == "refined"
    second = cloner.synthesize("Good morning.", "arctic")
    refined = style_cache.cached_style(cloner.library, "arctic", TINY, cloner.tts, cloner.settings)
    assert refined.stage == "refined" and refined.steps == 1
    assert second.base_voice == cloner.add_style(refined.table)


def test_cli_prepare_where_the_default_is_not_kokoro(warm_home) -> None:
    from typer.testing import CliRunner

    from voxclone.cli.main import app

    result = CliRunner().invoke(app, ["voices", "prepare", "arctic", "--lang", "ko"])
    assert result.exit_code == 0 and "nothing to prepare" in result.output
    assert "prepare" in CliRunner().invoke(app, ["voices", "add", "--help"]).output
