"""Audio I/O, resampling, levels and speech detection."""

from voxclone.audio.dsp import normalize_peak, resample, rms_db
from voxclone.audio.io import load, save
from voxclone.audio.types import Audio
from voxclone.audio.vad import speech_seconds, trim_silence

__all__ = ["Audio", "load", "save", "resample", "rms_db", "normalize_peak", "speech_seconds",
           "trim_silence"]
