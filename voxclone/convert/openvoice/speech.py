"""Speech segments for tone-colour extraction: silero-vad (its model ships with the package),
speech joined and cut into pieces of about ``split_s`` seconds, as OpenVoice's ``split_audio_vad``."""

from __future__ import annotations

import threading

import numpy as np

from voxclone.audio.dsp import resample
from voxclone.audio.types import Audio
from voxclone.errors import EngineUnavailable

VAD_RATE = 16000
_MODEL = None
_LOCK = threading.Lock()


def _silero():
    global _MODEL
    with _LOCK:
        if _MODEL is None:
            try:
                from silero_vad import load_silero_vad
            except ImportError as exc:
                raise EngineUnavailable("Tone-colour extraction with VAD needs silero-vad: "
                                        "`pip install 'voxclone[openvoice]'`, or pass vad=False.") from exc
            _MODEL = load_silero_vad()
        return _MODEL


def speech_segments(audio: Audio) -> list[tuple[float, float]]:
    """(start, end) seconds of speech; silences under 1 s inside speech are kept."""
    import torch
    from silero_vad import get_speech_timestamps

    x = resample(audio, VAD_RATE).samples
    model = _silero()
    with _LOCK, torch.inference_mode():
        stamps = get_speech_timestamps(torch.from_numpy(x), model, sampling_rate=VAD_RATE,
                                       min_speech_duration_ms=100, min_silence_duration_ms=1000)
        model.reset_states()
    return [(s["start"] / VAD_RATE, s["end"] / VAD_RATE) for s in stamps]


def speech_pieces(audio: Audio, split_s: float = 10.0) -> list[Audio]:
    """The speech of ``audio`` joined and cut into max(1, round(duration / split_s)) equal pieces;
    empty when no speech was found."""
    sr = audio.sample_rate
    parts = [audio.samples[int(a * sr):int(b * sr)] for a, b in speech_segments(audio)]
    speech = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    if len(speech) == 0:
        return []
    n = max(1, int(np.round(len(speech) / sr / split_s)))
    bounds = np.linspace(0, len(speech), n + 1).astype(int)
    return [Audio(speech[a:b], sr) for a, b in zip(bounds[:-1], bounds[1:])]
