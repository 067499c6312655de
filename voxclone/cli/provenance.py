"""`voxclone detect` (is a file watermarked?), `voxclone keys` (the signing key), and the one
helper every CLI output goes through (provenance tags + content credentials)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from voxclone.cli.common import friendly_errors

NO_WATERMARK_HELP = ("Do not embed the inaudible watermark (recorded in the file's metadata). "
                     "Only for outputs that are marked elsewhere or never leave this machine.")


def write_output(audio, path: Path, info: dict[str, Any]) -> Path:
    """Save ``audio`` with ``info`` in its tags, then sign its content credentials (C2PA, for the
    formats that take them)."""
    from voxclone.audio.io import save
    from voxclone.audio.metadata import metadata_tags

    save(audio, path, metadata_tags(info))
    sign_file(path, info)
    return path


def sign_file(path: Path, info: dict[str, Any]) -> None:
    """Add the C2PA manifest to ``path`` when its format takes one and c2pa-python is installed."""
    from voxclone.provenance.credentials import sign_if_supported

    sign_if_supported(path, info)


def consent_of(voice: str | None) -> str | None:
    """The consent statement stored with library voice ``voice`` (None for --ref files)."""
    if not voice:
        return None
    from voxclone.voices import VoiceLibrary

    return VoiceLibrary().info(voice).consent


@friendly_errors
def detect(files: list[Path] = typer.Argument(..., help="Audio files to check."),
           as_json: bool = typer.Option(False, "--json", help="Print JSON lines.")) -> None:
    """Say whether each FILE carries the voxclone (Perth) watermark, with its confidence."""
    from voxclone.audio.io import load
    from voxclone.errors import VoxcloneError
    from voxclone.provenance.watermark import detect as read_mark

    failed = 0
    for file in files:
        try:
            found = read_mark(load(file))
        except VoxcloneError as exc:
            failed += 1
            if as_json:
                typer.echo(json.dumps({"file": str(file), "error": str(exc)}))
            else:
                typer.secho(f"{file}: error: {exc}", fg=typer.colors.RED, err=True)
            continue
        if as_json:
            typer.echo(json.dumps({"file": str(file), **found.to_dict()}))
        else:
            verdict = "watermarked" if found.watermarked else "not watermarked"
            typer.echo(f"{file}: {verdict} (confidence {found.confidence:.2f}, "
                       f"{found.seconds:.1f} s read)")
    if failed:
        raise typer.Exit(2)


@friendly_errors
def keys(new: bool = typer.Option(False, "--new", help="Replace the signing key (and its "
                                  "certificates) with a new one; files signed before keep "
                                  "verifying against the old certificate they carry."),
         as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show the local key that signs content credentials (made on first use), or replace it."""
    from voxclone.provenance.keys import key_summary, load_or_create, replace_key

    signing = replace_key() if new else load_or_create()
    summary = key_summary(signing)
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    for key, value in summary.items():
        typer.echo(f"{key}: {value}")


def check_file(path: Path) -> dict[str, Any]:
    """``{"watermark": detection or error, "credentials": C2PA verification}`` of a file."""
    from voxclone.audio.io import load
    from voxclone.errors import VoxcloneError
    from voxclone.provenance.credentials import verify
    from voxclone.provenance.watermark import detect as read_mark

    try:
        mark: dict[str, Any] = read_mark(load(path)).to_dict()
    except VoxcloneError as exc:
        mark = {"error": str(exc)}
    try:
        cred = verify(path)
    except VoxcloneError as exc:
        cred = {"signed": False, "reason": str(exc)}
    return {"watermark_check": mark, "credentials": cred}


def print_checks(meta: dict[str, Any]) -> None:
    """The watermark and content-credential lines of `voxclone info`."""
    mark = meta["watermark_check"]
    if "error" in mark:
        typer.echo(f"watermark check: {mark['error']}")
    else:
        verdict = "watermarked" if mark["watermarked"] else "not watermarked"
        typer.echo(f"watermark check: {verdict} (confidence {mark['confidence']:.2f})")
    cred = meta["credentials"]
    if not cred.get("signed"):
        typer.echo(f"content credentials: none ({cred.get('reason', 'no manifest')})")
    elif cred["valid"]:
        typer.echo(f"content credentials: valid, signed by {cred.get('issuer')} (local key, not "
                   "in a public trust list); unchanged since signing")
    else:
        changed = ("the file was changed after signing" if cred.get("changed_after_signing")
                   else "the signature does not verify")
        typer.echo(f"content credentials: INVALID: {changed} ({', '.join(cred['failures'])})")
