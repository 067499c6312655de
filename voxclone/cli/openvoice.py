"""`voxclone models export-onnx`: ONNX graphs of an OpenVoice V2 converter checkpoint."""

from __future__ import annotations

from pathlib import Path

import typer

from voxclone.cli.common import friendly_errors


@friendly_errors
def export_onnx(model_dir: Path = typer.Argument(None, help="Folder with config.json + checkpoint.pth "
                                                 "(default: VOXCLONE_HOME/models/openvoice-v2)."),
                out: Path = typer.Option(None, "--out", "-o", help="Output folder (default: MODEL_DIR/onnx)."),
                ) -> None:
    """Export the reference encoder and the converter (posterior encoder → flow → decoder) to ONNX."""
    from voxclone.convert.openvoice.checkpoint import CHECKPOINT_FILE, load_model, require_files
    from voxclone.convert.openvoice.converter import ONNX_SUBDIR, ensure_onnx, file_id
    from voxclone.convert.openvoice.export import export_onnx as export
    from voxclone.convert.openvoice.fetch import model_dir as default_dir

    model_dir = model_dir or default_dir()
    require_files(model_dir)
    if out is None or Path(out) == Path(model_dir) / ONNX_SUBDIR:
        paths = ensure_onnx(model_dir, file_id(Path(model_dir) / CHECKPOINT_FILE))
        written = [paths / "ref_enc.onnx", paths / "converter.onnx"]
    else:
        written = list(export(load_model(model_dir), out).values())
    for path in written:
        typer.echo(f"wrote {path} ({path.stat().st_size / 2**20:.1f} MiB)")


def register(models_app: typer.Typer) -> None:
    """Add the command to the `models` group."""
    models_app.command("export-onnx")(export_onnx)
