"""The words of a text, as captions count them, and a character alignment of two spellings.

A word is a run of non-space characters holding a letter or digit, its punctuation kept
("Hello," is one word); a run of only punctuation ("—") is no word. Chinese characters and kana
are one word each (their scripts put no spaces between words), with the punctuation that
follows them; Korean, which spaces its words, is cut at spaces like the alphabetic languages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

_RUN = re.compile(r"\S+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u31f0-\u31ff\uff66-\uff9f]")


@dataclass(frozen=True)
class TextWord:
    """One word of a text: as written, and where: ``text[start:end]``."""

    text: str
    start: int
    end: int


def split_words(text: str) -> list[TextWord]:
    """The words of ``text`` in order (see the module docstring)."""
    words: list[TextWord] = []
    for run in _RUN.finditer(text):
        words.extend(_cut_cjk(run.group(), run.start()))
    return [w for w in words if any(ch.isalnum() for ch in w.text)]


def _cut_cjk(run: str, offset: int) -> list[TextWord]:
    """A space-free run cut before each letter that is a CJK character or follows one."""
    words, start, has_cjk = [], 0, False
    for i, ch in enumerate(run):
        cjk = bool(_CJK.match(ch))
        if i > start and ch.isalnum() and (cjk or has_cjk):
            words.append(TextWord(run[start:i], offset + start, offset + i))
            start, has_cjk = i, False
        has_cjk = has_cjk or cjk
    words.append(TextWord(run[start:], offset + start, offset + len(run)))
    return words


def spaced(word: str) -> str:
    """``word`` as it joins the words before it: after a space, except a CJK character."""
    word = word.strip()
    return word if _CJK.match(word[:1]) else f" {word}"


def char_alignment(source: str, target: str) -> np.ndarray:
    """For each character of ``target``, the index of the ``source`` character it aligns with
    (minimum edit distance; equal or substituted characters), or -1 where ``target`` has a
    character ``source`` lacks. Shape (len(target),), int64, non-decreasing where >= 0."""
    from rapidfuzz.distance import Levenshtein

    out = np.full(len(target), -1, dtype=np.int64)
    for tag, s0, s1, t0, t1 in Levenshtein.opcodes(source, target):
        if tag in ("equal", "replace"):
            n = min(s1 - s0, t1 - t0)
            out[t0:t0 + n] = np.arange(s0, s0 + n)
    return out
