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
from voxclone.paths import blocking_file

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

    return _writable(path, SUPPORTED_SUFFIXES, "output", AudioError, "out.wav")


def captions_path(path: Path | None) -> Path | None:
    """``path`` if captions can be written there (.srt, .vtt or .json), checked before any work
    is done; None stays None."""
    from voxclone.errors import InvalidSetting
    from voxclone.pipeline.captions import CAPTION_SUFFIXES

    if path is None:
        return None
    return _writable(path, CAPTION_SUFFIXES, "captions file", InvalidSetting, "out.srt")


def _writable(path: Path, suffixes: tuple[str, ...], noun: str, error: type[VoxcloneError],
              example: str) -> Path:
    """``path`` if a file can be made there with one of ``suffixes``; ``error`` otherwise: a
    folder, a path under a file, or an unknown suffix."""
    if path.is_dir() or str(path).endswith(("/", "\\")):
        raise error(f"The output {path} is a folder: name a file, e.g. {path / example}.")
    blocker = blocking_file(path)
    if blocker is not None:
        raise error(f"Cannot write {path}: {blocker} is a file, not a folder.")
    if path.suffix.lower() not in suffixes:
        raise error(f"Cannot write '{path.suffix or path.name}' files: name the {noun} "
                    f"with one of {', '.join(suffixes)}.")
    return path
