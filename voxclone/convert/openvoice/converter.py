"""``OpenVoiceConverter``: the OpenVoice V2 tone-colour converter behind a small numpy API."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from voxclone.audio.dsp import resample
from voxclone.audio.types import Audio
from voxclone.convert.openvoice.backends import (BACKENDS, Backend, OnnxRuntimeBackend, OpenVinoBackend,
                                                 TorchBackend)
from voxclone.convert.openvoice.checkpoint import CHECKPOINT_FILE, load_model, read_config, require_files
from voxclone.convert.openvoice.config import OpenVoiceConfig
from voxclone.convert.openvoice.export import CONVERTER_FILE, REF_ENC_FILE, export_onnx, is_current
from voxclone.convert.openvoice.spectrogram import frames_of, linear_spectrogram, n_frames, pad_signal
from voxclone.convert.openvoice.speech import speech_pieces
from voxclone.convert.openvoice.quantize import ensure_int8
from voxclone.errors import InvalidSetting, SilentReference

ONNX_SUBDIR = "onnx"


class OpenVoiceConverter:
    """Tone colours and conversion with one loaded converter.

    ``chunk_s`` / ``context_s``: long inputs are converted ``chunk_s`` seconds at a time, each
    chunk seeing ``context_s`` seconds of its neighbours (more than the network's receptive field,
    about 1.3 s), so memory stays flat and the output equals a whole-clip pass.
    """

    def __init__(self, backend: Backend, config: OpenVoiceConfig, checkpoint_id: str = "",
                 chunk_s: float = 30.0, context_s: float = 2.0) -> None:
        self.backend = backend
        self.config = config
        self.checkpoint_id = checkpoint_id
        self.sample_rate = config.data.sampling_rate
        frames_per_s = self.sample_rate / config.data.hop_length
        self.chunk_frames = max(1, int(chunk_s * frames_per_s))
        self.context_frames = int(np.ceil(context_s * frames_per_s))

    @classmethod
    def from_pretrained(cls, model_dir: str | Path, backend: str = "torch",
                        num_threads: int | None = None, precision: str = "f32",
                        **options: float) -> "OpenVoiceConverter":
        """Load ``model_dir``/config.json + checkpoint.pth (strict). The ONNX backends export the
        graphs once into ``model_dir``/onnx (again whenever the checkpoint changes);
        "onnxruntime-int8" also quantizes the conversion graph there once (calibrated on espeak-ng
        speech, about a minute); ``precision`` "bf16" is for OpenVINO; ``options``: ``chunk_s``,
        ``context_s``."""
        if backend not in BACKENDS:
            raise InvalidSetting(f"backend={backend!r}: use one of {', '.join(BACKENDS)}.")
        if precision != "f32" and backend != "openvino":
            raise InvalidSetting(f"precision={precision!r} needs backend='openvino'.")
        model_dir = Path(model_dir)
        config_path, _ = require_files(model_dir)
        checkpoint_id = file_id(model_dir / CHECKPOINT_FILE)
        if backend == "torch":
            model = load_model(model_dir)
            return cls(TorchBackend(model, num_threads), model.config, checkpoint_id, **options)
        onnx_dir = ensure_onnx(model_dir, checkpoint_id)
        config = read_config(config_path)
        runner: Backend
        if backend == "onnxruntime":
            runner = OnnxRuntimeBackend(onnx_dir, num_threads)
        elif backend == "onnxruntime-int8":
            int8 = ensure_int8(onnx_dir, config, checkpoint_id)
            runner = OnnxRuntimeBackend(onnx_dir, num_threads, int8.name, name=backend)
        else:
            runner = OpenVinoBackend(onnx_dir, num_threads, precision)
        return cls(runner, config, checkpoint_id, **options)

    def extract_tone_color(self, audio: Audio, vad: bool = True) -> np.ndarray:
        """Tone colour (gin,) of the speaker of ``audio``.

        vad=True: speech found by silero-vad, cut into ~10 s pieces, reference-encoder outputs
        averaged. vad=False: one pass over the whole clip (OpenVoice's ``extract_se``).
        """
        a = resample(audio, self.sample_rate)
        pieces = speech_pieces(a) if vad else [a]
        if not pieces:
            raise SilentReference("No speech found in the reference (silero-vad): give a clip with "
                                  "speech, or extract with vad=False.")
        tones = [self.backend.tone(np.ascontiguousarray(self._spectrogram(p).T)) for p in pieces]
        return np.mean(tones, axis=0).astype(np.float32)

    def convert(self, audio: Audio, src_tone: np.ndarray, tgt_tone: np.ndarray, tau: float = 0.3,
                seed: int | None = None) -> Audio:
        """``audio`` re-voiced from ``src_tone`` to ``tgt_tone``, at the model rate (22050 Hz).

        tau scales the posterior noise (0: deterministic); ``seed`` fixes the noise otherwise.
        """
        if tau < 0:
            raise InvalidSetting(f"tau={tau} is negative: use 0 (deterministic) or more.")
        g_src, g_tgt = self._tone(src_tone, "src_tone"), self._tone(tgt_tone, "tgt_tone")
        a = resample(audio, self.sample_rate)
        data = self.config.data
        padded = pad_signal(a.samples, data)
        total = n_frames(len(a), data)
        inter = self.config.model.inter_channels
        rng = np.random.default_rng(seed)
        out = np.zeros(total * data.hop_length, dtype=np.float32)
        for start in range(0, total, self.chunk_frames):
            end = min(total, start + self.chunk_frames)
            lo, hi = max(0, start - self.context_frames), min(total, end + self.context_frames)
            spec = frames_of(padded, lo, hi, data).numpy()
            noise = np.zeros((inter, hi - lo), np.float32)
            if tau > 0:
                noise = (tau * rng.standard_normal((inter, hi - lo))).astype(np.float32)
            wav = self.backend.convert(spec, g_src, g_tgt, noise)
            out[start * data.hop_length:end * data.hop_length] = \
                wav[(start - lo) * data.hop_length:(end - lo) * data.hop_length]
        return Audio(out, self.sample_rate)

    def _spectrogram(self, audio: Audio) -> np.ndarray:
        return linear_spectrogram(audio.samples, self.config.data).numpy()

    def _tone(self, tone: np.ndarray, what: str) -> np.ndarray:
        g = np.asarray(tone, dtype=np.float32).reshape(-1)
        if g.shape != (self.config.model.gin_channels,) or not np.isfinite(g).all():
            raise InvalidSetting(f"{what} must be {self.config.model.gin_channels} finite values "
                                 f"(from extract_tone_color), got shape {np.shape(tone)}.")
        return g


def file_id(path: Path) -> str:
    """Short SHA-256 of a file (identifies a checkpoint in versions and exports)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def ensure_onnx(model_dir: Path, checkpoint_id: str, model=None) -> Path:
    """``model_dir``/onnx holding graphs exported from the current checkpoint (exported if not)."""
    onnx_dir = Path(model_dir) / ONNX_SUBDIR
    stamp = onnx_dir / "checkpoint.id"
    if is_current(stamp, checkpoint_id, [onnx_dir / REF_ENC_FILE, onnx_dir / CONVERTER_FILE]):
        return onnx_dir
    export_onnx(model if model is not None else load_model(model_dir), onnx_dir)
    stamp.write_text(checkpoint_id)
    return onnx_dir

