"""ONNX graphs of Soprano, made once per checkpoint into ``<model_dir>/onnx`` and stamped.

- ``lm_step.onnx``: :class:`~voxclone.tts.soprano.lm.Qwen3Step` (prefill and one-token steps):
  inputs ``input_ids``, ``attention_mask``, ``position_ids``, ``past_key_values.{i}.key/value``;
  outputs ``logits``, ``last_hidden_state`` (post-norm), ``present.{i}.key/value``.
- ``decoder.onnx``: ``hidden_states`` (B, 512, T) → ``spec`` (B, 1025, 4(T-1)+1, 2), before the
  ISTFT; ``istft.json`` beside it holds the CPU post-process's settings.
- ``lm_step.int8.onnx`` / ``decoder.int8.onnx``: both with int8 MatMul weights (ONNX Runtime
  block-wise ``MatMulNBits`` for the LM, dynamic quantization for the decoder), made on first use of an int8 backend and kept only if they pass a
  teacher-forced quality gate (LM hidden-state PCC >= 0.99, decoder audio PCC >= 0.999 against
  float32; the measured values are saved in ``onnxruntime-int8.json``).
- ``lm_step.ov-int8.xml`` / ``decoder.ov-int8.xml``: OpenVINO models with NNCF int8 weight
  compression, under the same gate (``openvino-int8.json``).

``checkpoint.id`` holds what the graphs were made from (file hashes, export recipe, torch
version); a changed checkpoint or recipe exports again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import torch

from voxclone.errors import EngineUnavailable
from voxclone.tts.soprano.config import ISTFTConfig
from voxclone.tts.soprano.decoder import SopranoDecoder
from voxclone.tts.soprano.lm import Qwen3Step

ONNX_SUBDIR = "onnx"
LM_FILE, DECODER_FILE, ISTFT_FILE = "lm_step.onnx", "decoder.onnx", "istft.json"
LM_INT8_FILE, DECODER_INT8_FILE = "lm_step.int8.onnx", "decoder.int8.onnx"
STAMP = "checkpoint.id"
INT8_MIN_HIDDEN_PCC, INT8_MIN_AUDIO_PCC = 0.99, 0.999
RECIPE = "soprano-onnx-v1"
INT8_RECIPE = "ort-lm-matmulnbits8-b128-acc4-decoder-dynamic-qint8-v3"
OV_INT8_RECIPE = "nncf-int8-asym-weights-v1"
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
    _write_atomic(path.parent / ISTFT_FILE, json.dumps(istft.to_dict(), indent=1))
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


def ensure_int8(onnx_dir: Path, runtime: str = "onnxruntime") -> tuple[Path, Path]:
    """int8 LM step and decoder made from the current graphs, once, and refused
    (EngineUnavailable) unless they pass :func:`int8_gate`.

    onnxruntime: ``lm_step.int8.onnx`` (``MatMulNBits``: int8 weights in blocks of 128 along
    the input axis, activations quantized per block inside the kernel) / ``decoder.int8.onnx``
    (dynamic quantization: int8 weights per channel, uint8 activations per tensor). openvino: ``lm_step.ov-int8.xml`` / ``decoder.ov-int8.xml``
    (NNCF int8 weight compression of the OpenVINO models).
    """
    onnx_dir = Path(onnx_dir)
    sources = (onnx_dir / LM_FILE, onnx_dir / DECODER_FILE)
    if runtime == "onnxruntime":
        targets, recipe = (onnx_dir / LM_INT8_FILE, onnx_dir / DECODER_INT8_FILE), INT8_RECIPE
        make = lambda source, target: _quantize(source, target, lm=source.name == LM_FILE)  # noqa: E731
    else:
        targets = (onnx_dir / "lm_step.ov-int8.xml", onnx_dir / "decoder.ov-int8.xml")
        recipe, make = OV_INT8_RECIPE, _compress_openvino
    stamp, report_path = onnx_dir / f"{runtime}-int8.id", onnx_dir / f"{runtime}-int8.json"
    key = f"{recipe}:{(onnx_dir / STAMP).read_text()}"
    if not is_current(stamp, key, [*targets, report_path]):
        stamp.unlink(missing_ok=True)
        for source, target in zip(sources, targets):
            make(source, target)
        report = int8_gate(onnx_dir, targets, runtime)
        _write_atomic(report_path, json.dumps({"recipe": recipe, **report}, indent=1))
        stamp.write_text(key)
    report = json.loads(report_path.read_text())
    if not report["passed"]:
        raise EngineUnavailable(
            f"The int8 Soprano graphs ({runtime}) failed their quality gate (LM hidden-state PCC "
            f"{report['lm_hidden_pcc']:.5f}, decoder audio PCC {report['decoder_audio_pcc']:.5f}; "
            f"needed {INT8_MIN_HIDDEN_PCC} and {INT8_MIN_AUDIO_PCC}): use backend='{runtime}'.")
    return targets


def int8_gate(onnx_dir: Path, int8: tuple[Path, Path], runtime: str = "onnxruntime",
              tokens: int = 96, seed: int = 0) -> dict[str, Any]:
    """Teacher-forced check of int8 graphs against the float32 ones on random audio-token ids:
    PCC of the LM's hidden states, and PCC of the decoder's audio from the float32 states."""
    import numpy as np

    from voxclone.tts.soprano.backends import ort_call, ov_call
    from voxclone.tts.soprano.istft import istft

    make = ort_call if runtime == "onnxruntime" else ov_call
    ids = np.random.default_rng(seed).integers(4, 8004, (1, tokens))
    inputs, _ = io_names(_num_layers(onnx_dir / LM_FILE))
    kv_heads, head_dim = _past_shape(onnx_dir / LM_FILE)
    past = [np.zeros((1, kv_heads, 0, head_dim), np.float32) for _ in inputs[3:]]
    feeds = dict(zip(inputs, [ids, np.ones_like(ids), np.arange(tokens)[None], *past]))
    states = [make(path, 1)(feeds)[1][0] for path in (onnx_dir / LM_FILE, int8[0])]
    hidden = np.ascontiguousarray(states[0].T[None], dtype=np.float32)
    audio = [istft(make(path, 1)({"hidden_states": hidden})[0])
             for path in (onnx_dir / DECODER_FILE, int8[1])]
    lm_pcc = float(np.corrcoef(states[0].ravel(), states[1].ravel())[0, 1])
    audio_pcc = float(np.corrcoef(audio[0].ravel(), audio[1].ravel())[0, 1])
    snr = float(10 * np.log10((audio[0] ** 2).sum() / max(((audio[0] - audio[1]) ** 2).sum(), 1e-30)))
    return {"lm_hidden_pcc": lm_pcc, "decoder_audio_pcc": audio_pcc, "decoder_audio_snr_db": snr,
            "passed": lm_pcc >= INT8_MIN_HIDDEN_PCC and audio_pcc >= INT8_MIN_AUDIO_PCC}


def _compress_openvino(source: Path, target: Path) -> None:
    """NNCF int8 (asymmetric, per channel) weight compression of an ONNX graph, saved as IR."""
    try:
        import nncf
        import openvino as ov
    except ImportError as exc:
        raise EngineUnavailable("backend='openvino-int8' needs OpenVINO and NNCF: "
                                "`pip install 'voxclone[soprano]'`.") from exc
    model = nncf.compress_weights(ov.Core().read_model(str(source)),
                                  mode=nncf.CompressWeightsMode.INT8_ASYM)
    tmp = target.with_name(f".{target.stem}.tmp.xml")
    ov.save_model(model, str(tmp), compress_to_fp16=False)
    os.replace(tmp.with_suffix(".bin"), target.with_suffix(".bin"))
    os.replace(tmp, target)


def _num_layers(path: Path) -> int:
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    return sum(1 for i in model.graph.input if i.name.endswith(".key"))


def _past_shape(path: Path) -> tuple[int, int]:
    """(kv_heads, head_dim) of the LM graph's past inputs."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    dims = next(i for i in model.graph.input if i.name.endswith(".key")).type.tensor_type.shape.dim
    return dims[1].dim_value, dims[3].dim_value


def _quantize(source: Path, target: Path, lm: bool) -> None:
    """int8 MatMul weights: block-wise ``MatMulNBits`` for the LM step (per-tensor dynamic
    activations cost it too much accuracy: hidden-state PCC 0.985 on random full-size weights),
    dynamic quantization for the decoder."""
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:
        raise EngineUnavailable("int8 Soprano needs onnxruntime: "
                                "`pip install 'voxclone[soprano]'`.") from exc
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}-", suffix=".onnx", dir=target.parent)
    os.close(fd)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # the quantizers' advice and progress, logged on the root
    try:
        if lm:
            import onnx
            from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

            quantizer = MatMulNBitsQuantizer(onnx.load(str(source)), bits=8, block_size=128,
                                             is_symmetric=True, accuracy_level=4)
            quantizer.process()
            quantizer.model.save_model_to_file(tmp, False)
        else:
            quantize_dynamic(str(source), tmp, op_types_to_quantize=["MatMul"],
                             weight_type=QuantType.QInt8, per_channel=True)
        os.replace(tmp, target)
    finally:
        root.setLevel(level)
        Path(tmp).unlink(missing_ok=True)


def _write_atomic(path: Path, text: str) -> None:
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
