"""The one value type that travels between stages."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Audio:
    """Mono audio.

    samples: float32 array of shape (n,), nominally in [-1, 1].
    sample_rate: samples per second (Hz).
    """

    samples: np.ndarray
    sample_rate: int

    def __post_init__(self) -> None:
        samples = np.asarray(self.samples, dtype=np.float32)
        if samples.ndim != 1:
            raise ValueError(f"Audio samples must be 1-D, got shape {samples.shape}")
        object.__setattr__(self, "samples", samples)
        object.__setattr__(self, "sample_rate", int(self.sample_rate))

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.samples) / float(self.sample_rate)

    def __len__(self) -> int:
        return len(self.samples)

    def slice(self, start_s: float, end_s: float) -> "Audio":
        """The part between two times in seconds."""
        a, b = int(start_s * self.sample_rate), int(end_s * self.sample_rate)
        return Audio(self.samples[a:b], self.sample_rate)

    @staticmethod
    def concat(parts: list["Audio"], gap_s: float = 0.0) -> "Audio":
        """Join audio of one sample rate with ``gap_s`` seconds of silence between parts."""
        if not parts:
            raise ValueError("nothing to concatenate")
        sr = parts[0].sample_rate
        if any(p.sample_rate != sr for p in parts):
            raise ValueError("all parts must share one sample rate")
        gap = np.zeros(int(gap_s * sr), dtype=np.float32)
        pieces: list[np.ndarray] = []
        for i, p in enumerate(parts):
            if i and len(gap):
                pieces.append(gap)
            pieces.append(p.samples)
        return Audio(np.concatenate(pieces), sr)
