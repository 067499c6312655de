"""Atomic writes of the pipeline's cache entries (a temporary file of their own in the target
folder, then a rename), so a reader never sees half an entry and concurrent writers never clash;
the matching read, for which a missing or damaged entry is simply absent; and one lock per entry,
so an entry is computed once while other entries are read or computed beside it."""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np

_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def entry_lock(key: str | os.PathLike) -> threading.Lock:
    """The process-wide lock of cache entry ``key`` (a path or digest), the same object on every
    call: hold it to read, or compute and write, that entry alone."""
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(str(key), threading.Lock())


def write_json(path: Path, data: Any) -> None:
    """``data`` as JSON at ``path``."""
    _write(path, ".json", "w", lambda f: json.dump(data, f))


def read_json(path: Path | None) -> Any | None:
    """The JSON at ``path``; None when there is no path, no file, or a damaged one (the caller
    computes the entry again)."""
    if path is None or not Path(path).is_file():
        return None
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def write_npz(path: Path, **arrays: Any) -> None:
    """``arrays`` as an uncompressed ``.npz`` at ``path``."""
    _write(path, ".npz", "wb", lambda f: np.savez(f, **arrays))


def _write(path: Path, suffix: str, mode: str, dump: Callable[[IO[Any]], None]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{suffix}", dir=path.parent)
    try:
        with os.fdopen(fd, mode) as f:
            dump(f)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
