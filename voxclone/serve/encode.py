"""Bytes on the wire: raw PCM, a WAV header for streams of unknown length, media types."""

from __future__ import annotations

import struct

import numpy as np

from voxclone.audio.types import Audio

MEDIA_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg", "flac": "audio/flac", "opus": "audio/ogg",
               "pcm": "audio/pcm"}
STREAM_FORMATS = ("pcm", "wav")
UNKNOWN_SIZE = 0xFFFFFFFF


def pcm_bytes(audio: Audio) -> bytes:
    """Signed 16-bit little-endian mono samples (what ``response_format=pcm`` returns)."""
    samples = np.clip(audio.samples, -1.0, 1.0)
    return (np.round(samples * 32767.0)).astype("<i2").tobytes()


def pcm_samples(data: bytes) -> np.ndarray:
    """The int16 samples of raw PCM bytes (inverse of :func:`pcm_bytes` up to rounding)."""
    return np.frombuffer(data, dtype="<i2")


def wav_bytes(audio: Audio) -> bytes:
    """A complete PCM16 mono WAV file of ``audio``."""
    data = pcm_bytes(audio)
    return wav_stream_header(audio.sample_rate, len(data)) + data


def wav_stream_header(sample_rate: int, data_size: int = UNKNOWN_SIZE) -> bytes:
    """A 44-byte PCM16 mono WAV header; by default its sizes say "unknown" (0xFFFFFFFF), for
    streaming."""
    byte_rate = sample_rate * 2
    riff = UNKNOWN_SIZE if data_size == UNKNOWN_SIZE else 36 + data_size
    return (b"RIFF" + struct.pack("<I", riff) + b"WAVE"
            + b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, sample_rate, byte_rate, 2, 16)
            + b"data" + struct.pack("<I", data_size))
