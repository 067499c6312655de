"""Checks on paths a user names for outputs, shared by the CLI and batch jobs."""

from __future__ import annotations

from pathlib import Path


def blocking_file(path: Path) -> Path | None:
    """The nearest existing ancestor of ``path`` when it is a file (so nothing can be made
    at ``path``), else None."""
    above = next((p for p in Path(path).parents if p.exists()), None)
    return above if above is not None and not above.is_dir() else None
