"""Word times of what the pipeline speaks, in seconds of the output, and caption files.

Where the base engine knows when it speaks each word (``word_timing``: espeak-ng's word events,
Kokoro's predicted durations) those times are used: conversion keeps the source's timing and
the post stage only resamples, so they hold for the output; a small difference between the
engine's length and the piece's (espeak-ng's library runs a few ms off its command line) is
scaled away. Otherwise (Piper, Soprano, codec-lm, or engine times that do not fit the piece)
the piece is transcribed by Whisper and the text aligned with the words it heard
(:mod:`voxclone.asr.align`). Each word's span is then trimmed of silence at its edges, and
words without a time get a share of the time between their neighbours: every word of the text
appears exactly once, in order, inside the audio.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from voxclone.asr.types import Transcript, Word
from voxclone.audio.types import Audio
from voxclone.errors import InvalidSetting
from voxclone.text.words import spaced, split_words
from voxclone.tts.base import WordTiming

log = logging.getLogger(__name__)
CAPTION_SUFFIXES = (".srt", ".vtt", ".json")
SILENCE_DB = -40.0
"""A frame this far below the piece's loud frames counts as silence at a word's edges."""
FIT = 0.1
"""Engine times are used when the engine's length is within 10 % of the piece's."""
_FRAME_S = 0.01


def piece_words(text: str, lang: str, audio: Audio, timing: WordTiming | None,
                asr: str = "whisper") -> tuple[list[Word], str]:
    """The words of ``text`` with their times in ``audio`` (one piece, seconds from its start),
    and what the times come from: the engine's ``timing`` where it fits, else the recogniser."""
    words = split_words(text)
    spans: list[tuple[float, float] | None] | None = None
    source = ""
    if timing is not None and timing.duration > 0 and any(s is not None for s in timing.spans):
        scale = audio.duration / timing.duration
        if abs(scale - 1.0) <= FIT:
            spans = [None if s is None else (s[0] * scale, s[1] * scale) for s in timing.spans]
            source = timing.source
        else:
            log.info("engine times (%.2f s) do not fit the piece (%.2f s): aligning with ASR",
                     timing.duration, audio.duration)
    if spans is None:
        from voxclone.asr import transcribe
        from voxclone.asr.align import align_text

        heard = transcribe(audio, lang, asr)
        spans, source = align_text(words, heard.words, lang), f"{heard.model} alignment"
    from voxclone.asr.align import fill_words

    return fill_words(words, trim_silence(spans, audio), audio.duration), source


def speech_words(audio: Audio, lang: str | None = None, asr: str = "whisper") -> Transcript:
    """What is heard in ``audio`` (speech with no known text): the recogniser's transcript,
    its words stripped of their leading spaces."""
    from voxclone.asr import transcribe

    heard = transcribe(audio, lang, asr)
    return replace(heard, words=tuple(replace(w, word=w.word.strip()) for w in heard.words))


def trim_silence(spans: Sequence[tuple[float, float] | None], audio: Audio,
                 ) -> list[tuple[float, float] | None]:
    """Each span without the silent 10 ms frames at its start and end (kept whole when it
    holds nothing louder)."""
    hop = max(1, int(_FRAME_S * audio.sample_rate))
    n = len(audio) // hop
    if n == 0:
        return list(spans)
    frames = audio.samples[: n * hop].reshape(n, hop).astype(np.float64)
    rms = np.sqrt(np.mean(frames ** 2, axis=1))
    floor = np.percentile(rms, 95) * 10 ** (SILENCE_DB / 20)
    out: list[tuple[float, float] | None] = []
    for span in spans:
        if span is None:
            out.append(None)
            continue
        a, b = int(span[0] / _FRAME_S), min(int(np.ceil(span[1] / _FRAME_S)), n)
        loud = np.flatnonzero(rms[a:b] > floor)
        if len(loud) == 0:
            out.append(span)
            continue
        out.append((max(span[0], (a + loud[0]) * _FRAME_S), min(span[1], (a + loud[-1] + 1) * _FRAME_S)))
    return out


def join_pieces(words: Sequence[Sequence[Word]], pieces: Sequence[Audio], gap_s: float) -> list[Word]:
    """The words of pieces joined as :meth:`Audio.concat` joins them (``gap_s`` of silence
    between pieces), in seconds of the joined audio."""
    out: list[Word] = []
    start = 0.0
    for i, (piece_words_, piece) in enumerate(zip(words, pieces)):
        if i:
            start += int(gap_s * piece.sample_rate) / piece.sample_rate
        out += shift(piece_words_, start)
        start += piece.duration
    return out


def shift(words: Sequence[Word], seconds: float) -> list[Word]:
    """``words`` moved ``seconds`` later."""
    return [replace(w, start=round(w.start + seconds, 3), end=round(w.end + seconds, 3)) for w in words]


def caption_text(words: Sequence[Word], path: str | Path, text: str = "", lang: str = "",
                 duration: float = 0.0, source: str = "") -> str:
    """Captions of ``words`` in the format of ``path``'s suffix: SubRip (.srt), WebVTT (.vtt),
    or JSON (.json: text, language, duration, the words with start/end, and ``source`` as
    ``model``: what the times come from)."""
    from voxclone.asr.captions import to_json, to_srt, to_vtt

    suffix = Path(path).suffix.lower()
    joined = [replace(w, word=spaced(w.word)) for w in words]
    if suffix == ".srt":
        return to_srt(joined)
    if suffix == ".vtt":
        return to_vtt(joined)
    if suffix == ".json":
        return to_json(Transcript(text.strip(), lang, 1.0, tuple(words), round(duration, 3), source))
    raise InvalidSetting(f"Cannot write captions as '{suffix or Path(path).name}': name the file "
                         f"with one of {', '.join(CAPTION_SUFFIXES)}.")


def write_captions(words: Sequence[Word], path: str | Path, text: str = "", lang: str = "",
                   duration: float = 0.0, source: str = "") -> Path:
    """Write :func:`caption_text` to ``path`` (atomically); returns the path."""
    path = Path(path)
    content = caption_text(words, path, text, lang, duration, source)
    tmp = path.with_name(f".{path.name}.tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp.write_text(content, encoding="utf-8")
    tmp.replace(path)
    return path
