"""Model downloads from the Hugging Face Hub, all files of a model or none."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable

from voxclone.errors import EngineUnavailable, ModelNotFound


def download_files(repo: str, files: dict[str, Path], revision: str = "main") -> None:
    """Fetch ``repo`` paths (keys) to local paths (values); on any failure none is written."""
    hf_hub_download = _hf_hub_download()
    parent = next(iter(files.values())).parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".download-", dir=parent))
    try:
        fetched = {name: _download_one(hf_hub_download, repo, name, revision, tmp, target)
                   for name, target in files.items()}
        for name, target in files.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(fetched[name], target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _hf_hub_download() -> Callable[..., str]:
    try:
        from huggingface_hub import hf_hub_download
    except ImportError as exc:
        raise EngineUnavailable("Downloading models needs huggingface_hub: "
                                "`pip install huggingface_hub`.") from exc
    return hf_hub_download


def _download_one(hf_hub_download: Callable[..., Any], repo: str, name: str, revision: str,
                  tmp: Path, target: Path) -> Path:
    try:
        return Path(hf_hub_download(repo_id=repo, filename=name, revision=revision, local_dir=tmp))
    except Exception as exc:  # network, missing file, auth: all end the same way for the user
        raise ModelNotFound(f"Could not download {name} from {repo} ({exc}): check the network, "
                            f"or copy the file by hand to {target}.") from exc
