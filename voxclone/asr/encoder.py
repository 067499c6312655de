"""Whisper encoder states at any layer, in numpy, from the bundled CTranslate2 weights.

CTranslate2's ``Whisper.encode`` returns only the final layer, whose attention spans 30 s and
makes its states contextual. Earlier layers are more local in time, which is what a frame
matcher needs. This module reads the encoder's weights from ``model.bin`` (CTranslate2 format
version 6) and runs the encoder up to a chosen layer on the input's own length (no 30 s pad).
"""

from __future__ import annotations

import struct
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from voxclone.asr.models import model_dir
from voxclone.audio.dsp import resample
from voxclone.audio.types import Audio
from voxclone.errors import AudioError, ModelCorrupt

ENCODER_SR = 16000
FRAME_S = 0.02
"""Seconds per encoder state (50 per second)."""
MAX_SECONDS = 30.0
_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}


def _string(f: BinaryIO) -> str:
    (n,) = struct.unpack("<H", f.read(2))
    return f.read(n)[:-1].decode("utf-8")


def read_encoder_weights(path: Path) -> dict[str, np.ndarray]:
    """The ``encoder/...`` variables of a CTranslate2 Whisper ``model.bin`` as float32 arrays."""
    out: dict[str, np.ndarray] = {}
    with open(path, "rb") as f:
        (version,) = struct.unpack("<I", f.read(4))
        spec = _string(f)
        if version != 6 or spec != "WhisperSpec":
            raise ModelCorrupt(f"{path} is not a CTranslate2 Whisper model of format 6 "
                               f"(found {spec!r}, version {version}): reinstall the model package.")
        f.read(4)  # revision
        (count,) = struct.unpack("<I", f.read(4))
        for _ in range(count):
            name = _string(f)
            (rank,) = struct.unpack("<B", f.read(1))
            shape = struct.unpack(f"<{rank}I", f.read(4 * rank))
            (dtype,) = struct.unpack("<B", f.read(1))
            (nbytes,) = struct.unpack("<I", f.read(4))
            if not name.startswith("encoder/") or dtype not in _DTYPES:
                f.seek(nbytes, 1)
                continue
            data = np.frombuffer(f.read(nbytes), dtype=_DTYPES[dtype]).reshape(shape)
            out[name] = data.astype(np.float32)
    return out


def _layer_norm(x: np.ndarray, w: dict[str, np.ndarray], prefix: str) -> np.ndarray:
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(var + 1e-5) * w[f"{prefix}/gamma"] + w[f"{prefix}/beta"]


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + np.tanh(0.7978845608 * (x + 0.044715 * x**3)))


def _conv1d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, stride: int) -> np.ndarray:
    """1-D convolution, kernel 3, padding 1: x (T, C_in), weight (C_out, C_in, 3) → (T', C_out)."""
    padded = np.pad(x, ((1, 1), (0, 0)))
    t_out = (len(x) - 1) // stride + 1
    taps = [padded[k: k + stride * (t_out - 1) + 1: stride] for k in range(3)]
    cols = np.concatenate(taps, axis=1)  # (T', 3 * C_in), tap-major
    kernel = weight.transpose(2, 1, 0).reshape(-1, weight.shape[0])
    return cols @ kernel + bias


