"""Chunked decoding as the official ``infer_stream`` cuts it: audio after RF + chunk_size tokens.

The last ``2·RF + chunk_size`` states are re-decoded every ``chunk_size`` tokens and the
``chunk_size`` newest tokens' samples that have RF-1 tokens of look-ahead are kept; at the end
of a sentence the rest follows. Joined, the chunks are the sentence's non-streamed audio (the
decoder sees ±3 tokens), so the same cut serves streaming and decoding beside generation.
"""

from __future__ import annotations

from concurrent.futures import Executor, Future
from typing import Callable, Iterable, Iterator

import numpy as np

from voxclone.tts.soprano.config import RECEPTIVE_FIELD, TOKEN_SIZE

Decode = Callable[[np.ndarray], np.ndarray]  # (T, H) states → (2048·(T-1),) samples


class ChunkCutter:
    """Push one state (H,) per token, then :meth:`finish`; each returns the windows to decode
    now as (states (T, H), start, stop) with the slice ``audio[start:stop]`` to keep.

    ``first_chunk``: tokens in the first chunk (default ``chunk_size``); later chunks have
    ``chunk_size`` tokens, so a stream can start early and then decode in larger windows."""

    def __init__(self, chunk_size: int = 1, receptive_field: int = RECEPTIVE_FIELD,
                 token_size: int = TOKEN_SIZE, first_chunk: int | None = None) -> None:
        if chunk_size < 1 or (first_chunk is not None and first_chunk < 1):
            raise ValueError("chunk_size and first_chunk must be at least 1")
        self.rf, self.size, self.later = receptive_field, token_size, chunk_size
        self.chunk_size = first_chunk or chunk_size
        self.buffer: list[np.ndarray] = []
        self.counter = self.chunk_size
        self.started = False

    def push(self, state: np.ndarray) -> list[tuple[np.ndarray, int, int | None]]:
        rf, size, cs = self.rf, self.size, self.chunk_size
        self.buffer = (self.buffer + [state])[-(2 * rf + cs):]
        if len(self.buffer) < rf + cs and not self.started:
            return []
        due = self.counter == cs
        self.counter = 1 if due else self.counter + 1
        if not due:
            return []
        window = (np.stack(self.buffer), -((rf + cs) * size - size), -(rf * size - size))
        self.chunk_size, self.started = self.later, True
        return [window]

    def finish(self) -> list[tuple[np.ndarray, int, int | None]]:
        start = -((self.rf + self.counter - 1) * self.size - self.size)
        if len(self.buffer) < 2:
            return [(np.zeros((0, 0), np.float32), 0, None)]
        return [(np.stack(self.buffer), start, None)]


def _cut(decode: Decode, states: np.ndarray, start: int, stop: int | None) -> np.ndarray:
    if len(states) < 2:
        return np.zeros(0, np.float32)
    return decode(states)[start:stop]


def stream_audio(states: Iterable[np.ndarray | None], decode: Decode, chunk_size: int = 1,
                 receptive_field: int = RECEPTIVE_FIELD, token_size: int = TOKEN_SIZE,
                 first_chunk: int | None = None) -> Iterator[np.ndarray]:
    """States (H,) one per token, then None when the sentence ends → audio chunks (float32)."""
    cutter = ChunkCutter(chunk_size, receptive_field, token_size, first_chunk)
    for state in states:
        windows = cutter.finish() if state is None else cutter.push(state)
        for window in windows:
            yield _cut(decode, *window)
        if state is None:
            return


class BackgroundDecoder:
    """Decodes one sentence in ``chunk_size``-token windows on ``executor`` while it is being
    generated; :meth:`audio` joins the pieces (equal to decoding the whole sentence at once)."""

    def __init__(self, decode: Decode, executor: Executor, chunk_size: int = 32) -> None:
        self.decode, self.executor = decode, executor
        self.cutter = ChunkCutter(chunk_size)
        self.pieces: list[Future[np.ndarray]] = []

    def push(self, state: np.ndarray) -> None:
        for window in self.cutter.push(state):
            self.pieces.append(self.executor.submit(_cut, self.decode, *window))

    def finish(self) -> None:
        for window in self.cutter.finish():
            self.pieces.append(self.executor.submit(_cut, self.decode, *window))

    def audio(self) -> np.ndarray:
        return np.concatenate([p.result() for p in self.pieces]).astype(np.float32)
