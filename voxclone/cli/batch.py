"""`voxclone batch`: many items from a manifest, resumable, locally or on Ray."""

from __future__ import annotations

from pathlib import Path

import typer

from voxclone.cli.common import friendly_errors, voice_arg


@friendly_errors
def batch(source: Path = typer.Argument(..., help="CSV/TSV manifest (id,text or id,path) or a folder of audio."),
          out: Path = typer.Option(..., "--out", help="Output folder: <id>.wav per item + the job database."),
          voice: str = typer.Option(None, "--voice", "-v", help="Voice name in the library."),
          ref: list[Path] = typer.Option(None, "--ref", help="Reference recording(s) instead of --voice."),
          mode: str = typer.Option(None, help="say or convert (default: from the manifest's columns)."),
          workers: int = typer.Option(None, min=1, help="Worker processes (default 1); on Ray, actors "
                                                          "(default: one per CPU of the cluster)."),
          ray: str = typer.Option(None, "--ray", help="Run on Ray: 'local' (start Ray here; also "
                                                      "--ray alone), 'auto' or ray://host:10001."),
          converter: str = typer.Option(None, "--engine", "--converter", help="Tone-colour converter "
                                        "(default: world for say items; for convert items knn, or "
                                        "world for a voice with under 5 s of speech, as `voxclone convert`)."),
          tts: str = typer.Option("espeak", help="Base TTS engine (say)."),
          lang: str = typer.Option("en", help="Language of the texts (say)."),
          speed: float = typer.Option(1.0, help="Tempo multiplier 0.5-2 (say)."),
          pitch: float = typer.Option(0.0, help="Pitch offset in semitones (say)."),
          energy: float = typer.Option(1.0, help="Expressiveness/loudness 0.25-2 (say)."),
          base_voice: str = typer.Option(None, help="Base TTS voice (default: the best-ranked one)."),
          pitch_shift: float = typer.Option(0.0, help="Extra semitones (convert)."),
          strength: float = typer.Option(1.0, help="Conversion strength 0..1."),
          seed: int = typer.Option(0, help="Seed; each item's seed derives from it and its id."),
          no_watermark: bool = typer.Option(False, "--no-watermark", help="Do not embed the "
                                            "inaudible watermark (recorded in each file's metadata)."),
          ) -> None:
    """Make OUT/<id>.wav for every item of SOURCE; a re-run resumes where the last one stopped."""
    from voxclone.errors import InvalidSetting
    from voxclone.pipeline import PipelineConfig
    from voxclone.scale import BatchOptions, run_batch

    if mode not in (None, "say", "convert"):
        raise InvalidSetting(f"--mode {mode}: use say or convert.")
    options = BatchOptions(mode, PipelineConfig(tts=tts, converter=converter or "world", strength=strength,
                                                 watermark=not no_watermark),  # type: ignore[arg-type]
                           lang, speed, pitch, energy, base_voice, pitch_shift, seed,
                           convert_default=converter is None)
    summary = run_batch(source, out, voice_arg(voice, [str(r) for r in ref or []]), options,
                        workers, ray, progress=True)
    for item_id, reason in summary.failures:
        typer.echo(f"failed {item_id}: {reason}", err=True)
    typer.echo(summary.line())
    if summary.failed:
        raise typer.Exit(1)
