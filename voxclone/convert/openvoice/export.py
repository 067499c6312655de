"""ONNX export of the two graphs the ONNX backends run (dynamic time axis, batch 1).

- ``ref_enc.onnx``: ``spec`` (1, T, 513) → ``tone`` (1, gin).
- ``converter.onnx``: ``spec`` (1, 513, T), ``g_src``/``g_tgt`` (1, gin, 1), ``noise`` (1, inter, T)
  (standard normal noise times tau) → ``audio`` (1, 1, hop·T): posterior encoder → flow →
  reverse flow → decoder.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

import torch
from torch import nn

from voxclone.convert.openvoice.model import SynthesizerTrn

REF_ENC_FILE = "ref_enc.onnx"
CONVERTER_FILE = "converter.onnx"
OPSET = 17


class ConversionGraph(nn.Module):
    """``SynthesizerTrn.voice_conversion`` for one unpadded clip (the mask is all ones)."""

    def __init__(self, model: SynthesizerTrn) -> None:
        super().__init__()
        self.model = model

    def forward(self, spec: torch.Tensor, g_src: torch.Tensor, g_tgt: torch.Tensor,
                noise: torch.Tensor) -> torch.Tensor:
        mask = torch.ones_like(spec[:, :1, :])
        return self.model.voice_conversion(spec, mask, g_src, g_tgt, noise)


def is_current(stamp: Path, key: str, files: list[Path]) -> bool:
    """Whether ``files`` exist and ``stamp`` holds ``key`` (what they were built from)."""
    return all(f.is_file() for f in files) and stamp.is_file() and stamp.read_text() == key


def export_onnx(model: SynthesizerTrn, out_dir: Path) -> dict[str, Path]:
    """Write ``ref_enc.onnx`` and ``converter.onnx`` into ``out_dir`` (atomically); returns paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cfg = model.config
    spec_ch, gin, inter = cfg.spec_channels, cfg.model.gin_channels, cfg.model.inter_channels
    t = 64
    ref_path = _export(model.ref_enc, (torch.randn(1, t, spec_ch),), ["spec"], ["tone"],
                       {"spec": {1: "frames"}}, out_dir / REF_ENC_FILE)
    conv_inputs = (torch.rand(1, spec_ch, t), torch.randn(1, gin, 1), torch.randn(1, gin, 1),
                   torch.zeros(1, inter, t))
    conv_path = _export(ConversionGraph(model), conv_inputs, ["spec", "g_src", "g_tgt", "noise"],
                        ["audio"], {"spec": {2: "frames"}, "noise": {2: "frames"},
                                    "audio": {2: "samples"}}, out_dir / CONVERTER_FILE)
    return {"ref_enc": ref_path, "converter": conv_path}


def _export(module: nn.Module, args: tuple[torch.Tensor, ...], inputs: list[str],
            outputs: list[str], axes: dict[str, dict[int, str]], path: Path) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", suffix=".onnx", dir=path.parent)
    os.close(fd)
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(module.eval(), args, tmp, input_names=inputs, output_names=outputs,
                              dynamic_axes=axes, opset_version=OPSET, dynamo=False)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path
