"""The bundled Kokoro graph with static int8 convolutions in the generator's lower stages.

The bundled model quantizes its convolutions dynamically (``DynamicQuantizeLinear`` +
``ConvInteger`` with uint8 weights): every call measures each activation's range, and ONNX Runtime
runs those convolutions no faster than float32 on an AVX2 CPU. Here the convolutions of the
generator's three lower resblocks and of its noise branch become float convolutions with the
same (dequantized) weights, then static QDQ int8 ones (per-channel int8 weights, uint8
activations with ranges calibrated once on speech of the bundled voices), which ONNX Runtime runs
as ``QLinearConv``. The three resblocks at the full frame rate keep the original dynamic
convolutions: quantized statically as well they changed the voice audibly. Last, every AdaIN +
Snake activation is folded into fewer element-wise passes (:mod:`voxclone.tts.kokoro_snake`).

Measured on 2 cores against the bundled graph (5 voices x 4 sentences): speaker-encoder cosine
between the two graphs' speech 0.996 (lowest 0.993), log-spectrogram correlation 0.974, the same
pocketsphinx WER; 13% less time per call.
"""

from __future__ import annotations

import collections
import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from voxclone.int8 import quantize_int8

log = logging.getLogger(__name__)

RECIPE = "static-int8-v2-snake"
"""Names the recipe in the stamp beside the graph: a new recipe converts again."""
STATIC_CONVS = re.compile(r"^/decoder/decoder/generator/(resblocks\.[012]|noise_res\.\d)/")
"""Convolutions of the bundled graph (node-name prefix) that become static int8."""
CALIBRATION_TEXTS = (
    "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background.",
    "It is easy to tell the depth of a well. These days a chicken leg is a rare dish.",
    "Four hours of steady work faced us.",
)
_FLOAT_SUFFIX = "/float_conv"


def static_path(source: Path) -> Path:
    """Where the static variant of graph ``source`` is kept (beside it)."""
    return source.with_name(f"{source.stem}-static.onnx")


def ensure_static(source: Path, feeds: Iterator[dict[str, np.ndarray]], source_id: str) -> Path:
    """The static variant of ``source`` (converted once, then reused while the stamp beside it
    holds ``source_id`` and the recipe). ``feeds`` are calibration inputs of the graph."""
    target = static_path(source)
    stamp = target.with_suffix(".id")
    key = f"{source_id}:{RECIPE}"
    if target.is_file() and stamp.is_file() and stamp.read_text() == key:
        return target
    from voxclone.tts.kokoro_snake import fold_snakes

    log.info("making the static int8 Kokoro graph (once)")
    with tempfile.TemporaryDirectory(dir=source.parent) as tmp:
        floated = Path(tmp) / "float-convs.onnx"
        out = Path(tmp) / target.name
        float_convs(source, floated, STATIC_CONVS)
        quantized = Path(tmp) / "quantized.onnx"
        quantize_float_convs(floated, quantized, list(feeds))
        fold_snakes(quantized, out)
        os.replace(out, target)
    stamp.write_text(key)
    return target


def float_convs(source: Path, target: Path, pattern: re.Pattern[str]) -> int:
    """Write ``source`` with each dynamically quantized convolution whose node name matches
    ``pattern`` replaced by a float ``Conv`` over the same, dequantized weights; returns how
    many were replaced."""
    import onnx

    model = onnx.load(str(source))
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    producer, consumers = graph_links(graph)
    replaced: dict[int, Any] = {}
    dropped: set[int] = set()
    weights = []
    for node in graph.node:
        if node.op_type == "ConvInteger" and pattern.search(node.name):
            conv, chain, weight = _float_conv(node, inits, producer, consumers)
            replaced[id(node)] = conv
            dropped.update(id(n) for n in chain)
            weights.append(weight)
    graph.initializer.extend(weights)
    set_nodes(graph, [replaced.get(id(n), n) for n in graph.node if id(n) not in dropped])
    onnx.save(model, str(target))
    return len(replaced)


