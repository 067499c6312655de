"""Checkpoints: safetensors weights + optimiser/scheduler/RNG/sampler state, written atomically.

A checkpoint is a folder ``step-NNNNNNN``: ``model.safetensors`` (``ar.*`` and ``nar.*``),
``meta.json`` (model configs, text tokenizer, length mode, codec id + hash; what synthesis
needs), the codec (``codec.json`` + its data), ``config.yaml`` (the resolved training config)
and ``state.pt`` (everything resume needs, CPU tensors, read with ``weights_only=True``).
"""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from voxclone.codeclm.pretrained import META_VERSION, read_meta  # noqa: F401  (read_meta: re-exported)


def rng_state() -> dict[str, Any]:
    """Python, NumPy (legacy global), torch and CUDA/MPS generator states, weights_only-safe."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state: dict[str, Any] = {"python": random.getstate(),
                             "numpy": [kind, [int(k) for k in keys], int(pos), int(has_gauss), float(cached)],
                             "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    if hasattr(torch, "mps") and torch.backends.mps.is_available():
        state["mps"] = torch.mps.get_rng_state()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore :func:`rng_state`; device generators only where that device type is present."""
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    if "mps" in state and hasattr(torch, "mps") and torch.backends.mps.is_available():
        torch.mps.set_rng_state(state["mps"])


def _cpu(obj: Any) -> Any:
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        return {k: _cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_cpu(v) for v in obj)
    return obj


def save_checkpoint(folder: Path, weights: dict[str, torch.Tensor], meta: dict[str, Any],
                    state: dict[str, Any], config_yaml: str, codec) -> Path:
    """Write the checkpoint into ``folder`` atomically (a temporary folder renamed into place)."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.parent / f".tmp-{folder.name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    save_file({k: v.detach().cpu().contiguous() for k, v in weights.items()},
              str(tmp / "model.safetensors"))
    (tmp / "meta.json").write_text(json.dumps({"version": META_VERSION, **meta}, indent=2))
    (tmp / "config.yaml").write_text(config_yaml)
    torch.save(_cpu(state), tmp / "state.pt")
    codec.save(tmp)
    for path in tmp.iterdir():
        with path.open("rb") as f:
            os.fsync(f.fileno())
    if folder.exists():
        old = folder.parent / f".old-{folder.name}-{os.getpid()}"
        os.replace(folder, old)
        os.replace(tmp, folder)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, folder)
    return folder


def checkpoints(run_dir: Path) -> list[Path]:
    """Complete checkpoints of a run, oldest first."""
    root = Path(run_dir) / "checkpoints"
    if not root.is_dir():
        return []
    return sorted(p for p in root.glob("step-*") if (p / "state.pt").is_file()
                  and (p / "model.safetensors").is_file())


def latest_checkpoint(run_dir: Path) -> Path | None:
    found = checkpoints(run_dir)
    return found[-1] if found else None


def load_weights(folder: Path, device: str | torch.device = "cpu") -> dict[str, torch.Tensor]:
    return load_file(str(Path(folder) / "model.safetensors"), device=str(device))


def load_state(folder: Path, device: str | torch.device = "cpu") -> dict[str, Any]:
    """``state.pt`` with ``weights_only=True`` mapped onto ``device``."""
    return torch.load(Path(folder) / "state.pt", map_location=device, weights_only=True)


def prune(run_dir: Path, keep: int) -> None:
    """Delete all but the newest ``keep`` checkpoints."""
    for old in checkpoints(run_dir)[:-keep] if keep > 0 else []:
        shutil.rmtree(old, ignore_errors=True)
