"""`voxclone serve` (HTTP API + web UI) and `voxclone info FILE` (settings stored in an output)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from voxclone.cli.common import friendly_errors


@friendly_errors
def serve(host: str = typer.Option("127.0.0.1", help="Address to listen on (0.0.0.0: every interface)."),
          port: int = typer.Option(7860, help="TCP port."),
          workers: int = typer.Option(2, help="Synthesis worker threads."),
          no_ui: bool = typer.Option(False, "--no-ui", help="Serve the API only, without the web UI."),
          allow_no_watermark: bool = typer.Option(False, "--allow-no-watermark", help="Let requests "
                                                  "turn the watermark off (watermark=false); off by default."),
          engine: str = typer.Option(None, help="Pin the default engine pair (tts:converter), saved like "
                                     "the UI's Settings; 'auto': the measured default of each language."),
          no_warmup: bool = typer.Option(False, "--no-warmup", help="Do not load engines and cached "
                                         "voices at start (the first requests pay for it)."),
          ) -> None:
    """Serve the OpenAI-compatible API (/v1) and the web UI (/) on one port."""
    import uvicorn

    from voxclone.serve import ServeConfig, create_app

    from voxclone.serve import Service
    from voxclone.serve.ui_actions import engine_setting

    service = Service(ServeConfig(workers=workers, allow_no_watermark=allow_no_watermark,
                                  warmup=not no_warmup))
    if engine:
        tts, converter = engine_setting(engine)
        service.update_runtime(tts=tts, converter=converter)
    app = create_app(service.config, ui=not no_ui, service=service)
    typer.echo(f"voxclone: web UI http://{host}:{port}/  API http://{host}:{port}/v1  "
               f"docs http://{host}:{port}/docs", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")


@friendly_errors
def info(file: Path = typer.Argument(..., help="An audio file written by voxclone."),
         as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Print the settings, voice, engine and provenance stored in an output file, whether it is
    watermarked, and whether its content credentials verify."""
    from voxclone.audio.metadata import read_metadata
    from voxclone.cli.provenance import check_file, print_checks

    meta = read_metadata(file)
    meta.update(check_file(file))
    if as_json:
        typer.echo(json.dumps(meta, indent=2, ensure_ascii=False))
        return
    settings = meta["settings"]
    if settings is None:
        typer.echo(f"{file}: no voxclone settings stored")
    else:
        for key in ("kind", "voice", "engine", "base_voice", "created", "text", "content",
                    "generator", "generator_version", "voice_id", "seed", "watermark", "consent"):
            if key in settings:
                typer.echo(f"{key}: {settings[key]}")
        for key, value in sorted(settings.get("settings", {}).items()):
            typer.echo(f"  {key}: {value}")
    for key, value in sorted(meta["tags"].items()):
        if key != "comment" or settings is None:
            typer.echo(f"tag {key}: {value}")
    print_checks(meta)