def _float_conv(node: Any, inits: dict[str, Any], producer: dict[str, Any],
                consumers: dict[str, list[Any]]) -> tuple[Any, list[Any], Any]:
    """The float ``Conv`` standing for ``ConvInteger`` ``node``, the nodes it replaces (bias add,
    cast, rescale) and its weight initializer.

    The pattern, as ONNX Runtime's dynamic quantizer writes it:
    ``DynamicQuantizeLinear(x) -> ConvInteger(xq, wq, x_zp, w_zp) [-> Add(bias_q)] -> Cast ->
    Mul(x_scale * w_scale)``.
    """
    from onnx import helper, numpy_helper

    quantize = producer[node.input[0]]
    if quantize.op_type != "DynamicQuantizeLinear":
        raise ValueError(f"{node.name}: input is not dynamically quantized")
    chain, bias, out = [], None, node.output[0]
    step = _only(consumers[out], node.name)
    if step.op_type == "Add":
        chain.append(step)
        bias = _bias_of(step, out, producer, inits)
        out = step.output[0]
        step = _only(consumers[out], node.name)
    cast = step
    rescale = _only(consumers[cast.output[0]], node.name)
    if cast.op_type != "Cast" or rescale.op_type != "Mul":
        raise ValueError(f"{node.name}: unexpected pattern {cast.op_type} -> {rescale.op_type}")
    chain += [cast, rescale]
    scales = producer[next(i for i in rescale.input if i != cast.output[0])]
    w_scale = next(i for i in scales.input if i in inits)
    wq = numpy_helper.to_array(inits[node.input[1]]).astype(np.float32)
    w_zero = (numpy_helper.to_array(inits[node.input[3]]).astype(np.float32)
              if len(node.input) > 3 and node.input[3] else np.float32(0))
    scale = numpy_helper.to_array(inits[w_scale]).astype(np.float32)
    name = node.name + _FLOAT_SUFFIX
    weight = numpy_helper.from_array(((wq - w_zero) * scale).astype(np.float32), name + "/weight")
    conv = helper.make_node("Conv", [quantize.input[0], weight.name, *([bias] if bias else [])],
                            [rescale.output[0]], name=name)
    conv.attribute.extend(node.attribute)
    return conv, chain, weight


def _bias_of(add: Any, conv_out: str, producer: dict[str, Any], inits: dict[str, Any]) -> str:
    """The float bias behind ``Add(conv, Reshape(Cast(Floor(Div(bias, scale)))))``."""
    node = producer[next(i for i in add.input if i != conv_out)]
    while node.op_type != "Div":
        node = producer[node.input[0]]
    if node.input[0] not in inits:
        raise ValueError(f"{add.name}: the bias is not a constant")
    return node.input[0]


def _only(nodes: list[Any], where: str) -> Any:
    if len(nodes) != 1:
        raise ValueError(f"{where}: expected one consumer, found {len(nodes)}")
    return nodes[0]


def graph_links(graph: Any) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """(value name → the node that makes it, value name → the nodes that read it)."""
    producer = {out: node for node in graph.node for out in node.output}
    consumers: dict[str, list[Any]] = collections.defaultdict(list)
    for node in graph.node:
        for name in node.input:
            consumers[name].append(node)
    return producer, consumers


def set_nodes(graph: Any, nodes: list[Any]) -> None:
    """Make ``nodes`` the nodes of ``graph``, without those whose outputs nothing reads (repeated
    until none is left) and without the initializers no node reads any more."""
    outputs = {o.name for o in graph.output}
    while True:
        used = {name for n in nodes for name in n.input} | outputs
        live = [n for n in nodes if any(o in used for o in n.output)]
        if len(live) == len(nodes):
            break
        nodes = live
    kept = [i for i in graph.initializer if i.name in used]
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.initializer[:]
    graph.initializer.extend(kept)


def quantize_float_convs(source: Path, target: Path, feeds: list[dict[str, np.ndarray]]) -> None:
    """Static QDQ int8 for the float convolutions of ``source`` (those :func:`float_convs`
    wrote), calibrated on ``feeds``."""
    import onnx

    nodes = onnx.load(str(source), load_external_data=False).graph.node
    keep_float = [n.name for n in nodes if n.op_type == "Conv" and not n.name.endswith(_FLOAT_SUFFIX)]
    quantize_int8(source, target, feeds, ["Conv"], keep_float, "The static Kokoro graph")