@dataclass
class WhisperEncoder:
    """The encoder of one bundled Whisper model; :meth:`states` runs it up to a layer."""

    weights: dict[str, np.ndarray]
    n_heads: int

    @classmethod
    def load(cls, name: str = "tiny.en") -> "WhisperEncoder":
        """The encoder of bundled model ``name`` (``tiny.en`` or ``base``)."""
        weights = read_encoder_weights(model_dir(name) / "model.bin")
        heads = int(weights.pop("encoder/num_heads", np.array(6.0)).reshape(-1)[0])
        return cls(weights, heads)

    @property
    def n_layers(self) -> int:
        return sum(1 for k in self.weights if k.endswith("self_attention/linear_1/bias"))

    def states(self, audio: Audio, layer: int) -> np.ndarray:
        """States (T, D) after encoder block ``layer`` (0-based; ``n_layers`` adds the final
        norm), one per 20 ms; T = ceil(samples at 16 kHz / 320)."""
        if not 0 <= layer <= self.n_layers:
            raise ValueError(f"layer {layer} outside 0..{self.n_layers}")
        x = self._stem(log_mel(audio))
        for i in range(min(layer + 1, self.n_layers)):
            x = self._block(x, f"encoder/layer_{i}")
        if layer == self.n_layers:
            x = _layer_norm(x, self.weights, "encoder/layer_norm")
        return x

    def _stem(self, mel: np.ndarray) -> np.ndarray:
        w = self.weights
        x = _gelu(_conv1d(mel.T, w["encoder/conv1/weight"], w["encoder/conv1/bias"], 1))
        x = _gelu(_conv1d(x, w["encoder/conv2/weight"], w["encoder/conv2/bias"], 2))
        return x + w["encoder/position_encodings/encodings"][: len(x)]

    def _block(self, x: np.ndarray, p: str) -> np.ndarray:
        w = self.weights
        h = _layer_norm(x, w, f"{p}/self_attention/layer_norm")
        qkv = h @ w[f"{p}/self_attention/linear_0/weight"].T + w[f"{p}/self_attention/linear_0/bias"]
        t, d = x.shape
        q, k, v = (m.reshape(t, self.n_heads, -1).transpose(1, 0, 2) for m in np.split(qkv, 3, axis=1))
        logits = q @ k.transpose(0, 2, 1) / np.sqrt(d // self.n_heads)
        logits = np.exp(logits - logits.max(axis=-1, keepdims=True))
        att = (logits / logits.sum(axis=-1, keepdims=True)) @ v
        att = att.transpose(1, 0, 2).reshape(t, d)
        x = x + att @ w[f"{p}/self_attention/linear_1/weight"].T + w[f"{p}/self_attention/linear_1/bias"]
        h = _layer_norm(x, w, f"{p}/ffn/layer_norm")
        h = _gelu(h @ w[f"{p}/ffn/linear_0/weight"].T + w[f"{p}/ffn/linear_0/bias"])
        return x + h @ w[f"{p}/ffn/linear_1/weight"].T + w[f"{p}/ffn/linear_1/bias"]


def log_mel(audio: Audio) -> np.ndarray:
    """Whisper's log-mel features (80, frames at 100 Hz) of ``audio`` (any rate, ≤ 30 s)."""
    from faster_whisper.feature_extractor import FeatureExtractor

    if audio.duration > MAX_SECONDS:
        raise AudioError(f"Encoder input is {audio.duration:.1f} s long; at most {MAX_SECONDS:g} s "
                         "go through at once: split it first.")
    x = resample(audio, ENCODER_SR).samples.astype(np.float32)
    with _LOCK:
        if not _EXTRACTOR:
            _EXTRACTOR.append(FeatureExtractor())
    mel = _EXTRACTOR[0](x, padding=0)
    return mel[:, : max(1, int(np.ceil(len(x) / 160)))]


_LOCK = threading.Lock()
_EXTRACTOR: list = []  # faster-whisper's FeatureExtractor, built once per process
_ENCODERS: dict[str, WhisperEncoder] = {}


def whisper_encoder(name: str = "tiny.en") -> WhisperEncoder:
    """The process-wide encoder of bundled model ``name`` (loaded on first use)."""
    with _LOCK:
        if name not in _ENCODERS:
            _ENCODERS[name] = WhisperEncoder.load(name)
        return _ENCODERS[name]


def phonetic_keys(audio: Audio, name: str = "tiny.en", layer: int = 1) -> np.ndarray:
    """Block ``layer``'s states (T, D) of bundled model ``name``'s encoder, one per 20 ms of
    ``audio`` (inputs over 30 s in 30 s pieces): the phonetic keys of the knn converter."""
    encoder = whisper_encoder(name)
    step = int(MAX_SECONDS * audio.sample_rate)
    pieces = [audio.samples[i: i + step] for i in range(0, len(audio.samples), step)]
    return np.concatenate([encoder.states(Audio(p, audio.sample_rate), layer)
                           for p in pieces if len(p)])
