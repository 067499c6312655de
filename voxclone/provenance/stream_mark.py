"""The watermark on audio that arrives in chunks (sub-sentence streaming).

Each push marks the new samples together with up to ``context_s`` of the audio before them (so
the network's STFT sees their history) and the ``hold_s`` not yet released, whose mark was
computed without right-hand context: over those held samples the old mark is cross-faded into
the new one. Output therefore lags input by ``hold_s`` until :meth:`StreamMarker.finish`; the
joined output is the input plus a mark, sample for sample as long as the input.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from voxclone.audio.types import Audio

Mark = Callable[[Audio], Audio]


def _shared_mark(audio: Audio) -> Audio:
    from voxclone.provenance.watermark import embed

    return embed(audio)


class StreamMarker:
    """Push float32 chunks (n,) at ``sample_rate``; each push returns the samples ready now."""

    def __init__(self, sample_rate: int, mark: Mark = _shared_mark, context_s: float = 0.3,
                 hold_s: float = 0.05) -> None:
        self.sample_rate, self.mark = sample_rate, mark
        self.context = int(context_s * sample_rate)
        self.hold = int(hold_s * sample_rate)
        self._history = np.zeros(0, np.float32)   # released input, last ``context`` samples
        self._held = np.zeros(0, np.float32)      # input not yet released
        self._held_delta = np.zeros(0, np.float32)  # its provisional mark

    def push(self, chunk: np.ndarray) -> np.ndarray:
        """Mark ``chunk``; returns the marked samples released by this push (maybe none)."""
        chunk = np.asarray(chunk, np.float32)
        if len(chunk) == 0:
            return chunk
        segment = np.concatenate([self._history, self._held, chunk])
        delta = self.mark(Audio(segment, self.sample_rate)).samples - segment
        delta = delta[len(self._history):]
        n_held = len(self._held)
        ramp = np.linspace(0.0, 1.0, n_held, dtype=np.float32)
        delta[:n_held] = self._held_delta * (1.0 - ramp) + delta[:n_held] * ramp
        pending = np.concatenate([self._held, chunk])
        cut = max(0, len(pending) - self.hold)
        released = pending[:cut]
        self._held, self._held_delta = pending[cut:], delta[cut:]
        history = np.concatenate([self._history, released])
        self._history = history[max(0, len(history) - self.context):]
        return (released + delta[:cut]).astype(np.float32)

    def finish(self) -> np.ndarray:
        """The held samples with their mark; the marker is then empty."""
        out = (self._held + self._held_delta).astype(np.float32)
        self._history = np.zeros(0, np.float32)
        self._held = self._held_delta = np.zeros(0, np.float32)
        return out
