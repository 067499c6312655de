"""The post stage for speech streamed in sub-sentence chunks (loudness, output rate, watermark).

The whole-piece post stage (``VoiceCloner._post``) normalises each piece to the target RMS,
which needs the piece before its first sample leaves. Streamed chunks instead get a running
level: the gain that brings the RMS of everything streamed so far to the target, moved by at
most ``MAX_STEP_DB`` per chunk and ramped inside it (no steps), under a soft peak limit. By
the end of a sentence it has converged to (about) the gain the whole-piece stage applies.
Resampling runs as one soxr stream; the watermark as a :class:`StreamMarker`.
"""

from __future__ import annotations

import numpy as np
import soxr

from voxclone.audio.dsp import SILENCE_DB
from voxclone.audio.types import Audio
from voxclone.pipeline.config import PipelineConfig
from voxclone.provenance.stream_mark import StreamMarker
from voxclone.tts.base import Style

MAX_STEP_DB = 3.0
MAX_PEAK = 0.97


class StreamPost:
    """Push one piece's engine chunks (float32 (n,) at ``in_rate``), then :meth:`finish`; get
    post-processed Audio back. ``after``: the previous piece's StreamPost, whose running level
    this one continues."""

    def __init__(self, in_rate: int, config: PipelineConfig, style: Style = Style(),
                 after: "StreamPost | None" = None) -> None:
        self.rate = config.output_sample_rate or in_rate
        self.target_db = config.loudness_db
        self.energy_db = 6.0 * float(np.log2(style.energy)) if style.energy != 1.0 else 0.0
        self._resampler = (soxr.ResampleStream(in_rate, self.rate, 1, dtype="float32", quality="HQ")
                           if self.rate != in_rate else None)
        self._marker = StreamMarker(self.rate) if config.watermark else None
        self._energy = after._energy if after else 0.0  # sum of squares streamed so far
        self._count = after._count if after else 0
        self._gain_db: float | None = after._gain_db if after else None

    def push(self, samples: np.ndarray) -> Audio:
        """Post-process one chunk; the returned audio may be shorter (resampler/marker latency)."""
        x = np.asarray(samples, np.float32)
        if self._resampler is not None:
            x = self._resampler.resample_chunk(x, last=False)
        return self._finish_chunk(self._level(x), last=False)

    def finish(self) -> Audio:
        """What is still held back (resampler tail, unreleased watermark samples)."""
        x = np.zeros(0, np.float32)
        if self._resampler is not None:
            x = self._resampler.resample_chunk(x, last=True)
        return self._finish_chunk(self._level(x), last=True)

    def _level(self, x: np.ndarray) -> np.ndarray:
        if len(x) == 0:
            return x
        self._energy += float(np.sum(np.square(x, dtype=np.float64)))
        self._count += len(x)
        rms = np.sqrt(self._energy / self._count)
        level_db = 20.0 * np.log10(rms) if rms > 0 else -np.inf
        start = self._gain_db
        if level_db < SILENCE_DB:
            target = start if start is not None else 0.0
        else:
            target = self.target_db - level_db
        if start is None:
            start = target
        end = float(np.clip(target, start - MAX_STEP_DB, start + MAX_STEP_DB))
        self._gain_db = end
        gain = 10.0 ** (np.linspace(start, end, len(x), dtype=np.float64) / 20.0)
        y = x * gain.astype(np.float32)
        if self.energy_db:
            y = y * np.float32(10.0 ** (self.energy_db / 20.0))
        over = np.abs(y) > MAX_PEAK
        if over.any():  # the same soft limit as the whole-piece stage's gain
            y = np.tanh(y / MAX_PEAK) * MAX_PEAK
        return y.astype(np.float32)

    def _finish_chunk(self, y: np.ndarray, last: bool) -> Audio:
        if self._marker is not None:
            y = self._marker.push(y)
            if last:
                y = np.concatenate([y, self._marker.finish()])
        return Audio(y, self.rate)
