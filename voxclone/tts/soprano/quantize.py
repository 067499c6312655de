"""int8 variants of the Soprano graphs, made once per checkpoint beside the float32 ones and kept
only if they pass a teacher-forced quality gate against float32 (LM hidden-state PCC >= 0.99,
decoder audio PCC >= 0.999; the measured values are saved in ``<runtime>-int8.json``).

- onnxruntime: ``lm_step.int8.onnx`` (block-wise ``MatMulNBits``: int8 weights in blocks of 128,
  activations quantized per block inside the kernel) and ``decoder.int8.onnx`` (dynamic
  quantization: int8 weights per channel, uint8 activations per tensor).
- openvino: ``lm_step.ov-int8.xml`` / ``decoder.ov-int8.xml`` (NNCF int8 weight compression).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from voxclone.errors import EngineUnavailable
from voxclone.tts.soprano.export import (DECODER_FILE, LM_FILE, STAMP, write_atomic, io_names,
                                         is_current)

LM_INT8_FILE, DECODER_INT8_FILE = "lm_step.int8.onnx", "decoder.int8.onnx"
INT8_RECIPE = "ort-lm-matmulnbits8-b128-acc4-decoder-dynamic-qint8-reduced-v4"
OV_INT8_RECIPE = "nncf-int8-asym-weights-v1"
INT8_MIN_HIDDEN_PCC, INT8_MIN_AUDIO_PCC = 0.99, 0.999


def ensure_int8(onnx_dir: Path, runtime: str = "onnxruntime") -> tuple[Path, Path]:
    """int8 LM step and decoder of ``runtime`` made from the current graphs, once, and
    refused (EngineUnavailable) unless they pass :func:`int8_gate`."""
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
        write_atomic(report_path, json.dumps({"recipe": recipe, **report}, indent=1))
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
    dynamic quantization for the decoder with 7-bit weights (``reduce_range``: on CPUs without
    VNNI, AVX2's u8 × s8 products saturate with full-range weights; the tiny test model's audio
    PCC there was 0.9988 with them, 0.99996 without)."""
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
                             weight_type=QuantType.QInt8, per_channel=True, reduce_range=True)
        os.replace(tmp, target)
    finally:
        root.setLevel(level)
        Path(tmp).unlink(missing_ok=True)
