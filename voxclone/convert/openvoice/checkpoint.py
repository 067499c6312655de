"""Read and write converter checkpoints in the official layout: ``config.json`` beside
``checkpoint.pth`` (``{"model": state_dict}``, legacy weight-norm names)."""

from __future__ import annotations

import json
import os
import pickle
import tempfile
from pathlib import Path

import torch

from voxclone.convert.openvoice.config import OpenVoiceConfig
from voxclone.convert.openvoice.layers import freeze_weight_norm
from voxclone.convert.openvoice.model import SynthesizerTrn
from voxclone.errors import ModelCorrupt, ModelNotFound

CONFIG_FILE = "config.json"
CHECKPOINT_FILE = "checkpoint.pth"
FETCH_HINT = "run `voxclone models fetch openvoice-v2`"


def require_files(model_dir: Path) -> tuple[Path, Path]:
    """Paths of config.json and checkpoint.pth; ModelNotFound (naming the fetch command) if absent."""
    config, ckpt = Path(model_dir) / CONFIG_FILE, Path(model_dir) / CHECKPOINT_FILE
    missing = [p.name for p in (config, ckpt) if not p.is_file()]
    if missing:
        raise ModelNotFound(f"The OpenVoice V2 converter is not installed ({', '.join(missing)} "
                            f"missing in {model_dir}): {FETCH_HINT}.")
    return config, ckpt


def read_config(path: Path) -> OpenVoiceConfig:
    """Parse config.json."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelCorrupt(f"{path} is unreadable ({exc}): {FETCH_HINT} again.") from exc
    if not isinstance(raw, dict):
        raise ModelCorrupt(f"{path} is not a JSON object: {FETCH_HINT} again.")
    return OpenVoiceConfig.from_dict(raw)


def load_model(model_dir: Path) -> SynthesizerTrn:
    """Build the network from config.json and load checkpoint.pth with strict=True, ready for
    inference (eval mode, weight norm folded)."""
    config_path, ckpt_path = require_files(model_dir)
    model = SynthesizerTrn(read_config(config_path))
    try:
        ckpt = torch.load(ckpt_path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, pickle.UnpicklingError, EOFError, ValueError) as exc:
        raise ModelCorrupt(f"{ckpt_path} is unreadable ({exc}): {FETCH_HINT} again.") from exc
    state = ckpt.get("model") if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        raise ModelCorrupt(f"{ckpt_path} holds no 'model' state dict: {FETCH_HINT} again.")
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ModelCorrupt(f"{ckpt_path} does not match config.json: {exc}") from exc
    model.eval()
    freeze_weight_norm(model)
    return model


def save_model(model: SynthesizerTrn, model_dir: Path) -> Path:
    """Write ``model`` as config.json + checkpoint.pth (``{"model": state_dict}``), atomically."""
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    _atomic_write(model_dir / CONFIG_FILE,
                  lambda f: f.write(json.dumps(model.config.to_dict(), indent=2).encode()))
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    _atomic_write(model_dir / CHECKPOINT_FILE, lambda f: torch.save({"model": state}, f))
    return model_dir


def _atomic_write(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
