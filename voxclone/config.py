"""Paths and process-wide settings."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _default_home() -> Path:
    env = os.environ.get("VOXCLONE_HOME")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".local" / "share" / "voxclone"


@dataclass(frozen=True)
class Settings:
    """Where voxclone keeps its data.

    home: root folder (``VOXCLONE_HOME``, default ``~/.local/share/voxclone``).
    """

    home: Path = field(default_factory=_default_home)

    @property
    def voices_dir(self) -> Path:
        """Folder of the voice library (clips + SQLite index)."""
        return self.home / "voices"

    @property
    def cache_dir(self) -> Path:
        """Folder of recomputable caches (base-voice profiles, ...)."""
        return self.home / "cache"

    @property
    def models_dir(self) -> Path:
        """Folder of downloaded or reassembled model files."""
        return self.home / "models"
