"""One way to open an ONNX Runtime CPU session, for every engine and judge that runs a graph."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from voxclone.errors import EngineUnavailable


def cpu_session(model: str | bytes | Path, threads: int = 1, needs: str = "`pip install onnxruntime`",
                spinning: bool = True, quiet: bool = False) -> Any:
    """An ``onnxruntime.InferenceSession`` on the CPU over a graph file (or its bytes), with
    ``threads`` intra-op threads and one inter-op thread. ``needs``: how to install onnxruntime
    (said when it is missing); ``spinning=False`` stops busy-waiting between operators;
    ``quiet`` keeps ONNX Runtime's warnings off the log."""
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise EngineUnavailable(f"onnxruntime is not installed: {needs}.") from exc
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if not spinning:
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if quiet:
        opts.log_severity_level = 3
    source = str(model) if isinstance(model, Path) else model
    return ort.InferenceSession(source, sess_options=opts, providers=["CPUExecutionProvider"])
