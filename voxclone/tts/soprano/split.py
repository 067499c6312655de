"""Sentence split and merge as the official front-end does it, and the prompt format.

Split: tortoise's ``split_and_recombine_text`` with desired length 1 and max 300 characters
(a sentence ends at ``!``, ``?``, a newline, or ``.`` before a space; runs of end marks stay
together; a quote holds its sentence ends until it closes; over 300 characters the text is cut
at the last sentence end, else at the last space). Merge: a sentence under 30 characters joins
the one before it (the first joins the next). Prompt: ``[STOP][TEXT]{sentence}[START]``.
"""

from __future__ import annotations

import re

from voxclone.tts.soprano.normalize import clean_text

MIN_LENGTH = 30
MAX_LENGTH = 300
_ENDS = "!?\n"


def split_sentences(text: str, desired_length: int = 1, max_length: int = MAX_LENGTH) -> list[str]:
    """Split ``text`` into sentences of at most ``max_length`` characters."""
    text = re.sub(r"\s+", " ", re.sub(r"\n\n+", "\n", text))
    text = re.sub(r"[“”]", '"', text)
    pieces: list[str] = []
    current, ends, in_quote = "", [], False
    last = len(text) - 1
    pos = -1

    def ahead(delta: int) -> str:  # the official peek never sees the final character
        p = pos + delta
        return text[p] if 0 <= p < last else ""

    def step(delta: int) -> str:
        nonlocal pos, current, in_quote
        for _ in range(abs(delta)):
            if delta < 0:
                pos -= 1
                current = current[:-1]
            else:
                pos += 1
                current += text[pos]
            if text[pos] == '"':
                in_quote = not in_quote
        return text[pos]

    while pos < last:
        c = step(1)
        if len(current) >= max_length:
            if ends and len(current) > desired_length / 2:
                step(ends[-1] - pos)
            else:
                while c not in "!?.\n " and pos > 0 and len(current) > desired_length:
                    c = step(-1)
            pieces.append(current)
            current, ends = "", []
        elif not in_quote and (c in _ENDS or (c == "." and ahead(1) in "\n ")):
            while pos < len(text) - 1 and len(current) < max_length and ahead(1) in "!?.":
                c = step(1)
            ends.append(pos)
            if len(current) >= desired_length:
                pieces.append(current)
                current, ends = "", []
        elif in_quote and ahead(1) == '"' and ahead(2) in "\n ":
            step(2)
            ends.append(pos)
    pieces.append(current)
    stripped = (p.strip() for p in pieces)
    return [p for p in stripped if p and not re.match(r"^[\s\.,;:!?]*$", p)]


def merge_short(sentences: list[str], min_length: int = MIN_LENGTH) -> list[str]:
    """Join sentences under ``min_length`` characters to the previous one (the first to the next)."""
    if min_length <= 0 or len(sentences) <= 1:
        return list(sentences)
    merged: list[str] = []
    pending = list(sentences)
    for i, sentence in enumerate(pending):
        if len(sentence) >= min_length:
            merged.append(sentence)
        elif merged:
            merged[-1] = f"{merged[-1]} {sentence}".strip()
        elif i + 1 < len(pending):
            pending[i + 1] = f"{sentence} {pending[i + 1]}".strip()
        else:
            merged.append(sentence)
    return merged


def prompt(sentence: str) -> str:
    """The LM prompt of one normalised sentence."""
    return f"[STOP][TEXT]{sentence}[START]"


def text_to_sentences(text: str) -> list[str]:
    """Raw text → the normalised sentences the LM speaks, one prompt each."""
    return merge_short(split_sentences(clean_text(text.strip())))
