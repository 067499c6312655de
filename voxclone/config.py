"""Paths and process-wide settings."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

C = TypeVar("C", bound="DictConfig")


class DictConfig:
    """Mixin for config dataclasses: ``to_dict`` and ``from_dict`` (unknown keys ignored, so
    configs saved by an older or newer version still load)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of the fields."""
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls: type[C], data: dict[str, Any]) -> C:
        """Build from a dict, ignoring unknown keys."""
        names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: v for k, v in data.items() if k in names})


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
