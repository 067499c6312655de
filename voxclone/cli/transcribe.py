"""`voxclone transcribe`: offline Whisper transcripts with the detected language and word times."""

from __future__ import annotations

from pathlib import Path

import typer

from voxclone.cli.common import friendly_errors


def register(app: typer.Typer) -> None:
    """Add the ``transcribe`` command to ``app``."""
    app.command("transcribe")(friendly_errors(transcribe))


def transcribe(files: list[Path] = typer.Argument(..., help="Audio files (wav/flac/mp3/ogg)."),
               lang: str = typer.Option(None, help="Language code (e.g. en, es, zh); default: "
                                        "detect it (multilingual model)."),
               model: str = typer.Option("whisper", help="whisper (tiny.en for English, base "
                                         "otherwise) or whisper-base (base for every language)."),
               srt: bool = typer.Option(False, "--srt", help="Print SubRip captions."),
               vtt: bool = typer.Option(False, "--vtt", help="Print WebVTT captions."),
               as_json: bool = typer.Option(False, "--json", help="Print JSON (text, language, words)."),
               out_dir: Path = typer.Option(None, "--out-dir", help="Write FILE's result to "
                                            "OUT_DIR/<name>.txt|.srt|.vtt|.json instead of printing."),
               ) -> None:
    """Transcribe FILES offline: text, detected language and word times."""
    from voxclone.asr import transcribe as run_asr
    from voxclone.asr.captions import to_json, to_srt, to_vtt
    from voxclone.audio import load
    from voxclone.errors import InvalidSetting, VoxcloneError

    if sum([srt, vtt, as_json]) > 1:
        raise InvalidSetting("Choose at most one of --srt, --vtt and --json.")
    if model not in ("whisper", "whisper-base"):
        raise InvalidSetting(f"Unknown model '{model}': use whisper or whisper-base.")
    if out_dir is not None:
        if out_dir.exists() and not out_dir.is_dir():
            raise VoxcloneError(f"--out-dir {out_dir} is a file: give a folder (it is created "
                                "when missing).")
        out_dir.mkdir(parents=True, exist_ok=True)
    suffix = ".srt" if srt else ".vtt" if vtt else ".json" if as_json else ".txt"
    for path in files:
        result = run_asr(load(path), lang, model)
        if srt:
            text = to_srt(result.words)
        elif vtt:
            text = to_vtt(result.words)
        elif as_json:
            text = to_json(result, str(path))
        else:
            times = " ".join(f"{w.word.strip()}[{w.start:.2f}-{w.end:.2f}]" for w in result.words)
            text = (f"{path}\tlanguage {result.language} (p={result.language_probability:.2f})\n"
                    f"{result.text}\n{times}\n")
        if out_dir is not None:
            target = out_dir / (Path(path).stem + suffix)
            tmp = target.with_name(f".{target.name}.tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(target)
            typer.echo(f"wrote {target}")
        else:
            typer.echo(text.rstrip("\n"))
