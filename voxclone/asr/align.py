"""Times for every word of a known text: from a recogniser's timed words, or filled in.

:func:`align_text` aligns the text's words with the words Whisper heard, letter by letter
(both sides normalised as for WER: lower case, numbers spelled out, punctuation dropped; a
minimum edit distance alignment, so "21" finds "twenty-one" and a word heard split in two
still lines up). A text word gets the time of the letters heard for it, spread evenly over each
heard word. :func:`fill_words` then gives the words nothing timed (missed by the recogniser,
or read together by an engine) a share of the time between their neighbours, so every word of
the text appears exactly once, in order, inside the audio.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from voxclone.asr.scoring import normalize_text
from voxclone.asr.types import Word
from voxclone.text.words import TextWord, char_alignment

Span = tuple[float, float]
MIN_WORD_S = 0.04
"""The shortest time a filled-in word gets (where its neighbours leave room for it)."""


def align_text(words: Sequence[TextWord], heard: Sequence[Word], lang: str = "en",
               ) -> list[Span | None]:
    """(start s, end s) of each text word from the recogniser's ``heard`` words, or None where
    nothing heard lines up with it. Words are matched whole first (minimum edit distance over
    words); between two matches, letter by letter."""
    from rapidfuzz.distance import Levenshtein

    source = [_norm(w.text, lang) for w in words]
    target = [_norm(h.word, lang) for h in heard]
    spans: list[Span | None] = [None] * len(words)
    block = [len(words), 0, len(heard), 0]  # the words between two whole matches
    for tag, s0, s1, t0, t1 in [*Levenshtein.opcodes(source, target),
                                ("equal", len(words), len(words), len(heard), len(heard))]:
        if tag != "equal":
            block = [min(block[0], s0), max(block[1], s1), min(block[2], t0), max(block[3], t1)]
            continue
        if block[1] > block[0] and block[3] > block[2]:
            _align_letters(source, heard, target, spans, *block)
        block = [len(words), 0, len(heard), 0]
        for k in range(s1 - s0):
            spans[s0 + k] = (float(heard[t0 + k].start), float(heard[t0 + k].end))
    return spans


def _norm(text: str, lang: str) -> str:
    return normalize_text(text, lang).replace(" ", "")


def _align_letters(source: list[str], heard: Sequence[Word], target: list[str],
                   spans: list[Span | None], s0: int, s1: int, t0: int, t1: int) -> None:
    """Times of text words ``s0:s1`` from heard words ``t0:t1``, letter by letter: each heard
    letter gets an even share of its word's time and goes to the text letter it aligns with."""
    owner = [i for i in range(s0, s1) for _ in source[i]]
    letters = [(h, k, len(target[h])) for h in range(t0, t1) for k in range(len(target[h]))]
    aligned = char_alignment("".join(source[s0:s1]), "".join(target[t0:t1]))
    for (h, k, n), src in zip(letters, aligned):
        if src < 0:
            continue
        step = (heard[h].end - heard[h].start) / n
        start = float(heard[h].start + k * step)
        end = float(heard[h].start + (k + 1) * step)
        i = owner[src]
        span = spans[i]
        spans[i] = (start, end) if span is None else (min(span[0], start), max(span[1], end))


def fill_words(words: Sequence[TextWord], spans: Sequence[Span | None], duration: float,
               confidence: Sequence[float] | None = None) -> list[Word]:
    """One :class:`Word` per text word, in order, inside [0, ``duration``]: the given spans
    (clipped, made non-overlapping) and, for the words without one, a share of the time between
    their timed neighbours by letters (probability 0.0: a guess). ``confidence``: the
    probability to report for each timed word (default 1.0)."""
    known = _ordered(spans, duration)
    out: list[Span] = [(0.0, 0.0)] * len(words)
    i = 0
    while i < len(words):
        if known[i] is not None:
            out[i] = known[i]  # type: ignore[assignment]
            i += 1
            continue
        j = i
        while j < len(words) and known[j] is None:
            j += 1
        i = _share(words, known, out, i, j, duration)
    probs = list(confidence) if confidence is not None else [1.0] * len(words)
    return [Word(w.text, round(float(a), 3), round(float(b), 3), probs[k] if known[k] is not None else 0.0)
            for k, (w, (a, b)) in enumerate(zip(words, out))]


def _ordered(spans: Sequence[Span | None], duration: float) -> list[Span | None]:
    """Spans clipped to the audio, each starting no earlier than the one before ends; a span
    left without length is dropped (to be filled)."""
    out: list[Span | None] = []
    floor = 0.0
    for span in spans:
        if span is None:
            out.append(None)
            continue
        start, end = max(span[0], floor, 0.0), min(span[1], duration)
        if end - start < 1e-3:
            out.append(None)
            continue
        out.append((start, end))
        floor = end
    return out


def _share(words: Sequence[TextWord], known: list[Span | None], out: list[Span], i: int, j: int,
           duration: float) -> int:
    """Fill ``out[i:j]`` (words without times) between the neighbours' times; where they leave
    under :data:`MIN_WORD_S` a word, the neighbours give up time too. Returns the index of the
    first word not written."""
    lo = known[i - 1][1] if i > 0 else 0.0  # type: ignore[index]
    hi = known[j][0] if j < len(words) else duration  # type: ignore[index]
    first, last = i, j
    if hi - lo < MIN_WORD_S * (j - i):
        if i > 0:
            first, lo = i - 1, known[i - 1][0]  # type: ignore[index]
        if j < len(words):
            last, hi = j + 1, known[j][1]  # type: ignore[index]
    weights = np.array([max(1, sum(c.isalnum() for c in words[k].text)) for k in range(first, last)])
    edges = lo + (hi - lo) * np.concatenate([[0.0], np.cumsum(weights) / weights.sum()])
    for k, a, b in zip(range(first, last), edges[:-1], edges[1:]):
        out[k] = (float(a), float(b))
    return last
