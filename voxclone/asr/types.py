"""What a recogniser returns: the text, the language it heard, and timed words."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Word:
    """One recognised word: its text (as written, may start with a space), start and end in
    seconds from the start of the audio, and the recogniser's probability (0-1)."""

    word: str
    start: float
    end: float
    probability: float = 1.0


@dataclass(frozen=True)
class Transcript:
    """A recognised utterance.

    text: the transcript (stripped); language: ISO 639-1 code heard or given; language_probability:
    the detector's confidence (1.0 when the language was given); words: timed words (empty when
    not asked for); duration: seconds of audio; model: the recogniser that produced it.
    """

    text: str
    language: str
    language_probability: float = 1.0
    words: tuple[Word, ...] = field(default_factory=tuple)
    duration: float = 0.0
    model: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        out = asdict(self)
        out["words"] = [asdict(w) for w in self.words]
        return out
