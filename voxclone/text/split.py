"""Text checks and splitting into sentence-sized pieces."""

from __future__ import annotations

import re
import unicodedata

from voxclone.errors import TextError

MAX_TEXT_CHARS = 20_000
MAX_PIECE_CHARS = 400

_SENTENCE_END = re.compile(r"(?<=[.!?;。！？；])\s+|(?<=[。！？])")


def clean_text(text: str) -> str:
    """Unicode-normalise, drop control characters, collapse whitespace; TextError if empty or too long."""
    if not isinstance(text, str):
        raise TextError("Text must be a string.")
    text = unicodedata.normalize("NFC", text)
    text = "".join(ch if ch in "\n\t" or unicodedata.category(ch)[0] != "C" else " " for ch in text)
    text = re.sub(r"[ \t]+", " ", text).strip()
    if not text:
        raise TextError("Text is empty: give something to say.")
    if len(text) > MAX_TEXT_CHARS:
        raise TextError(f"Text is {len(text)} characters, over the limit of {MAX_TEXT_CHARS}: "
                        "split it into several requests or use `voxclone batch`.")
    return text


def split_text(text: str, delimiter: str | None = None, max_chars: int = MAX_PIECE_CHARS) -> list[str]:
    """Pieces to synthesise one by one.

    With ``delimiter`` (e.g. ``"\\n"`` or ``"|"``) the text is cut there; otherwise at sentence ends.
    Pieces longer than ``max_chars`` are cut further at commas, then at spaces.
    """
    text = clean_text(text)
    if delimiter:
        raw = text.split(delimiter.encode().decode("unicode_escape"))
    else:
        raw = _SENTENCE_END.split(text.replace("\n", " "))
    pieces: list[str] = []
    for piece in (p.strip() for p in raw):
        if piece:
            pieces.extend(_cut_long(piece, max_chars))
    if not pieces:
        raise TextError("Text holds nothing to say once split: check the delimiter.")
    return pieces


def _cut_long(piece: str, max_chars: int) -> list[str]:
    if len(piece) <= max_chars:
        return [piece]
    out: list[str] = []
    current = ""
    for word in re.split(r"(?<=[,，、:])\s*|\s+", piece):
        if not word:
            continue
        while len(word) > max_chars:  # text without spaces (zh, ja)
            out.append(word[:max_chars])
            word = word[max_chars:]
        if current and len(current) + 1 + len(word) > max_chars:
            out.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    if current:
        out.append(current)
    return out
