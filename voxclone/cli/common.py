"""Helpers shared by CLI commands: error reporting and option parsing."""

from __future__ import annotations

import functools
import logging
import sys
from pathlib import Path
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from voxclone.errors import VoxcloneError

F = TypeVar("F", bound=Callable[..., Any])


def friendly_errors(func: F) -> F:
    """Turn VoxcloneError into a one-line message on stderr and exit code 2 (no traceback)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except VoxcloneError as exc:
            typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            typer.secho("interrupted", err=True)
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def setup_logging(verbose: bool) -> None:
    """INFO logs with --verbose, warnings otherwise; to stderr."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")


def voice_arg(voice: str | None, refs: list[str] | None) -> str | list[str]:
    """The --voice name or the --ref files; exactly one of them."""
    if bool(voice) == bool(refs):
        raise VoxcloneError("Give either --voice NAME (a voice in the library) or --ref FILE "
                            "(one or more reference recordings), not both; or, to hear an "
                            "engine's own voice without cloning, neither but --tts ENGINE "
                            "(e.g. --tts piper, see `voxclone engines`).")
    return voice if voice else list(refs or [])


def output_path(path: Path) -> Path:
    """``path`` if audio can be written there (known suffix), checked before any work is done."""
    from voxclone.audio.io import SUPPORTED_SUFFIXES
    from voxclone.errors import AudioError

    if path.is_dir() or str(path).endswith(("/", "\\")):
        raise AudioError(f"The output {path} is a folder: name a file, e.g. {path / 'out.wav'}.")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if parent.exists() and not parent.is_dir():
        raise AudioError(f"Cannot write {path}: {parent} is a file, not a folder.")
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise AudioError(f"Cannot write '{path.suffix or path.name}' files: name the output "
                         f"with one of {', '.join(SUPPORTED_SUFFIXES)}.")
    return path
