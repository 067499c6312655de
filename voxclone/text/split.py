"""Text checks and splitting into sentence-sized pieces."""

from __future__ import annotations

import re
import unicodedata

from voxclone.errors import TextError

MAX_TEXT_CHARS = 20_000
MAX_PIECE_CHARS = 400

_SENTENCE_END = re.compile(r"(?<=[.!?;。！？；])\s+|(?<=[。！？])")
_CLAUSE_END = re.compile(r"(?<=[,，、:])\s*")


def clean_text(text: str) -> str:
    """Unicode-normalise, drop control characters, collapse whitespace; TextError if empty or too long."""
    if not isinstance(text, str):
        raise TextError("Text must be a string.")
    text = re.sub(r"[ \t]+", " ", _normalize(text)).strip()
    if not text:
        raise TextError("Text is empty: give something to say.")
    if len(text) > MAX_TEXT_CHARS:
        raise TextError(f"Text is {len(text)} characters, over the limit of {MAX_TEXT_CHARS}: "
                        "split it into several requests or use `voxclone batch`.")
    return text


def split_text(text: str, delimiter: str | None = None, max_chars: int = MAX_PIECE_CHARS) -> list[str]:
    """Pieces to synthesise one by one.

    With ``delimiter`` (e.g. ``"\\n"`` or ``"|"``) the text is cut there; otherwise at sentence ends.
    Pieces longer than ``max_chars`` are cut further at commas, then at spaces. Pieces without a
    letter or digit (``"-"``, ``"..."``) are dropped: there is nothing in them to speak.
    """
    cleaned = clean_text(text)
    if delimiter:  # cut before whitespace is collapsed: the delimiter may be a tab
        raw = _normalize(text).split(_unescape(delimiter))
    else:
        raw = _SENTENCE_END.split(cleaned.replace("\n", " "))
    pieces: list[str] = []
    for piece in (re.sub(r"\s+", " ", p).strip() for p in raw):
        if any(ch.isalnum() for ch in piece):  # a piece of only punctuation has nothing to say
            pieces.extend(_cut_long(piece, max_chars))
    if not pieces:
        raise TextError("Text holds nothing to say once split (only punctuation or delimiters): "
                        "check the text and the delimiter.")
    return pieces


def _normalize(text: str) -> str:
    """NFC, with every control character but newline and tab turned into a space."""
    text = unicodedata.normalize("NFC", text)
    return "".join(ch if ch in "\n\t" or unicodedata.category(ch)[0] != "C" else " " for ch in text)


def _unescape(delimiter: str) -> str:
    """Turn backslash escapes typed on a command line (``\\n``, ``\\t``) into characters; other
    characters, including non-ASCII ones such as ``。`` or ``｜``, are kept as they are."""
    try:
        return delimiter.encode("latin-1", "backslashreplace").decode("unicode_escape")
    except UnicodeDecodeError:  # a lone trailing backslash: take it literally
        return delimiter


def _cut_long(piece: str, max_chars: int) -> list[str]:
    """Cut at commas where the clauses fit in ``max_chars``, else at spaces, else anywhere."""
    if len(piece) <= max_chars:
        return [piece]
    units: list[str] = []
    for clause in _CLAUSE_END.split(piece):
        if len(clause) <= max_chars:
            units.append(clause)
            continue
        for word in clause.split():  # text without spaces (zh, ja) is cut anywhere
            units.extend(word[i:i + max_chars] for i in range(0, len(word), max_chars))
    return _pack(units, max_chars)


def _pack(units: list[str], max_chars: int) -> list[str]:
    """Join consecutive units with spaces into pieces of at most ``max_chars``, in order."""
    out: list[str] = []
    current = ""
    for unit in (u.strip() for u in units):
        if not unit:
            continue
        if current and len(current) + 1 + len(unit) > max_chars:
            out.append(current)
            current = unit
        else:
            current = f"{current} {unit}".strip()
    if current:
        out.append(current)
    return out
