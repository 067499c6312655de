"""`voxclone voices ...`: manage the voice library."""

from __future__ import annotations

import json
import math
from pathlib import Path

import typer

from voxclone.cli.common import friendly_errors
from voxclone.voices import VoiceLibrary

app = typer.Typer(help="Manage the voice library (VOXCLONE_HOME).", no_args_is_help=True)


@app.command("add")
@friendly_errors
def add(name: str, files: list[Path] = typer.Argument(..., help="wav/flac/mp3/ogg reference clips"),
        replace: bool = typer.Option(False, help="Replace a voice of the same name."),
        consent: str = typer.Option(None, "--consent", help="The speaker's consent statement (who "
                                    "agreed to what, when); stored with the voice and carried into "
                                    "every output's provenance.")) -> None:
    """Add a voice from one or more recordings (at least 3 s of speech in all)."""
    info = VoiceLibrary().add(name, [str(f) for f in files], replace=replace, consent=consent)
    typer.echo(f"added '{info.name}': {len(info.clips)} clip(s), {info.speech_seconds:.1f} s of speech")


@app.command("list")
@friendly_errors
def list_(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List voices."""
    voices = VoiceLibrary().list()
    if as_json:
        typer.echo(json.dumps([v.to_dict() for v in voices], indent=2))
        return
    if not voices:
        typer.echo("no voices yet: add one with `voxclone voices add NAME FILE...`")
    for v in voices:
        typer.echo(f"{v.name}\t{len(v.clips)} clip(s)\t{v.speech_seconds:.1f} s speech\t{v.created}")


@app.command("show")
@friendly_errors
def show(name: str) -> None:
    """Show a voice's clips and profile statistics."""
    typer.echo(json.dumps(voice_summary(name), indent=2))


def voice_summary(name: str) -> dict:
    """Clips plus profile statistics (embedding size, log-F0, speech seconds) of a voice."""
    from voxclone.convert import get_converter

    lib = VoiceLibrary()
    info = lib.info(name).to_dict()
    prof = lib.profile(name, get_converter("world"))
    info["profile"] = {"f0_mean_hz": round(math.exp(prof.lf0_mean), 1),
                       "lf0_std": round(prof.lf0_std, 3), "speech_seconds": round(prof.speech_seconds, 2),
                       "converter": f"{prof.converter} {prof.converter_version}",
                       "embedding_dim": len(prof.embedding)}
    return info


@app.command("remove")
@friendly_errors
def remove(name: str) -> None:
    """Delete a voice and its clips."""
    VoiceLibrary().remove(name)
    typer.echo(f"removed '{name}'")


@app.command("export")
@friendly_errors
def export(name: str, output: Path = typer.Option(..., "-o", "--output", help="FILE.zip")) -> None:
    """Export a voice to a zip archive."""
    path = VoiceLibrary().export(name, output)
    typer.echo(f"exported '{name}' to {path}")


@app.command("import")
@friendly_errors
def import_(archive: Path, name: str = typer.Option(None, help="Store under another name."),
            replace: bool = typer.Option(False, help="Replace a voice of the same name.")) -> None:
    """Import a voice from a zip archive made by `voices export`."""
    info = VoiceLibrary().import_(archive, name=name, replace=replace)
    typer.echo(f"imported '{info.name}': {len(info.clips)} clip(s)")
