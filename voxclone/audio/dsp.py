"""Resampling and level helpers."""

from __future__ import annotations

import numpy as np
import soxr

from voxclone.audio.types import Audio

SILENCE_DB = -90.0
"""RMS level in dBFS below which audio counts as silence (under 16-bit dither)."""


def warmup_tone(seconds: float = 0.5, sample_rate: int = 16000) -> Audio:
    """A 150 Hz sine at amplitude 0.3, ``seconds`` long: input for an engine's first, slow call."""
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    return Audio((0.3 * np.sin(2 * np.pi * 150 * t)).astype(np.float32), sample_rate)


def resample(audio: Audio, sample_rate: int) -> Audio:
    """Resample to ``sample_rate`` Hz (soxr, high quality)."""
    if audio.sample_rate == sample_rate:
        return audio
    if len(audio) == 0:
        return Audio(np.zeros(0, np.float32), sample_rate)
    out = soxr.resample(audio.samples, audio.sample_rate, sample_rate, quality="HQ")
    return Audio(out.astype(np.float32), sample_rate)


def peak(audio: Audio) -> float:
    """Largest absolute sample value."""
    return float(np.max(np.abs(audio.samples))) if len(audio) else 0.0


def rms_db(audio: Audio) -> float:
    """Root-mean-square level in dBFS (-inf for digital silence)."""
    if len(audio) == 0:
        return float("-inf")
    rms = float(np.sqrt(np.mean(np.square(audio.samples, dtype=np.float64))))
    return 20.0 * np.log10(rms) if rms > 0 else float("-inf")


def normalize_peak(audio: Audio, target: float = 0.9) -> Audio:
    """Scale so the peak is ``target`` (no-op on silence)."""
    p = peak(audio)
    if p <= 0:
        return audio
    return Audio(audio.samples * (target / p), audio.sample_rate)


def match_loudness(audio: Audio, reference_db: float, max_peak: float = 0.97) -> Audio:
    """Scale ``audio`` to an RMS of ``reference_db`` dBFS, limited so the peak stays below ``max_peak``.

    Audio below ``SILENCE_DB`` is left as it is: raising numerical noise to speech level would
    turn silence into a loud hiss.
    """
    cur = rms_db(audio)
    if not np.isfinite(cur) or cur < SILENCE_DB or not np.isfinite(reference_db):
        return audio
    gain = 10.0 ** ((reference_db - cur) / 20.0)
    p = peak(audio) * gain
    if p > max_peak:
        gain *= max_peak / p
    return Audio(audio.samples * gain, audio.sample_rate)


def apply_gain_db(audio: Audio, gain_db: float, max_peak: float = 0.99) -> Audio:
    """Apply a gain in dB, with a soft limit at ``max_peak``."""
    out = audio.samples * (10.0 ** (gain_db / 20.0))
    over = np.abs(out) > max_peak
    if over.any():
        out = np.tanh(out / max_peak) * max_peak
    return Audio(out, audio.sample_rate)
