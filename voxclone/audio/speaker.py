"""Speaker embeddings (resemblyzer d-vectors), one shared encoder per process."""

from __future__ import annotations

import threading
from typing import Protocol

import numpy as np

from voxclone.audio.dsp import resample
from voxclone.audio.types import Audio
from voxclone.errors import EngineUnavailable

ENCODER_SR = 16000


class SpeakerEncoder(Protocol):
    """Maps speech to a unit-norm speaker embedding of shape (dim,)."""

    name: str
    dim: int

    def embed(self, audio: Audio) -> np.ndarray:
        """Embedding of one utterance, float32 (dim,), L2 norm 1."""
        ...


class ResemblyzerEncoder:
    """The GE2E d-vector encoder shipped (with its weights) by ``resemblyzer``; 256-dim."""

    name = "resemblyzer"
    dim = 256

    def __init__(self) -> None:
        try:
            from resemblyzer import VoiceEncoder
        except ImportError as exc:  # pragma: no cover - dependency of the base install
            raise EngineUnavailable("resemblyzer is not installed: `pip install resemblyzer`.") from exc
        self._encoder = VoiceEncoder(device="cpu", verbose=False)
        self._lock = threading.Lock()

    def embed(self, audio: Audio) -> np.ndarray:
        from resemblyzer import preprocess_wav

        wav = resample(audio, ENCODER_SR).samples
        prepared = preprocess_wav(wav, source_sr=ENCODER_SR)
        if len(prepared) < ENCODER_SR // 4:  # VAD removed nearly everything: use the raw clip
            prepared = wav
        with self._lock:
            emb = self._encoder.embed_utterance(prepared)
        return (emb / max(np.linalg.norm(emb), 1e-9)).astype(np.float32)

    def embed_many(self, clips: list[Audio]) -> np.ndarray:
        """One embedding for several clips of a speaker: the normalised mean, shape (dim,)."""
        embs = np.stack([self.embed(c) for c in clips])
        mean = embs.mean(axis=0)
        return (mean / max(np.linalg.norm(mean), 1e-9)).astype(np.float32)


_shared: ResemblyzerEncoder | None = None
_shared_lock = threading.Lock()


def speaker_encoder() -> ResemblyzerEncoder:
    """The process-wide encoder (built on first use; its first call is slow)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = ResemblyzerEncoder()
        return _shared


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two vectors."""
    return float(np.dot(a, b) / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-12))
