"""What engines exist, which can run here, and why not."""

from __future__ import annotations

from dataclasses import dataclass, field

from voxclone.convert.base import converter_names, get_converter
from voxclone.errors import VoxcloneError
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
    langs = ", ".join(engine.languages)
    ids = ", ".join(v.id for v in voices[:12]) + (" ..." if len(voices) > 12 else "")
    return EngineStatus("tts", name, True, details=[f"languages: {langs}",
                                                    f"voices ({len(voices)}): {ids}"])


def _converter_status(name: str) -> EngineStatus:
    try:
        conv = get_converter(name)
    except VoxcloneError as exc:
        return EngineStatus("converter", name, False, str(exc))
    return EngineStatus("converter", name, True, details=[f"version: {conv.version}"])
