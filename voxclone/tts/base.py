"""The TTSEngine protocol, per-call style settings and the engine registry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

from voxclone.audio.types import Audio
from voxclone.errors import EngineUnavailable, InvalidSetting


@dataclass(frozen=True)
class Style:
    """Per-call style controls.

    speed: tempo multiplier, 0.5-2.0 (1 = engine default).
    pitch: pitch offset in semitones, -12..12.
    energy: expressiveness/loudness multiplier, 0.25-2.0 (1 = neutral); scales level and the
        width of the intonation.
    """

    speed: float = 1.0
    pitch: float = 0.0
    energy: float = 1.0

    def __post_init__(self) -> None:
        for name, lo, hi in (("speed", 0.5, 2.0), ("pitch", -12.0, 12.0), ("energy", 0.25, 2.0)):
            value = getattr(self, name)
            if not lo <= value <= hi:
                raise InvalidSetting(f"{name}={value} is out of range: use {lo}..{hi}.")


@dataclass(frozen=True)
class BaseVoice:
    """A voice a base engine can speak with.

    id: engine-specific identifier (e.g. ``en-us+f3``); lang: language code; gender: "M"/"F".
    """

    id: str
    lang: str
    gender: str
    engine: str


@dataclass(frozen=True)
class WordTiming:
    """When an engine speaks each word of a text, from the engine's own durations.

    spans: one per word of :func:`voxclone.text.words.split_words` of the text, (start s, end s)
        from the start of the engine's speech, or None where the engine did not time that word.
    duration: seconds of the engine's speech of the whole text.
    source: what the times come from (e.g. "espeak-ng word events").
    """

    spans: tuple[tuple[float, float] | None, ...]
    duration: float
    source: str


class TTSEngine(Protocol):
    """Base text-to-speech: text in one language → float32 mono Audio at ``sample_rate``.

    Engines that know when they speak each word also have ``word_timing(text, lang, voice,
    style, **same_options_as_synthesize) -> WordTiming`` (espeak, kokoro). Engines that draw
    random numbers have ``seeded(seed: int) -> TTSEngine``: a view of the engine whose draws
    start from ``seed``, so the same calls on two views of one seed give the same speech
    (piper, codec-lm); the engine itself keeps drawing fresh.
    """

    name: str
    sample_rate: int
    languages: tuple[str, ...]

    def voices(self, lang: str | None = None) -> list[BaseVoice]:
        """Base voices, optionally only those of ``lang``."""
        ...

    def default_voice(self, lang: str) -> BaseVoice:
        """The voice used when the caller names none."""
        ...

    def synthesize(self, text: str, lang: str, voice: str | None = None,
                   style: Style = Style()) -> Audio:
        """Speak one piece of text (a sentence or a few)."""
        ...


_REGISTRY: dict[str, Callable[[], TTSEngine]] = {}
_INSTANCES: dict[str, TTSEngine] = {}
_FAMILIES: dict[str, Callable[[str], TTSEngine]] = {}  # "family:ARG" engines, e.g. codec-lm:PATH


def register_tts_family(prefix: str, factory: Callable[[str], TTSEngine]) -> None:
    """Engines named ``prefix:ARG`` (``factory(ARG)`` builds one), e.g. ``codec-lm:CHECKPOINT``."""
    _FAMILIES[prefix] = factory


def register_tts(name: str, factory: Callable[[], TTSEngine]) -> None:
    """Make an engine available under ``name``; ``factory`` raises EngineUnavailable if it cannot run."""
    _REGISTRY[name] = factory


def tts_names() -> list[str]:
    """Names of every registered base TTS engine."""
    return sorted(_REGISTRY)


def get_tts(name: str = "espeak") -> TTSEngine:
    """The engine registered as ``name`` (built once per process)."""
    family, _, arg = name.partition(":")
    if name not in _REGISTRY and family in _FAMILIES and arg:
        if name not in _INSTANCES:
            _INSTANCES[name] = _FAMILIES[family](arg)
        return _INSTANCES[name]
    if name not in _REGISTRY:
        raise EngineUnavailable(f"Unknown TTS engine '{name}'. Available: {', '.join(tts_names())}.")
    if name not in _INSTANCES:
        _INSTANCES[name] = _REGISTRY[name]()
    return _INSTANCES[name]
