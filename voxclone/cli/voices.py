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
                                    "every output's provenance."),
        prepare_: bool = typer.Option(False, "--prepare", help="Also refine the voice's Kokoro "
                                      "style now (see `voxclone voices prepare`)."),
        lang: str = typer.Option("en", help="Language whose default pipeline --prepare readies.")) -> None:
    """Add a voice from one or more recordings (at least 3 s of speech in all)."""
    info = VoiceLibrary().add(name, [str(f) for f in files], replace=replace, consent=consent)
    typer.echo(f"added '{info.name}': {len(info.clips)} clip(s), {info.speech_seconds:.1f} s of speech")
    if prepare_:
        prepare(info.name, lang, "standard")


@app.command("prepare")
@friendly_errors
def prepare(name: str, lang: str = typer.Option("en", help="Language of the default pipeline."),
            effort: str = typer.Option("standard", help="Style search effort: fast, standard, "
                                       "high, or a multiplier.")) -> None:
    """Refine NAME's Kokoro style once (the full style search, about 90 s on 2 cores): until
    then `say` speaks with its start style, the closest built-in voice or blend."""
    from voxclone.pipeline import PipelineConfig, VoiceCloner
    from voxclone.pipeline.defaults import default_pipeline

    tts, converter = default_pipeline(lang)
    if tts != "kokoro":
        typer.echo(f"nothing to prepare: the default pipeline for '{lang}' is {tts}:{converter}")
        return
    cloner = VoiceCloner(PipelineConfig(tts=tts, converter=converter, effort=effort,
                                        staged_adaptation=True))
    if cloner.style_stage(name) != "refined":
        typer.echo(f"preparing {name} for Kokoro: the full style search, once (about "
                   f"{_search_seconds(effort):.0f} s)", err=True)
    if converter == "adapted":
        typer.echo(f"and learning {name}'s adaptation for that style, once (about 50 s)", err=True)
    result = cloner.prepare(name, progress=True).result()
    typer.echo(f"prepared '{name}': similarity to its held-out clip {result.start_holdout:.3f} "
               f"(start style) -> {result.holdout_score:.3f} (refined, {result.steps} steps)"
               f"{', adapted' if converter == 'adapted' else ''}")


@app.command("adapt")
@friendly_errors
def adapt(name: str, lang: str = typer.Option("en", help="Language whose base voice is adapted "
                                              "(the map then serves every language)."),
          tts: str = typer.Option("kokoro", help="Base TTS engine to adapt to."),
          base_voice: str = typer.Option(None, help="Base TTS voice (default: as `say` picks it).")
          ) -> None:
    """Learn NAME's own frame map from its clips (their words, heard by Whisper, spoken by the
    base TTS and aligned), for `say --converter adapted`; cached, about 50 s on 2 cores. For
    Kokoro, the map of the voice's refined style: one not refined yet is refined first (as by
    `voices prepare`, about 90 s more)."""
    from voxclone.pipeline import PipelineConfig, VoiceCloner

    refine = tts == "kokoro" and not base_voice
    cloner = VoiceCloner(PipelineConfig(tts=tts, converter="adapted", search_first=refine))  # type: ignore[arg-type]
    if refine and cloner.style_stage(name) != "refined":
        typer.echo(f"refining {name}'s Kokoro style first (the style search, once, about "
                   f"{_search_seconds('standard'):.0f} s)", err=True)
    typer.echo(f"adapting {name} to {tts}: transcribing its clips, speaking them, aligning", err=True)
    info = cloner.adapt(name, lang, base_voice, progress=True)
    took = f" in {info['seconds']} s" if info.get("seconds") is not None else ""
    typer.echo(f"adapted '{name}' to {info['tts']}/{info['base_voice']}: "
               f"{info['frames']} aligned frames{took}; speak with "
               f"`voxclone say --voice {name} --tts {tts} --converter adapted`")


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


START_ESTIMATE_S = 15
"""About how long a new voice's start style and first sentence take (2 idle cores)."""


def announce_style(cloner, voice, name: str | None, base_voice: str | None,
                   search_first: bool) -> str | None:
    """Say on stderr, before any work, what a Kokoro voice without a refined style costs now;
    returns its style stage ("refined", "start", None), or "refined" where none applies."""
    if cloner.config.tts != "kokoro" or base_voice:
        return "refined"
    stage = cloner.style_stage(voice)
    label = name or "these reference files"
    if stage != "refined" and search_first:
        typer.echo(f"preparing {label} for Kokoro: the full style search, first use only (about "
                   f"{_search_seconds(cloner.config.effort):.0f} s)", err=True)
    elif stage is None:
        typer.echo(f"preparing {label} for Kokoro, first use only, about {START_ESTIMATE_S} s",
                   err=True)
    return stage


def suggest_prepare(stage: str | None, name: str | None, search_first: bool,
                    adapts: bool = False) -> None:
    """After speaking with a start style: how to refine it (``adapts``: and learn the map of
    the ``adapted`` converter)."""
    if stage == "refined" or search_first:
        return
    how = f"`voxclone voices prepare {name}`" if name else "`say --prepare`"
    learns = " and learns its adaptation (about 50 s more)" if adapts else ""
    typer.echo(f"spoke with the start style (the closest built-in Kokoro voice or blend); {how} "
               f"refines it once (about 90 s){learns}, and later calls use them", err=True)


def _search_seconds(effort: str | float) -> float:
    """The style search's time budget at ``effort`` (2 idle cores)."""
    from voxclone.pipeline.config import PipelineConfig
    from voxclone.pipeline.kokoro_clone import StyleSearchConfig

    config = StyleSearchConfig(effort=PipelineConfig(effort=effort).effort)
    return config.budget_s * config.factor
