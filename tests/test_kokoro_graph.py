"""The static int8 Kokoro graph: the convolution rewrite and the AdaIN + Snake fold on tiny
graphs, and the real one."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from voxclone.errors import InvalidSetting
from voxclone.tts.fetch import KOKORO_BUNDLED
from voxclone.tts.kokoro import KokoroTTS
from voxclone.tts.kokoro_graph import float_convs, static_path
from voxclone.tts.kokoro_snake import fold_snakes

pytestmark = pytest.mark.filterwarnings("ignore:open_text is deprecated:DeprecationWarning")
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _tiny_dynamic_graph(folder: Path) -> tuple[Path, Path]:
    """Two convolutions (with and without bias) in float, and the same dynamically quantized
    with uint8 weights as the bundled Kokoro graph is."""
    from onnx import TensorProto, helper, numpy_helper
    from onnxruntime.quantization import QuantType, quantize_dynamic

    rng = np.random.default_rng(0)
    w1, w2 = (0.1 * rng.standard_normal((16, 16, 5))).astype(np.float32), \
        (0.1 * rng.standard_normal((16, 16, 3))).astype(np.float32)
    bias = (0.1 * rng.standard_normal(16)).astype(np.float32)
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["h"], pads=[2, 2], name="/gen/a/Conv"),
             helper.make_node("LeakyRelu", ["h"], ["h2"], alpha=0.1),
             helper.make_node("Conv", ["h2", "w2"], ["y"], pads=[1, 1], name="/gen/b/Conv")]
    graph = helper.make_graph(
        nodes, "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16, None])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16, None])],
        [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2"),
         numpy_helper.from_array(bias, "b1")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    floated, dynamic = folder / "float.onnx", folder / "dynamic.onnx"
    onnx.save(model, str(floated))
    quantize_dynamic(str(floated), str(dynamic), weight_type=QuantType.QUInt8)
    return floated, dynamic


def _run(path: Path, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0]


def _ops(path: Path) -> list[str]:
    return [n.op_type for n in onnx.load(str(path), load_external_data=False).graph.node]


def test_float_convs_replaces_only_the_matching_dynamic_convolutions(tmp_path: Path) -> None:
    floated, dynamic = _tiny_dynamic_graph(tmp_path)
    assert _ops(dynamic).count("ConvInteger") == 2
    out = tmp_path / "one-float.onnx"
    assert float_convs(dynamic, out, re.compile(r"^/gen/a/")) == 1
    ops = _ops(out)
    assert ops.count("ConvInteger") == 1 and ops.count("Conv") == 1
    assert ops.count("DynamicQuantizeLinear") == 1  # the replaced one's quantizer is gone
    x = np.random.default_rng(1).standard_normal((1, 16, 400)).astype(np.float32)
    reference, rewritten = _run(floated, x), _run(out, x)
    assert rewritten.shape == reference.shape
    assert np.corrcoef(reference.ravel(), rewritten.ravel())[0, 1] > 0.999
    every = tmp_path / "all-float.onnx"
    assert float_convs(dynamic, every, re.compile(".")) == 2
    np.testing.assert_allclose(_run(every, x), reference, atol=0.02)  # weights are 8-bit still


def _adain_snake_graph(path: Path, channels: int = 8) -> None:
    """AdaIN then Snake, node for node as the Kokoro export writes them (opset 18)."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(2)
    alpha = (rng.random((1, channels, 1)) + 0.5).astype(np.float32)
    consts = {"axes": np.array([2], np.int64), "eps": np.float32(1e-5), "one": np.float32(1.0),
              "two": np.float32(2.0), "alpha": alpha, "inv_alpha": 1 / alpha}
    n = helper.make_node
    nodes = [n("ReduceMean", ["x", "axes"], ["mean"]), n("Sub", ["x", "mean"], ["d"]),
             n("Mul", ["d", "d"], ["d2"]), n("ReduceMean", ["d2", "axes"], ["var"]),
             n("Add", ["var", "eps"], ["var_eps"]), n("Sqrt", ["var_eps"], ["std"]),
             n("Div", ["d", "std"], ["xn"]), n("Add", ["gamma", "one"], ["g1"]),
             n("Mul", ["g1", "xn"], ["gx"]), n("Add", ["gx", "beta"], ["y"]),
             n("Mul", ["alpha", "y"], ["ay"]), n("Sin", ["ay"], ["s"], name="/gen/act/Sin"),
             n("Pow", ["s", "two"], ["s2"]), n("Mul", ["inv_alpha", "s2"], ["q"]),
             n("Add", ["y", "q"], ["out"])]
    shape = [1, channels, 1]
    graph = helper.make_graph(
        nodes, "adain_snake",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, channels, None]),
         helper.make_tensor_value_info("gamma", TensorProto.FLOAT, shape),
         helper.make_tensor_value_info("beta", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, channels, None])],
        [numpy_helper.from_array(np.asarray(v), k) for k, v in consts.items()])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), str(path))


def test_fold_snakes_keeps_the_activation_in_fewer_passes(tmp_path: Path) -> None:
    exported, folded = tmp_path / "exported.onnx", tmp_path / "folded.onnx"
    _adain_snake_graph(exported)
    assert fold_snakes(exported, folded) == 1
    ops = _ops(folded)
    assert "Pow" not in ops and ops.count("Sin") == 1 and ops.count("Div") == 1  # only per channel
    rng = np.random.default_rng(3)
    feeds = {"x": (3 * rng.standard_normal((1, 8, 500)) + 1).astype(np.float32),
             "gamma": (0.3 * rng.standard_normal((1, 8, 1))).astype(np.float32),
             "beta": (0.3 * rng.standard_normal((1, 8, 1))).astype(np.float32)}
    run = [ort.InferenceSession(str(p), providers=["CPUExecutionProvider"]).run(None, feeds)[0]
           for p in (exported, folded)]
    np.testing.assert_allclose(run[1], run[0], rtol=1e-4, atol=1e-4)
    assert fold_snakes(folded, tmp_path / "again.onnx") == 0  # nothing of the pattern is left


def test_graph_setting_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InvalidSetting, match="static or dynamic"):
        KokoroTTS(graph="fast")
    monkeypatch.setenv("VOXCLONE_KOKORO_GRAPH", "dynamic")
    assert KokoroTTS().graph == "dynamic"
    assert KokoroTTS().model_path().name == KOKORO_BUNDLED


@pytest.mark.slow
def test_static_graph_is_made_once_and_speaks_like_the_shipped_one(warm_encoder) -> None:
    from voxclone.audio import Audio
    from voxclone.audio.speaker import cosine

    static = KokoroTTS()
    path = static.model_path()
    assert path == static_path(KokoroTTS(graph="dynamic").model_path())
    made = path.stat().st_mtime_ns
    assert KokoroTTS().model_path().stat().st_mtime_ns == made  # reused, not made again
    ops = _ops(path)
    assert ops.count("ConvInteger") == 87 - 30 and ops.count("QuantizeLinear") >= 30
    text = "The birch canoe slid on the smooth planks."
    a = static.synthesize(text, "en", "jm_kumo")
    b = KokoroTTS(graph="dynamic").synthesize(text, "en", "jm_kumo")
    assert len(a) == len(b)  # durations come from the untouched predictor
    similarity = cosine(warm_encoder.embed(Audio(a.samples, 24000)),
                        warm_encoder.embed(Audio(b.samples, 24000)))
    assert similarity > 0.98
