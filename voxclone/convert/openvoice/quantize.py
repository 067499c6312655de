"""Int8 variant of the conversion graph for ONNX Runtime (backend ``onnxruntime-int8``).

Static quantization in QDQ form of the convolutions (per-channel int8 weights, uint8
activations, min/max calibration), except those of the decoder's last upsampling stage (its
resblocks, its transposed convolution and ``conv_post``), which write the waveform at full rate;
everything else stays float32. Measured on the released V2 config with random weights, 10 s of
speech, 2 threads, on a busy machine (2026-11-25), PCC against float32 / RTF:

- every convolution int8: 0.9981-0.9994 (two weight seeds) / 0.22-0.25;
- the last stage kept float (this module): 0.99955 / 0.33, where float32 ran at about 0.65;
- the last two stages kept float: 0.99983 / 0.38;
- additions and activations int8 as well: 0.9985 / 0.18.

On the idle machine (``make bench``): RTF 0.154 against 0.326 for float32 ONNX Runtime and 0.443
for torch eager (2.87x), PCC 0.99956.

The calibration input is speech of the embedded espeak-ng engine in two voices, each converted
into the other's tone colour, with and without posterior noise: a real checkpoint's activation
ranges are measured on speech, not on random numbers.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from voxclone.audio.dsp import resample
from voxclone.convert.openvoice.config import OpenVoiceConfig
from voxclone.convert.openvoice.backends import converter_feeds
from voxclone.convert.openvoice.export import CONVERTER_FILE, REF_ENC_FILE, is_current
from voxclone.convert.openvoice.spectrogram import linear_spectrogram
from voxclone.errors import EngineUnavailable
from voxclone.int8 import quantize_int8

log = logging.getLogger(__name__)

CONVERTER_INT8_FILE = "converter-int8.onnx"
INT8_STAMP = "converter-int8.id"
RECIPE = "int8-v1"
"""Names the quantization recipe in the stamp: a new recipe quantizes again."""
QUANTIZED_OPS = ("Conv", "ConvTranspose")
CALIBRATION_TEXTS = (
    "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background.",
    "It is easy to tell the depth of a well. These days a chicken leg is a rare dish.",
)
CALIBRATION_VOICES = ("en-us+m3", "en-us+f3")


def ensure_int8(onnx_dir: Path, config: OpenVoiceConfig, checkpoint_id: str) -> Path:
    """``onnx_dir``/converter-int8.onnx for the current checkpoint (quantized once, then reused)."""
    onnx_dir = Path(onnx_dir)
    target, stamp = onnx_dir / CONVERTER_INT8_FILE, onnx_dir / INT8_STAMP
    key = f"{checkpoint_id}:{RECIPE}"
    if is_current(stamp, key, [target]):
        return target
    log.info("quantizing the OpenVoice conversion graph to int8 (once per checkpoint)")
    quantize_converter(onnx_dir, list(calibration_feeds(onnx_dir, config)), target, config)
    stamp.write_text(key)
    return target


def quantize_converter(onnx_dir: Path, feeds: list[dict[str, np.ndarray]], target: Path,
                       config: OpenVoiceConfig) -> Path:
    """Write the int8 conversion graph to ``target`` (atomically), calibrated on ``feeds``
    (inputs of ``converter.onnx``: spec, g_src, g_tgt, noise)."""
    try:
        from onnxruntime.quantization.shape_inference import quant_pre_process
    except ImportError as exc:
        raise EngineUnavailable("backend='onnxruntime-int8' needs onnxruntime: "
                                "`pip install 'voxclone[neural]'`.") from exc

    with tempfile.TemporaryDirectory(dir=onnx_dir) as tmp:
        prepared, out = Path(tmp) / "prepared.onnx", Path(tmp) / CONVERTER_INT8_FILE
        quant_pre_process(str(Path(onnx_dir) / CONVERTER_FILE), str(prepared),
                          skip_symbolic_shape=True)
        quantize_int8(prepared, out, feeds, QUANTIZED_OPS, float_nodes(prepared, config),
                      "backend='onnxruntime-int8'")
        os.replace(out, target)
    return target


def float_nodes(graph: Path, config: OpenVoiceConfig) -> list[str]:
    """Names of the convolutions kept float32: the decoder's last upsampling stage."""
    import onnx

    model = config.model
    last = len(model.upsample_rates) - 1
    per_stage = len(model.resblock_kernel_sizes)
    prefixes = (f"/dec/ups.{last}/", "/dec/conv_post/",
                *(f"/dec/resblocks.{last * per_stage + j}/" for j in range(per_stage)))
    nodes = onnx.load(str(graph), load_external_data=False).graph.node
    return [n.name for n in nodes if n.op_type in QUANTIZED_OPS and n.name.startswith(prefixes)]


def calibration_feeds(onnx_dir: Path, config: OpenVoiceConfig) -> Iterator[dict[str, np.ndarray]]:
    """Converter inputs from espeak-ng speech: each voice into the other's tone colour, at tau 0
    and 0.3."""
    import onnxruntime as ort

    from voxclone.tts.base import get_tts  # calibration speech comes from the embedded engine

    data = config.data
    tts = get_tts("espeak")
    clips = [resample(tts.synthesize(text, "en", voice), data.sampling_rate).samples
             for text, voice in zip(CALIBRATION_TEXTS, CALIBRATION_VOICES)]
    ref = ort.InferenceSession(str(Path(onnx_dir) / REF_ENC_FILE), providers=["CPUExecutionProvider"])
    specs = [linear_spectrogram(c, data).numpy() for c in clips]
    tones = [ref.run(None, {"spec": np.ascontiguousarray(s.T)[None]})[0][0] for s in specs]
    rng = np.random.default_rng(0)
    inter = config.model.inter_channels
    for i, spec in enumerate(specs):
        g_src, g_tgt = tones[i], tones[(i + 1) % len(tones)]
        for tau in (0.0, 0.3):
            noise = (tau * rng.standard_normal((inter, spec.shape[1]))).astype(np.float32)
            yield converter_feeds(spec, g_src, g_tgt, noise)
