"""ONNX export of Perth-Net's convolution stacks (the costly part) and a runner for them.

Each stack is ``Conv(k=1) → 5 × Conv(k=7) → Conv(k=1)`` with LeakyReLU(0.01) between, over
(1, C, T) with T dynamic: written straight as ONNX nodes from the module's weights (no tracing,
so any frame count works). The encoder graph maps the sub-band magnitude (1, 128, T) to its
residual; the decoder graph runs the slow, normal and fast stacks side by side.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
from torch import nn

from voxclone.onnx_session import cpu_session

OPSET = 17


def _stack_nodes(stack: nn.Sequential, prefix: str, x: str, y: str, initializers: list) -> list:
    """ONNX nodes of one conv stack reading ``x`` and writing ``y``."""
    from onnx import helper, numpy_helper

    nodes, cur = [], x
    for i, layer in enumerate(stack):
        w, b = f"{prefix}.{i}.conv.weight", f"{prefix}.{i}.conv.bias"
        initializers += [numpy_helper.from_array(layer.conv.weight.detach().numpy(), w),
                         numpy_helper.from_array(layer.conv.bias.detach().numpy(), b)]
        k = layer.conv.kernel_size[0]
        out = y if i == len(stack) - 1 else f"{prefix}.{i}.out"
        conv_out = f"{out}.pre" if layer.act else out
        nodes.append(helper.make_node("Conv", [cur, w, b], [conv_out], kernel_shape=[k],
                                      pads=[(k - 1) // 2] * 2))
        if layer.act:
            nodes.append(helper.make_node("LeakyRelu", [conv_out], [out], alpha=0.01))
        cur = out
    return nodes


def stacks_to_onnx(stacks: dict[str, nn.Sequential]) -> bytes:
    """One ONNX model running each named stack: inputs ``<name>_in``, outputs ``<name>_out``,
    each (1, C, T_name) float32."""
    from onnx import TensorProto, helper

    nodes, inits, inputs, outputs = [], [], [], []
    for name, stack in stacks.items():
        c_in, c_out = stack[0].conv.in_channels, stack[-1].conv.out_channels
        inputs.append(helper.make_tensor_value_info(f"{name}_in", TensorProto.FLOAT, [1, c_in, f"T_{name}"]))
        outputs.append(helper.make_tensor_value_info(f"{name}_out", TensorProto.FLOAT, [1, c_out, f"T_{name}"]))
        nodes += _stack_nodes(stack, name, f"{name}_in", f"{name}_out", inits)
    graph = helper.make_graph(nodes, "perth_net", inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="voxclone")
    return model.SerializeToString()


def write_onnx(stacks: dict[str, nn.Sequential], path: Path) -> Path:
    """Export ``stacks`` to ``path`` (written atomically)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".onnx")
    with os.fdopen(fd, "wb") as f:
        f.write(stacks_to_onnx(stacks))
    os.replace(tmp, path)
    return path


class StackRunner:
    """Runs exported stacks with ONNX Runtime: ``runner({"normal": x})`` → ``{"normal": y}``.

    ``model``: the stacks (exported in memory) or the path of an exported ``.onnx`` file.
    """

    def __init__(self, model: dict[str, nn.Sequential] | Path, threads: int = 1) -> None:
        source = model if isinstance(model, Path) else stacks_to_onnx(model)
        self.session = cpu_session(source, threads, "`pip install onnxruntime` (or use "
                                   "backend='torch' for the watermark)", quiet=True)

    def __call__(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        feeds = {f"{k}_in": np.ascontiguousarray(v, dtype=np.float32) for k, v in inputs.items()}
        names = [f"{k}_out" for k in inputs]
        return dict(zip(inputs, self.session.run(names, feeds)))
