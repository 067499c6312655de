"""Base voices spoken as themselves (nothing cloned), found by id, and OpenAI's six voice names
mapped onto them, so an OpenAI client speaks against a server with an empty library.

A name resolves to the first entry of its preference list whose engine is installed, speaks the
language and has the voice; ``"+f3"`` stands for that espeak-ng variant of the language
(``en-us+f3``, ``fr+f3``, ...), ``"*F"``/``"*M"`` for the engine's first female/male voice of the
language (Kokoro's fetched set has native voices for es, fr, zh, ...). The Kokoro names come first (its fetched set has voices named after
OpenAI's: ``af_alloy``, ``am_echo``, ``bm_fable``, ``am_onyx``, ``af_nova``); the voices bundled
offline (Kokoro's five Japanese ones, Piper's joe) next, espeak-ng last.
"""

from __future__ import annotations

from dataclasses import dataclass

from voxclone.errors import VoxcloneError
from voxclone.tts.base import TTSEngine, get_tts, tts_names

OPENAI_VOICES: dict[str, tuple[tuple[str, str], ...]] = {
    # Whisper tiny.en WER of the offline voices speaking six Harvard sentences in English
    # (2026-12-02): jf_gongitsune 0.000, jf_nezumi 0.000, jm_kumo 0.065, Piper joe 0.105,
    # jf_tebukuro 0.145, jf_alpha 0.181; espeak-ng en-us+m1 0.350, +m3 0.421, +f3 0.682, +f4 0.728.
    "alloy": (("kokoro", "af_alloy"), ("kokoro", "jf_gongitsune"), ("kokoro", "*F"), ("espeak", "+f3")),
    "echo": (("kokoro", "am_echo"), ("kokoro", "jm_kumo"), ("kokoro", "*M"), ("espeak", "+m3")),
    "fable": (("kokoro", "bm_fable"), ("kokoro", "jf_alpha"), ("kokoro", "*M"), ("espeak", "+m1")),
    "onyx": (("kokoro", "am_onyx"), ("piper", "en_US-joe-medium"), ("kokoro", "jm_kumo"),
             ("kokoro", "*M"), ("espeak", "+m7")),
    "nova": (("kokoro", "af_nova"), ("kokoro", "jf_nezumi"), ("kokoro", "*F"), ("espeak", "+f4")),
    "shimmer": (("kokoro", "af_heart"), ("kokoro", "jf_tebukuro"), ("kokoro", "*F"), ("espeak", "+f2")),
}
"""OpenAI voice name → (engine, base voice) in order of preference."""
ENGINE_ORDER = ("kokoro", "piper", "espeak")
"""Engines searched first for a bare base-voice id (then any other registered one)."""


@dataclass(frozen=True)
class PlainVoice:
    """A base voice to speak as itself: engine ``tts``, voice id ``voice``; ``alias``: the OpenAI
    name it was found for (None when asked for by id)."""

    tts: str
    voice: str
    alias: str | None = None

    def describe(self) -> str:
        """E.g. ``kokoro jf_alpha (for OpenAI's 'alloy')``."""
        return f"{self.tts} {self.voice}" + (f" (for OpenAI's '{self.alias}')" if self.alias else "")


def find_plain_voice(name: str, lang: str, tts: str | None = None) -> PlainVoice | None:
    """The base voice ``name`` means in ``lang``: an OpenAI name or a base-voice id of an
    installed engine (only engine ``tts`` when given); None when it is neither."""
    alias = name.strip().lower()
    if alias in OPENAI_VOICES:
        for engine_name, voice in OPENAI_VOICES[alias]:
            if tts in (None, engine_name):
                found = _voice_in(engine_name, voice, lang)
                if found:
                    return PlainVoice(engine_name, found, alias)
        return None
    for engine_name in [tts] if tts else _engine_order():
        found = _voice_in(engine_name, name, lang)
        if found:
            return PlainVoice(engine_name, found)
    return None


def openai_voice_table(lang: str = "en") -> dict[str, PlainVoice | None]:
    """What each OpenAI name speaks with in ``lang`` here (None: no installed engine has it)."""
    return {name: find_plain_voice(name, lang) for name in OPENAI_VOICES}


def installed_engine(name: str) -> TTSEngine | None:
    """The engine ``name`` when it can run here, else None."""
    try:
        return get_tts(name)
    except VoxcloneError:
        return None


def _engine_order() -> list[str]:
    return [*ENGINE_ORDER, *(n for n in tts_names() if n not in ENGINE_ORDER)]


def _voice_in(engine_name: str, voice: str, lang: str) -> str | None:
    """``voice`` (or, for ``+variant``, that variant's id in ``lang``) if ``engine_name`` is
    installed, speaks ``lang`` and has it."""
    engine = installed_engine(engine_name)
    if engine is None or lang not in engine.languages:
        return None
    try:
        voices = engine.voices(lang)
    except VoxcloneError:
        return None
    if voice.startswith("+"):
        return next((v.id for v in voices if v.id.endswith(voice)), None)
    if voice.startswith("*"):
        return next((v.id for v in voices if v.gender == voice[1:]), None)
    return voice if voice in {v.id for v in voices} else None


def base_voice_ids(lang: str) -> dict[str, list[str]]:
    """Installed engine → the ids of its voices that speak ``lang`` (engines without it left out)."""
    out = {}
    for name in _engine_order():
        engine = installed_engine(name)
        if engine is not None and lang in engine.languages:
            try:
                out[name] = [v.id for v in engine.voices(lang)]
            except VoxcloneError:
                continue
    return out


def voices_by_language(engine: TTSEngine) -> dict[str, list[str]]:
    """The engine's voices grouped by their own language (``und``: not tied to one)."""
    groups: dict[str, list[str]] = {}
    for voice in engine.voices():
        groups.setdefault(voice.lang, []).append(voice.id)
    return groups
