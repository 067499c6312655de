"""Splitting long recordings into 1-15 s clips at pauses found by silero-vad (its model ships in
the wheel), with an energy fallback when silero-vad is not installed."""

from __future__ import annotations

import numpy as np

from voxclone.audio.dsp import resample
from voxclone.audio.types import Audio
from voxclone.audio.vad import FRAME_S, speech_mask

_MODEL = None


def speech_regions(audio: Audio) -> list[tuple[float, float]]:
    """(start, end) seconds of speech."""
    try:
        from silero_vad import get_speech_timestamps, load_silero_vad
    except ImportError:
        return _energy_regions(audio)
    import torch

    global _MODEL
    if _MODEL is None:
        _MODEL = load_silero_vad()
    x = torch.from_numpy(resample(audio, 16000).samples.copy())
    stamps = get_speech_timestamps(x, _MODEL, sampling_rate=16000, return_seconds=True)
    return [(float(s["start"]), float(s["end"])) for s in stamps]


def _energy_regions(audio: Audio) -> list[tuple[float, float]]:
    mask = speech_mask(audio)
    edges = np.flatnonzero(np.diff(np.r_[0, mask.astype(int), 0]))
    return [(a * FRAME_S, b * FRAME_S) for a, b in zip(edges[::2], edges[1::2])]


def plan_segments(regions: list[tuple[float, float]], min_s: float = 1.0, max_s: float = 15.0,
                  max_gap_s: float = 1.0, pad_s: float = 0.1) -> list[tuple[float, float]]:
    """Group speech regions into segments of at most ``max_s`` (a longer region is cut evenly),
    joining neighbours less than ``max_gap_s`` apart; segments under ``min_s`` are dropped."""
    pieces: list[tuple[float, float]] = []
    for a, b in regions:
        n = int(np.ceil((b - a) / max_s)) if b - a > max_s else 1
        step = (b - a) / n
        pieces += [(a + i * step, a + (i + 1) * step) for i in range(n)]
    out: list[tuple[float, float]] = []
    for a, b in pieces:
        if out and a - out[-1][1] < max_gap_s and b - out[-1][0] <= max_s:
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return [(max(0.0, a - pad_s), b + pad_s) for a, b in out if b - a >= min_s]


def split_recording(audio: Audio, min_s: float = 1.0, max_s: float = 15.0) -> list[Audio]:
    """Clips of ``audio`` at its pauses, each ``min_s``..``max_s`` (+ padding) long."""
    plan = plan_segments(speech_regions(audio), min_s, max_s - 0.2)
    return [audio.slice(a, min(b, audio.duration)) for a, b in plan]
