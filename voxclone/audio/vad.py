"""Energy-based speech detection: how much speech a clip holds, and trimming."""

from __future__ import annotations

import numpy as np

from voxclone.audio.types import Audio

FRAME_S = 0.02


def frame_energy_db(audio: Audio, frame_s: float = FRAME_S) -> np.ndarray:
    """Per-frame RMS level in dBFS, shape (n_frames,)."""
    hop = max(1, int(frame_s * audio.sample_rate))
    n = len(audio) // hop
    if n == 0:
        return np.zeros(0)
    frames = audio.samples[: n * hop].reshape(n, hop).astype(np.float64)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    return 20.0 * np.log10(np.maximum(rms, 1e-10))


def speech_mask(audio: Audio, frame_s: float = FRAME_S, floor_db: float = -55.0,
                rel_db: float = 35.0) -> np.ndarray:
    """Boolean per-frame mask of speech-like frames.

    A frame counts as speech when it is above an absolute floor and within ``rel_db`` of the
    loud end of the clip (95th percentile), which works for clean and noisy recordings alike.
    Isolated frames are closed over with a 100 ms hangover.
    """
    db = frame_energy_db(audio, frame_s)
    if len(db) == 0:
        return np.zeros(0, dtype=bool)
    mask = db > _threshold_db(db, floor_db, rel_db)
    hang = max(1, int(0.1 / frame_s))
    if mask.any():
        kernel = np.ones(2 * hang + 1)
        mask = np.convolve(mask.astype(float), kernel, mode="same") > 0
    return mask & (db > floor_db)


def speech_seconds(audio: Audio) -> float:
    """Seconds of speech in ``audio`` (energy VAD, frames above threshold)."""
    db = frame_energy_db(audio)
    if len(db) == 0:
        return 0.0
    return float(np.sum(db > _threshold_db(db))) * FRAME_S


def _threshold_db(db: np.ndarray, floor_db: float = -55.0, rel_db: float = 35.0) -> float:
    """Speech threshold of a clip: above ``floor_db``, within ``rel_db`` of its loud end (95th
    percentile) and a third of the way up from its noise floor (10th percentile)."""
    loud = np.percentile(db, 95)
    noise = np.percentile(db, 10)
    return max(floor_db, loud - rel_db, noise + 0.35 * (loud - noise))


def trim_silence(audio: Audio, pad_s: float = 0.05) -> Audio:
    """Cut leading and trailing non-speech, keeping ``pad_s`` seconds either side."""
    mask = speech_mask(audio)
    if not mask.any():
        return audio
    idx = np.flatnonzero(mask)
    hop = int(FRAME_S * audio.sample_rate)
    start = max(0, idx[0] * hop - int(pad_s * audio.sample_rate))
    end = min(len(audio), (idx[-1] + 1) * hop + int(pad_s * audio.sample_rate))
    return Audio(audio.samples[start:end], audio.sample_rate)
