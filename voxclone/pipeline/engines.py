"""What engines exist, which can run here, and why not."""

from __future__ import annotations

from dataclasses import dataclass, field

from voxclone.convert.base import converter_names, get_converter
from voxclone.errors import VoxcloneError
from voxclone.pipeline.plain_voices import openai_voice_table, voices_by_language
from voxclone.tts.base import get_tts, tts_names


@dataclass(frozen=True)
class EngineStatus:
    """kind: "tts" or "converter"; available; reason when not; details: voices, languages, ..."""

    kind: str
    name: str
    available: bool
    reason: str = ""
    details: list[str] = field(default_factory=list)


def engine_report() -> list[EngineStatus]:
    """Status of every registered base TTS engine and converter."""
    rows = [_tts_status(name) for name in tts_names()]
    rows += [_converter_status(name) for name in converter_names()]
    return rows


def _tts_status(name: str) -> EngineStatus:
    try:
        engine = get_tts(name)
        voices = engine.voices()
    except VoxcloneError as exc:
        return EngineStatus("tts", name, False, str(exc))
    details = [f"languages: {', '.join(engine.languages)}", f"voices ({len(voices)}), by their own language:"]
    details += [f"  {lang} ({len(ids)}): {', '.join(ids)}" for lang, ids in voices_by_language(engine).items()]
    return EngineStatus("tts", name, True, details=details)


def openai_voice_lines(lang: str = "en") -> list[str]:
    """One line per OpenAI voice name: the base voice it speaks with here in ``lang``."""
    return [f"{alias:8} -> {f'{v.tts} {v.voice}' if v else 'none installed'}"
            for alias, v in openai_voice_table(lang).items()]


def _converter_status(name: str) -> EngineStatus:
    try:
        conv = get_converter(name)
    except VoxcloneError as exc:
        return EngineStatus("converter", name, False, str(exc))
    return EngineStatus("converter", name, True, details=[f"version: {conv.version}"])
