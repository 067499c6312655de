"""Soprano backends: the LM step and the decoder on torch, ONNX Runtime or OpenVINO.

Each backend gives an LM runner (the :class:`~voxclone.tts.soprano.generate.LMRunner` protocol:
numpy logits and hidden states out) and a decoder (hidden states (B, 512, T) → audio
(B, 2048·(T-1)) at 32 kHz). The ONNX backends run the decoder graph and then the numpy ISTFT.
"int8" variants run the LM step and the decoder with int8 weights (see
:mod:`voxclone.tts.soprano.quantize`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from voxclone.errors import EngineUnavailable, InvalidSetting
from voxclone.onnx_session import cpu_session
from voxclone.tts.soprano.config import ISTFTConfig
from voxclone.tts.soprano.decoder import SopranoDecoder
from voxclone.tts.soprano.export import DECODER_FILE, ISTFT_FILE, LM_FILE, io_names
from voxclone.tts.soprano.istft import istft, istft_torch
from voxclone.tts.soprano.lm import Qwen3Step

BACKENDS = ("onnxruntime", "onnxruntime-int8", "openvino", "openvino-int8", "torch")


class TorchLM:
    """The LM step on torch (transformers' Qwen3 modules, explicit cache)."""

    def __init__(self, lm: Any) -> None:
        self.step = Qwen3Step(lm).eval()
        self.vocab_size = lm.config.vocab_size

    def empty_past(self, batch: int) -> list[torch.Tensor]:
        return self.step.empty_past(batch)

    @torch.no_grad()
    def run(self, input_ids: np.ndarray, attention_mask: np.ndarray, position_ids: np.ndarray,
            past: list[torch.Tensor]) -> tuple[np.ndarray, np.ndarray, list[torch.Tensor]]:
        logits, hidden, *present = self.step(torch.from_numpy(input_ids),
                                             torch.from_numpy(attention_mask),
                                             torch.from_numpy(position_ids), *past)
        return logits[:, -1].numpy(), hidden[:, -1].numpy(), present

    def select(self, past: list[torch.Tensor], rows: np.ndarray) -> list[torch.Tensor]:
        index = torch.from_numpy(rows)
        return [p.index_select(0, index) for p in past]


class TorchDecoder:
    """The decoder with torch.istft."""

    def __init__(self, decoder: SopranoDecoder) -> None:
        self.decoder = decoder.eval()

    @torch.no_grad()
    def spectrum(self, hidden: np.ndarray) -> np.ndarray:
        return self.decoder(torch.from_numpy(hidden)).numpy()

    @torch.no_grad()
    def finish(self, spec: np.ndarray) -> np.ndarray:
        """(B, bins, F, 2) → audio (B, hop·(F-1)) with torch.istft."""
        window = self.decoder.head.istft.window
        return istft_torch(torch.from_numpy(spec), window, self.decoder.config).numpy()

    def __call__(self, hidden: np.ndarray) -> np.ndarray:
        """(B, 512, T) → audio (B, 2048·(T-1))."""
        return self.finish(self.spectrum(np.ascontiguousarray(hidden, dtype=np.float32)))


class GraphLM:
    """The exported LM step run by a graph runtime (``call(feeds) → outputs in order``)."""

    def __init__(self, call: Any, num_layers: int, kv_heads: int, head_dim: int,
                 vocab_size: int) -> None:
        self._call = call
        self.inputs, self.outputs = io_names(num_layers)
        self.kv_heads, self.head_dim, self.vocab_size = kv_heads, head_dim, vocab_size

    def empty_past(self, batch: int) -> list[np.ndarray]:
        shape = (batch, self.kv_heads, 0, self.head_dim)
        return [np.zeros(shape, np.float32) for _ in self.inputs[3:]]

    def run(self, input_ids: np.ndarray, attention_mask: np.ndarray, position_ids: np.ndarray,
            past: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
        feeds = dict(zip(self.inputs, [input_ids, attention_mask, position_ids, *past]))
        logits, hidden, *present = self._call(feeds)
        return logits[:, -1], hidden[:, -1], present

    def select(self, past: list[np.ndarray], rows: np.ndarray) -> list[np.ndarray]:
        return [np.ascontiguousarray(p[rows]) for p in past]


class GraphDecoder:
    """The exported decoder graph, then the numpy ISTFT of ``istft.json``."""

    def __init__(self, call: Any, istft_cfg: ISTFTConfig) -> None:
        self._call, self.istft = call, istft_cfg

    def spectrum(self, hidden: np.ndarray) -> np.ndarray:
        return self._call({"hidden_states": np.ascontiguousarray(hidden, dtype=np.float32)})[0]

    def finish(self, spec: np.ndarray) -> np.ndarray:
        """(B, bins, F, 2) → audio (B, hop·(F-1)) with the numpy ISTFT."""
        return istft(spec, self.istft)

    def __call__(self, hidden: np.ndarray) -> np.ndarray:
        """(B, 512, T) → audio (B, 2048·(T-1))."""
        return self.finish(self.spectrum(hidden))


def ort_call(path: Path, num_threads: int) -> Any:
    """A function feeds → outputs over an onnxruntime CPU session."""
    session = cpu_session(Path(path), num_threads, "`pip install 'voxclone[soprano]'` "
                          "(backend='onnxruntime')")
    return lambda feeds: session.run(None, feeds)


def ov_call(path: Path, num_threads: int) -> Any:
    """A function feeds → outputs over an OpenVINO CPU model (read from ONNX, f32 inference)."""
    try:
        import openvino as ov
    except ImportError as exc:
        raise EngineUnavailable("backend='openvino' needs OpenVINO: "
                                "`pip install 'voxclone[soprano]'`.") from exc
    core = ov.Core()
    compiled = core.compile_model(core.read_model(str(path)), "CPU",
                                  {"INFERENCE_NUM_THREADS": num_threads,
                                   "INFERENCE_PRECISION_HINT": "f32",
                                   "PERFORMANCE_HINT": "LATENCY"})
    request = compiled.create_infer_request()
    outputs = compiled.outputs

    def call(feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        result = request.infer(feeds)
        return [np.array(result[o]) for o in outputs]
    return call


def graph_backend(name: str, onnx_dir: Path, lm_cfg: Any, num_threads: int
                  ) -> tuple[GraphLM, GraphDecoder]:
    """LM runner and decoder of a graph backend (``onnxruntime[-int8]``, ``openvino[-int8]``)."""
    from voxclone.tts.soprano.quantize import ensure_int8

    runtime, _, precision = name.partition("-")
    if runtime not in ("onnxruntime", "openvino") or precision not in ("", "int8"):
        raise InvalidSetting(f"Soprano backend {name!r}: use one of {', '.join(BACKENDS)}.")
    make = ort_call if runtime == "onnxruntime" else ov_call
    lm_path, decoder_path = (ensure_int8(onnx_dir, runtime) if precision == "int8"
                             else (onnx_dir / LM_FILE, onnx_dir / DECODER_FILE))
    head_dim = getattr(lm_cfg, "head_dim", None) or lm_cfg.hidden_size // lm_cfg.num_attention_heads
    lm = GraphLM(make(lm_path, num_threads), lm_cfg.num_hidden_layers,
                 lm_cfg.num_key_value_heads, head_dim, lm_cfg.vocab_size)
    istft_cfg = ISTFTConfig.from_dict(json.loads((onnx_dir / ISTFT_FILE).read_text()))
    return lm, GraphDecoder(make(decoder_path, num_threads), istft_cfg)
