"""Inference backends with one interface: PyTorch (eager), ONNX Runtime and OpenVINO.

Each runs the two graphs of :mod:`voxclone.convert.openvoice.export` on one clip:
``tone(frames (T, 513)) → (gin,)`` and ``convert(spec (513, T), g_src, g_tgt (gin,),
noise (inter, T)) → waveform (hop·T,)``; all arrays float32.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from voxclone.convert.openvoice.export import CONVERTER_FILE, REF_ENC_FILE
from voxclone.convert.openvoice.model import SynthesizerTrn
from voxclone.errors import EngineUnavailable, InvalidSetting
from voxclone.onnx_session import cpu_session

BACKENDS = ("torch", "onnxruntime", "onnxruntime-int8", "openvino")


class Backend(Protocol):
    """Runs the reference encoder and the conversion graph."""

    name: str

    def tone(self, frames: np.ndarray) -> np.ndarray:
        """Spectrogram frames (T, 513) → tone colour (gin,)."""
        ...

    def convert(self, spec: np.ndarray, g_src: np.ndarray, g_tgt: np.ndarray,
                noise: np.ndarray) -> np.ndarray:
        """Spectrogram (513, T), tone colours (gin,), scaled noise (inter, T) → samples (hop·T,)."""
        ...


def default_threads() -> int:
    """Threads per backend: the cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class TorchBackend:
    """PyTorch eager inference on the CPU."""

    name = "torch"

    def __init__(self, model: SynthesizerTrn, num_threads: int | None = None) -> None:
        self.model = model.eval()
        self.num_threads = num_threads

    def _threads(self):
        if self.num_threads:
            torch.set_num_threads(self.num_threads)
        return torch.inference_mode()

    def tone(self, frames: np.ndarray) -> np.ndarray:
        with self._threads():
            return self.model.ref_enc(torch.from_numpy(frames)[None])[0].numpy()

    def convert(self, spec: np.ndarray, g_src: np.ndarray, g_tgt: np.ndarray,
                noise: np.ndarray) -> np.ndarray:
        with self._threads():
            t = spec.shape[1]
            out = self.model.voice_conversion(
                torch.from_numpy(spec)[None], torch.ones(1, 1, t), torch.from_numpy(g_src)[None, :, None],
                torch.from_numpy(g_tgt)[None, :, None], torch.from_numpy(noise)[None])
            return out[0, 0].numpy()


def converter_feeds(spec: np.ndarray, g_src: np.ndarray, g_tgt: np.ndarray,
                    noise: np.ndarray) -> dict[str, np.ndarray]:
    """Inputs of ``converter.onnx`` from one clip's spec (513, T), tones (gin,), noise (inter, T)."""
    return {"spec": spec[None], "g_src": g_src[None, :, None], "g_tgt": g_tgt[None, :, None],
            "noise": noise[None]}


class OnnxRuntimeBackend:
    """ONNX Runtime (CPU execution provider, all graph optimisations, threads that sleep when idle).

    ``converter_file``: the conversion graph to run, e.g. the int8 one of
    :mod:`voxclone.convert.openvoice.quantize` (the reference encoder stays float32), and
    ``name`` the backend name it stands for.
    """

    def __init__(self, onnx_dir: Path, num_threads: int | None = None,
                 converter_file: str = CONVERTER_FILE, name: str = "onnxruntime") -> None:
        self.name = name
        # no busy-waiting between operators: measured 8% faster on 2 cores shared with other work
        make = lambda f: cpu_session(Path(onnx_dir) / f, num_threads or default_threads(),  # noqa: E731
                                     "`pip install 'voxclone[neural]'` (backend='onnxruntime')",
                                     spinning=False)
        self._ref, self._conv = make(REF_ENC_FILE), make(converter_file)

    def tone(self, frames: np.ndarray) -> np.ndarray:
        return self._ref.run(None, {"spec": frames[None]})[0][0]

    def convert(self, spec: np.ndarray, g_src: np.ndarray, g_tgt: np.ndarray,
                noise: np.ndarray) -> np.ndarray:
        return self._conv.run(None, converter_feeds(spec, g_src, g_tgt, noise))[0][0, 0]


class OpenVinoBackend:
    """OpenVINO on the CPU. ``precision`` "f32" (exact) or "bf16" (faster where the CPU has
    bfloat16 units; about 1e-4 lower PCC)."""

    name = "openvino"

    def __init__(self, onnx_dir: Path, num_threads: int | None = None, precision: str = "f32") -> None:
        if precision not in ("f32", "bf16"):
            raise InvalidSetting(f"precision={precision!r}: use 'f32' or 'bf16'.")
        try:
            import openvino as ov
        except ImportError as exc:
            raise EngineUnavailable("backend='openvino' needs OpenVINO: "
                                    "`pip install 'voxclone[openvoice]'`.") from exc
        core = ov.Core()
        cfg = {"INFERENCE_NUM_THREADS": num_threads or default_threads(),
               "INFERENCE_PRECISION_HINT": precision, "PERFORMANCE_HINT": "LATENCY"}
        self._ref = core.compile_model(str(Path(onnx_dir) / REF_ENC_FILE), "CPU", cfg)
        self._conv = core.compile_model(str(Path(onnx_dir) / CONVERTER_FILE), "CPU", cfg)
        self.name = "openvino" if precision == "f32" else "openvino-bf16"

    def tone(self, frames: np.ndarray) -> np.ndarray:
        return np.asarray(self._ref({"spec": frames[None]})[0])[0]

    def convert(self, spec: np.ndarray, g_src: np.ndarray, g_tgt: np.ndarray,
                noise: np.ndarray) -> np.ndarray:
        return np.asarray(self._conv(converter_feeds(spec, g_src, g_tgt, noise))[0])[0, 0]
