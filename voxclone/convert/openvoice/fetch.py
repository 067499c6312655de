"""``voxclone models fetch openvoice-v2``: the converter files of ``myshell-ai/OpenVoiceV2``."""

from __future__ import annotations

from pathlib import Path

from voxclone.config import Settings
from voxclone.hub import download_files

REPO = "myshell-ai/OpenVoiceV2"
FILES = ("converter/config.json", "converter/checkpoint.pth")
MODEL_NAME = "openvoice-v2"


def model_dir(settings: Settings | None = None) -> Path:
    """``VOXCLONE_HOME/models/openvoice-v2``: config.json and checkpoint.pth."""
    return (settings or Settings()).models_dir / MODEL_NAME


def fetch_openvoice(revision: str = "main") -> Path:
    """Download the converter's config.json and checkpoint.pth (all or none); returns the folder."""
    dest = model_dir()
    download_files(REPO, {name: dest / Path(name).name for name in FILES}, revision)
    return dest
