"""Fixtures shared by the test modules: audio made here, an isolated VOXCLONE_HOME, and a warm
voice library (one enrolled voice, its profile and base-voice ranking computed once per session)."""

from __future__ import annotations

import os

# One compute thread per library (torch, BLAS) unless the caller says otherwise: on a small
# machine shared with other work, two spinning threads per process made the speaker encoder
# 3-5x slower (66 s instead of 12 s to rank the base voices under load). Set before torch loads.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import json  # noqa: E402
import shutil  # noqa: E402
from collections.abc import Iterator  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from voxclone.audio import Audio, load  # noqa: E402
from voxclone.audio.speaker import speaker_encoder  # noqa: E402
from voxclone.config import Settings  # noqa: E402

VOICE = "arctic"
"""Name of the voice enrolled in the warm library (the CMU ARCTIC clip)."""
WARM_TEXT = "Hello there."
EMBEDDED_ENGINE = {"tts": "espeak", "converter": "world"}
"""The server setting the warm library pins (see ``warm_home_template``)."""


def tone(freq: float = 220.0, seconds: float = 1.0, sr: int = 16000, amp: float = 0.5) -> Audio:
    """A sine tone."""
    t = np.arange(int(seconds * sr)) / sr
    return Audio((amp * np.sin(2 * np.pi * freq * t)).astype(np.float32), sr)


def silence(seconds: float = 1.0, sr: int = 16000) -> Audio:
    """Digital silence."""
    return Audio(np.zeros(int(seconds * sr), np.float32), sr)


@pytest.fixture(autouse=True)
def voxclone_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every test gets its own empty VOXCLONE_HOME, so nothing touches the real one; only the
    Kokoro graphs a test before it made (the joined model and its static variant, which take
    half a minute to make) are linked in."""
    home = tmp_path / "home"
    monkeypatch.setenv("VOXCLONE_HOME", str(home))
    made = tmp_path_factory.getbasetemp() / "kokoro-graphs"
    _link_files(made, home / "models" / "kokoro")
    yield home
    _link_files(home / "models" / "kokoro", made, KOKORO_GRAPH_FILES)


KOKORO_GRAPH_FILES = ("kokoro-v1.0.int8.onnx", "kokoro-v1.0.int8-static.onnx",
                      "kokoro-v1.0.int8-static.id")


def _link_files(src: Path, dst: Path, names: tuple[str, ...] | None = None) -> None:
    """Hard-link the files of ``src`` (those of ``names``) that ``dst`` lacks into ``dst``."""
    if not src.is_dir():
        return
    for path in sorted(src.iterdir()):
        if path.is_file() and (names is None or path.name in names):
            dst.mkdir(parents=True, exist_ok=True)
            if not (dst / path.name).exists():
                os.link(path, dst / path.name)


@pytest.fixture(scope="session")
def arctic_path() -> Path:
    """A real CMU ARCTIC recording shipped by pysptk (male, 16 kHz, 4.0 s, ~3.2 s of speech)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pysptk
    return Path(pysptk.util.example_audio_file())


@pytest.fixture(scope="session")
def arctic(arctic_path: Path) -> Audio:
    return load(arctic_path)


@pytest.fixture(scope="session")
def espeak():
    from voxclone.tts import get_tts

    return get_tts("espeak")


@pytest.fixture(scope="session")
def warm_encoder(arctic: Audio):
    """The process-wide speaker encoder after its (slow) first call."""
    enc = speaker_encoder()
    enc.embed(arctic)
    return enc


@pytest.fixture(scope="session")
def world():
    from voxclone.convert import get_converter

    return get_converter("world")


@pytest.fixture(scope="session")
def warm_home_template(tmp_path_factory, arctic_path: Path, warm_encoder, world) -> Path:
    """A VOXCLONE_HOME holding voice ``arctic`` with its cached world profile and base-voice
    ranking for English (built once; tests get copies through ``warm_home``)."""
    from voxclone.pipeline import VoiceCloner
    from voxclone.voices import VoiceLibrary

    home = tmp_path_factory.mktemp("warm") / "home"
    settings = Settings(home=home)
    library = VoiceLibrary(settings)
    library.add(VOICE, [arctic_path])
    library.profile(VOICE, world)
    VoiceCloner(library=library, settings=settings).say(WARM_TEXT, VOICE)
    # The server tests speak with the embedded pair (fast, nothing to search); the tests of the
    # server's measured per-language default ("auto") remove this setting.
    (home / "serve").mkdir()
    (home / "serve" / "settings.json").write_text(json.dumps(EMBEDDED_ENGINE))
    return home


@pytest.fixture
def warm_home(warm_home_template: Path, voxclone_home: Path) -> Path:
    """This test's VOXCLONE_HOME, a copy of the warm template (voice ``arctic`` enrolled)."""
    shutil.copytree(warm_home_template, voxclone_home, dirs_exist_ok=True)
    return voxclone_home


@pytest.fixture(scope="session")
def arctic_profile(warm_home_template: Path, world):
    """The cached profile of voice ``arctic`` (world converter)."""
    from voxclone.voices import VoiceLibrary

    return VoiceLibrary(Settings(home=warm_home_template)).profile(VOICE, world)
