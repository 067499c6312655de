"""Streaming as the official ``infer_stream`` cuts it: audio after RF + chunk_size tokens.

The last ``2·RF + chunk_size`` states are re-decoded every ``chunk_size`` tokens and the
``chunk_size`` newest tokens' samples that have RF-1 tokens of look-ahead are emitted; at the end
of a sentence the rest follows. Joined, the chunks are the sentence's non-streamed audio.
"""

from __future__ import annotations

from typing import Callable, Iterable, Iterator

import numpy as np

from voxclone.tts.soprano.config import RECEPTIVE_FIELD, TOKEN_SIZE


def stream_audio(states: Iterable[np.ndarray | None], decode: Callable[[np.ndarray], np.ndarray],
                 chunk_size: int = 1, receptive_field: int = RECEPTIVE_FIELD,
                 token_size: int = TOKEN_SIZE) -> Iterator[np.ndarray]:
    """States (H,) one per token, then None when the sentence ends → audio chunks (float32).

    ``decode`` maps (T, H) states to (2048·(T-1),) samples.
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    rf, size = receptive_field, token_size
    buffer: list[np.ndarray] = []
    counter = chunk_size
    for state in states:
        finished = state is None
        if not finished:
            buffer = (buffer + [state])[-(2 * rf + chunk_size):]
        if not (finished or len(buffer) >= rf + chunk_size):
            continue
        if finished or counter == chunk_size:
            audio = decode(np.stack(buffer)) if len(buffer) >= 2 else np.zeros(0, np.float32)
            if finished:
                yield audio[-((rf + counter - 1) * size - size):]
                return
            yield audio[-((rf + chunk_size) * size - size): -(rf * size - size)]
            counter = 0
        counter += 1
