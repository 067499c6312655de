"""Captions from timed words: SRT, WebVTT and JSON.

Words are grouped into cues of at most :data:`MAX_CUE_S` seconds and :data:`MAX_CUE_CHARS`
characters; a cue also ends after a word that ends a sentence.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from voxclone.asr.types import Transcript, Word

MAX_CUE_S = 6.0
MAX_CUE_CHARS = 84
_ENDINGS = (".", "?", "!", "。", "？", "！", "…")


def cues(words: Sequence[Word]) -> list[tuple[float, float, str]]:
    """(start s, end s, text) per cue, in time order."""
    out: list[tuple[float, float, str]] = []
    current: list[Word] = []
    for word in words:
        text = "".join(w.word for w in [*current, word]).strip()
        if current and (word.end - current[0].start > MAX_CUE_S or len(text) > MAX_CUE_CHARS):
            out.append(_cue(current))
            current = []
        current.append(word)
        if word.word.strip().endswith(_ENDINGS):
            out.append(_cue(current))
            current = []
    if current:
        out.append(_cue(current))
    return out


def _cue(words: list[Word]) -> tuple[float, float, str]:
    return words[0].start, words[-1].end, "".join(w.word for w in words).strip()


def _stamp(seconds: float, sep: str) -> str:
    ms = int(round(max(seconds, 0.0) * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def to_srt(words: Sequence[Word]) -> str:
    """SubRip text: numbered cues, ``HH:MM:SS,mmm --> HH:MM:SS,mmm``."""
    blocks = [f"{i}\n{_stamp(a, ',')} --> {_stamp(b, ',')}\n{text}\n"
              for i, (a, b, text) in enumerate(cues(words), 1)]
    return "\n".join(blocks)


def to_vtt(words: Sequence[Word]) -> str:
    """WebVTT text: a ``WEBVTT`` header, then ``HH:MM:SS.mmm --> HH:MM:SS.mmm`` cues."""
    blocks = [f"{_stamp(a, '.')} --> {_stamp(b, '.')}\n{text}\n" for a, b, text in cues(words)]
    return "WEBVTT\n\n" + "\n".join(blocks)


def to_json(transcript: Transcript, path: str | None = None) -> str:
    """The transcript (text, language, words with start/end) as JSON."""
    data = transcript.to_dict()
    if path is not None:
        data = {"file": path, **data}
    return json.dumps(data, ensure_ascii=False, indent=2)
