"""ONNX graphs of Soprano, made once per checkpoint into ``<model_dir>/onnx`` and stamped.

- ``lm_step.onnx``: :class:`~voxclone.tts.soprano.lm.Qwen3Step` (prefill and one-token steps):
  inputs ``input_ids``, ``attention_mask``, ``position_ids``, ``past_key_values.{i}.key/value``;
  outputs ``logits``, ``last_hidden_state`` (post-norm), ``present.{i}.key/value``.
- ``decoder.onnx``: ``hidden_states`` (B, 512, T) → ``spec`` (B, 1025, 4(T-1)+1, 2), before the
  ISTFT; ``istft.json`` beside it holds the CPU post-process's settings.
- int8 variants of both: see :mod:`voxclone.tts.soprano.quantize`.

``checkpoint.id`` holds what the graphs were made from (file hashes, export recipe, torch
version); a changed checkpoint or recipe exports again.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import torch

from voxclone.tts.soprano.config import ISTFTConfig
from voxclone.tts.soprano.decoder import SopranoDecoder
from voxclone.tts.soprano.lm import Qwen3Step

ONNX_SUBDIR = "onnx"
LM_FILE, DECODER_FILE, ISTFT_FILE = "lm_step.onnx", "decoder.onnx", "istft.json"
STAMP = "checkpoint.id"
RECIPE = "soprano-onnx-v1"
OPSET = 17


def io_names(num_layers: int) -> tuple[list[str], list[str]]:
    """Input and output names of the LM step graph."""
    past = [f"past_key_values.{i}.{kind}" for i in range(num_layers) for kind in ("key", "value")]
    present = [f"present.{i}.{kind}" for i in range(num_layers) for kind in ("key", "value")]
    return (["input_ids", "attention_mask", "position_ids", *past],
            ["logits", "last_hidden_state", *present])


def checkpoint_id(model_dir: Path) -> str:
    """Hash of the checkpoint files, the export recipe and the torch version."""
    digest = hashlib.sha256(f"{RECIPE}:{torch.__version__}".encode())
    for name in ("config.json", "model.safetensors", "decoder.pth"):
        with (Path(model_dir) / name).open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:24]


def is_current(stamp: Path, key: str, files: list[Path]) -> bool:
    """Whether ``files`` exist and ``stamp`` holds ``key``."""
    return all(f.is_file() for f in files) and stamp.is_file() and stamp.read_text() == key


def export_lm(lm: Any, path: Path) -> Path:
    """Trace the LM step (dynamic batch, new and past lengths) into ``path``."""
    step = Qwen3Step(lm).eval()
    inputs, outputs = io_names(step.num_layers)
    past = [torch.randn(1, step.kv_heads, 2, step.head_dim) for _ in range(2 * step.num_layers)]
    args = (torch.tensor([[5, 6, 7]]), torch.ones(1, 5, dtype=torch.int64),
            torch.tensor([[2, 3, 4]]), *past)
    axes: dict[str, dict[int, str]] = {"input_ids": {0: "batch", 1: "new"},
                                       "attention_mask": {0: "batch", 1: "total"},
                                       "position_ids": {0: "batch", 1: "new"},
                                       "logits": {0: "batch", 1: "new"},
                                       "last_hidden_state": {0: "batch", 1: "new"}}
    axes.update({n: {0: "batch", 2: "past"} for n in inputs[3:]})
    axes.update({n: {0: "batch", 2: "total"} for n in outputs[2:]})
    return _export(step, args, inputs, outputs, axes, path)


def export_decoder(decoder: SopranoDecoder, path: Path) -> Path:
    """Trace the decoder before its ISTFT into ``path``; write ``istft.json`` beside it."""
    cfg = decoder.config
    args = (torch.randn(1, cfg.input_channels, 7),)
    _export(decoder.eval(), args, ["hidden_states"], ["spec"],
            {"hidden_states": {0: "batch", 2: "tokens"}, "spec": {0: "batch", 2: "frames"}}, path)
    istft = ISTFTConfig(n_fft=cfg.n_fft, hop_length=cfg.hop_length, win_length=cfg.n_fft)
    write_atomic(path.parent / ISTFT_FILE, json.dumps(istft.to_dict(), indent=1))
    return path


def ensure_graphs(model_dir: Path, lm: Any = None, decoder: SopranoDecoder | None = None) -> Path:
    """``<model_dir>/onnx`` with graphs of the current checkpoint (exported if stale or absent)."""
    from voxclone.tts.soprano.checkpoint import load_decoder, load_lm

    model_dir = Path(model_dir)
    onnx_dir = model_dir / ONNX_SUBDIR
    key = checkpoint_id(model_dir)
    files = [onnx_dir / LM_FILE, onnx_dir / DECODER_FILE, onnx_dir / ISTFT_FILE]
    if is_current(onnx_dir / STAMP, key, files):
        return onnx_dir
    onnx_dir.mkdir(parents=True, exist_ok=True)
    (onnx_dir / STAMP).unlink(missing_ok=True)
    export_lm(lm if lm is not None else load_lm(model_dir), onnx_dir / LM_FILE)
    export_decoder(decoder if decoder is not None else load_decoder(model_dir / "decoder.pth"),
                   onnx_dir / DECODER_FILE)
    (onnx_dir / STAMP).write_text(key)
    return onnx_dir


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _export(module: torch.nn.Module, args: tuple[torch.Tensor, ...], inputs: list[str],
            outputs: list[str], axes: dict[str, dict[int, str]], path: Path) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", suffix=".onnx", dir=path.parent)
    os.close(fd)
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(module, args, tmp, input_names=inputs, output_names=outputs,
                              dynamic_axes=axes, opset_version=OPSET, dynamo=False)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path
