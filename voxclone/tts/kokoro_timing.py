"""Kokoro's own durations as word times.

Kokoro's duration predictor gives every token a whole number of frames, and the decoder
upsamples the text features by exactly those counts: a frame is 600 samples at 24 kHz (25 ms),
and a call's speech is ``600 * sum(frames)`` samples long. The graphs we run output only the
audio, so :func:`duration_graph` cuts the predictor's part out of the same graph (inputs
``tokens``, ``style``, ``speed``; output the (1, N + 2) int64 frame counts, the boundary tokens
included): about 2 % of a synthesis call.

Tokens are Kokoro symbols of whole clauses, where espeak-ng may read words together
("on the" -> ``ɔnðə``); each text word's own phonemes are aligned with them (minimum edit
distance over symbols) to find which tokens are whose.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from voxclone.errors import EngineUnavailable
from voxclone.text.words import TextWord, char_alignment

FRAME_SAMPLES = 600
SAMPLE_RATE = 24000


def duration_graph(model_path: Path) -> bytes:
    """The part of the Kokoro graph at ``model_path`` that predicts token durations, serialised."""
    import onnx
    from onnx.utils import Extractor

    model = onnx.load(str(model_path))
    output = durations_value(model.graph)
    inputs = [i.name for i in model.graph.input]
    return Extractor(model).extract_model(inputs, [output]).SerializeToString()


def durations_value(graph: Any) -> str:
    """Name of the (1, N + 2) int64 frame counts in a Kokoro graph: the durations divided by
    ``speed``, rounded, clipped and cast (``Div(speed) -> Round -> Clip -> Cast``)."""
    from voxclone.tts.kokoro_graph import graph_links

    _, consumers = graph_links(graph)
    for div in (n for n in consumers["speed"] if n.op_type == "Div"):
        node = div
        for op in ("Round", "Clip", "Cast"):
            node = next((n for n in consumers[node.output[0]] if n.op_type == op), None)
            if node is None:
                break
        else:
            return node.output[0]
    raise EngineUnavailable("This Kokoro graph has no duration predictor output this version "
                            "knows (Div(speed) -> Round -> Clip -> Cast): no word times from it.")


def word_spans(words: Sequence[TextWord], word_symbols: Sequence[str],
               chunks: Sequence[Sequence[int]], frames: Sequence[np.ndarray],
               symbols: dict[int, str], time_scale: float = 1.0,
               ) -> tuple[list[tuple[float, float] | None], float]:
    """Each word's (start s, end s) in the joined speech of ``chunks``, and its duration.

    word_symbols: each word's own Kokoro symbols; chunks: token ids per model call (without
    the boundary 0s); frames: that call's frame counts (len(chunk) + 2,); symbols: id -> symbol;
    time_scale: factor on every time (1 / pitch factor where the pitch shift resamples).
    """
    target, times = [], []
    offset = 0
    for chunk, counts in zip(chunks, frames):
        counts = np.asarray(counts, dtype=np.int64).reshape(-1)
        edges = offset + np.cumsum(counts)  # token k (1-based in counts) ends at edges[k]
        for k, token in enumerate(chunk, start=1):
            if _is_phoneme(symbols.get(token, " ")):
                target.append(symbols[token])
                times.append((edges[k - 1], edges[k]))
        offset = int(edges[-1])
    source, owner = [], []
    for i, text in enumerate(word_symbols):
        kept = [c for c in text if _is_phoneme(c)]
        source += kept
        owner += [i] * len(kept)
    spans: list[tuple[float, float] | None] = [None] * len(words)
    if source and target:
        aligned = char_alignment("".join(source), "".join(target))
        last = -1
        for j, src in enumerate(aligned):
            if src >= 0:
                last = max(last, owner[src])
            i = last if last >= 0 else 0
            start, end = times[j]
            span = spans[i]
            spans[i] = (start, end) if span is None else (span[0], end)
    scale = time_scale * FRAME_SAMPLES / SAMPLE_RATE
    out = [None if s is None else (s[0] * scale, s[1] * scale) for s in spans]
    return out, offset * scale


def _is_phoneme(symbol: str) -> bool:
    """A symbol that is spoken (not a space, not punctuation)."""
    return not symbol.isspace() and unicodedata.category(symbol)[0] not in "PSZ"
