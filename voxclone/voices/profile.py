"""VoiceProfile: what cloning needs to know about a voice, and the checks a reference must pass."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from voxclone.audio.dsp import resample, rms_db
from voxclone.audio.f0 import F0Method, extract_f0, log_f0_stats
from voxclone.audio.speaker import speaker_encoder
from voxclone.audio.types import Audio
from voxclone.audio.vad import FRAME_S, speech_mask, speech_seconds
from voxclone.convert.base import Converter, Features
from voxclone.errors import ProfileVersionError, ReferenceTooShort, SilentReference

PROFILE_FORMAT_VERSION = 1
"""Bumped whenever the meaning or layout of a profile changes; cached profiles are then rebuilt."""
MIN_SPEECH_S = 3.0
MIN_CLIP_SPEECH_S = 0.3
SILENCE_DB = -60.0
F0_SAMPLE_RATE = 16000


def reference_speech_seconds(audio: Audio) -> float:
    """Seconds of speech as enrolment counts it: speech frames plus short gaps (100 ms hangover)."""
    return float(speech_mask(audio).sum()) * FRAME_S


def check_reference(clips: Sequence[Audio], names: Sequence[str] | None = None,
                    min_speech_s: float = MIN_SPEECH_S) -> float:
    """Check reference clips; return their total seconds of speech.

    Raises SilentReference naming the first clip without speech, and ReferenceTooShort when all
    clips together hold less than ``min_speech_s`` seconds of speech.
    """
    if not clips:
        raise ReferenceTooShort(f"No reference clips given: at least {min_speech_s:g} s of speech "
                                "are needed. Pass one or more wav/flac/mp3/ogg files.")
    labels = list(names) if names is not None else [f"clip {i + 1}" for i in range(len(clips))]
    total = 0.0
    for clip, label in zip(clips, labels):
        if rms_db(clip) < SILENCE_DB or speech_seconds(clip) < MIN_CLIP_SPEECH_S:
            raise SilentReference(f"No speech found in {label}: it is silent or nearly so. Record "
                                  "it again closer to the microphone, or leave it out.")
        total += reference_speech_seconds(clip)
    if total < min_speech_s:
        found = math.floor(total * 10) / 10
        raise ReferenceTooShort(f"The reference holds only {found:.1f} s of speech; at least "
                                f"{min_speech_s:g} s are needed. Add clips or record a longer one "
                                "(10-30 s of clear speech works best).")
    return total


def audio_sha256(audio: Audio) -> str:
    """SHA-256 (hex) of the samples and sample rate: a content hash for clips held in memory."""
    digest = hashlib.sha256(int(audio.sample_rate).to_bytes(8, "little"))
    digest.update(np.ascontiguousarray(audio.samples, dtype="<f4").tobytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class VoiceProfile:
    """Everything cloning needs about one voice for one converter.

    name: the voice's name.
    format_version: ``PROFILE_FORMAT_VERSION`` when written; unknown versions are refused.
    clip_hashes: sorted SHA-256 (hex) of the clips it was built from (library: of the stored
        FLAC files; otherwise :func:`audio_sha256`).
    embedding: unit-norm speaker embedding, 256 floats (resemblyzer, mean over clips).
    lf0_mean, lf0_std: mean and standard deviation of natural-log F0 in Hz over the voiced
        frames of all clips (nan when nothing is voiced).
    speech_seconds: seconds of speech in all clips.
    converter, converter_version: name and version of the converter whose features it holds.
    features: that converter's speaker features (JSON-serialisable).
    """

    name: str
    format_version: int
    clip_hashes: list[str]
    embedding: list[float]
    lf0_mean: float
    lf0_std: float
    speech_seconds: float
    converter: str
    converter_version: str
    features: Features

    @property
    def embedding_array(self) -> np.ndarray:
        """The embedding as float32, shape (256,)."""
        return np.asarray(self.embedding, dtype=np.float32)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable dict (inverse of :meth:`from_dict`)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "VoiceProfile":
        """Rebuild a profile; raises ProfileVersionError for unknown versions or missing fields."""
        version = data.get("format_version") if isinstance(data, dict) else None
        if version != PROFILE_FORMAT_VERSION:
            raise ProfileVersionError(f"Voice profile format version {version!r} is not supported "
                                      f"(this voxclone reads version {PROFILE_FORMAT_VERSION}). "
                                      "Rebuild the profile from the voice's clips.")
        names = [f.name for f in fields(cls)]
        missing = [n for n in names if n not in data]
        if missing:
            raise ProfileVersionError(f"Voice profile lacks {', '.join(missing)}: it is damaged. "
                                      "Rebuild the profile from the voice's clips.")
        return cls(**{n: data[n] for n in names})


def clips_lf0_stats(clips: Sequence[Audio], method: F0Method = "harvest") -> tuple[float, float]:
    """Log-F0 mean and std over the voiced frames of all clips (analysed at 16 kHz)."""
    tracks = [extract_f0(resample(c, F0_SAMPLE_RATE), method)[0] for c in clips]
    return log_f0_stats(np.concatenate(tracks))


def build_profile(name: str, clips: Sequence[Audio], converter: Converter,
                  clip_hashes: Sequence[str] | None = None) -> VoiceProfile:
    """Profile of a speaker from its clips, without a voice library (e.g. a one-off ``--ref``).

    Checks the clips first (SilentReference, ReferenceTooShort); ``clip_hashes`` default to
    :func:`audio_sha256` of each clip.
    """
    clips = list(clips)
    speech = check_reference(clips)
    hashes = list(clip_hashes) if clip_hashes is not None else [audio_sha256(c) for c in clips]
    features = converter.features(clips)
    if "lf0_mean" in features and "lf0_std" in features:  # the converter already tracked F0
        lf0_mean, lf0_std = float(features["lf0_mean"]), float(features["lf0_std"])
    else:
        lf0_mean, lf0_std = clips_lf0_stats(clips)
    embedding = speaker_encoder().embed_many(clips)
    return VoiceProfile(name=name, format_version=PROFILE_FORMAT_VERSION,
                        clip_hashes=sorted(hashes), embedding=[float(v) for v in embedding],
                        lf0_mean=lf0_mean, lf0_std=lf0_std, speech_seconds=speech,
                        converter=converter.name, converter_version=converter.version,
                        features=features)
