"""`voxclone train ...` and `voxclone dataset prepare`: thin commands over voxclone.train."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from voxclone.cli.common import friendly_errors

train_app = typer.Typer(help="Train a codec language model (VALL-E style AR + NAR) on your data.",
                        no_args_is_help=True)
dataset_app = typer.Typer(help="Prepare training data (LJSpeech-format folders).", no_args_is_help=True)

SET_OPT = typer.Option(None, "--set", help="Config override key=value (repeatable), e.g. optim.lr=1e-4.")


@train_app.command("config")
@friendly_errors
def config(output: Path = typer.Option(..., "-o", "--output", help="YAML file to write."),
           data: str = typer.Option("", help="Training data folder (LJSpeech format)."),
           val: str = typer.Option("", help="Validation folder (default: the data's val split)."),
           out: str = typer.Option("runs/codec-lm", help="Run folder."),
           size: str = typer.Option("small", help="Model size: base, small or tiny."),
           codec: str = typer.Option("world-rvq", help="Codec: world-rvq or encodec-24khz."),
           steps: int = typer.Option(2000, help="Training steps."),
           batch_frames: int = typer.Option(3000, help="Codec frames per batch."),
           lr: float = typer.Option(3e-4, help="Peak learning rate."),
           length_control: str = typer.Option("stop_token", help="stop_token, duration_predictor "
                                              "or length_prompt."),
           text: str = typer.Option("char", help="Text units: char or phoneme (espeak-ng)."),
           overrides: list[str] = SET_OPT) -> None:
    """Write a training configuration (every field, with these values) to OUTPUT."""
    from voxclone.train.config import load_config, to_yaml

    paths = [f"data.train={data}"] * bool(data) + [f"data.val={val}"] * bool(val)
    cfg = load_config(None, [*paths, f"out={out}",
                             f"model.size={size}", f"codec.name={codec}", f"max_steps={steps}",
                             f"data.batch_frames={batch_frames}", f"optim.lr={lr}",
                             f"model.length_control={length_control}", f"data.text={text}",
                             *(overrides or [])])
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(to_yaml(cfg), encoding="utf-8")
    typer.echo(f"wrote {output}")


def failure_flags(audio: Any, expected_s: float) -> dict[str, Any]:
    """voxclone.eval's failure flags of a training sample (the CLI may import eval; train may not)."""
    from voxclone.eval.failures import FLAGS, detect_failures

    report = detect_failures(audio, expected_s)
    return {flag: bool(getattr(report, flag)) for flag in FLAGS}


@train_app.command("codec-lm")
@friendly_errors
def codec_lm(config: Path = typer.Option(..., "--config", "-c", help="YAML from `voxclone train config`."),
             resume: bool = typer.Option(False, help="Continue from the run's latest checkpoint."),
             device: str = typer.Option("auto", help="auto, cpu, cuda or mps."),
             until: int = typer.Option(None, help="Stop at this step (the schedule still spans max_steps)."),
             overrides: list[str] = SET_OPT) -> None:
    """Train (or resume) a codec LM; checkpoints, log.jsonl and curves.png go to the run folder."""
    from voxclone.train.config import load_config
    from voxclone.train.run import train_codec_lm

    cfg = load_config(config, [f"device={device}", *(overrides or [])])
    latest = train_codec_lm(cfg, resume=resume, until=until, progress=True, sample_check=failure_flags)
    typer.echo(f"checkpoint {latest}\nlog {Path(cfg.out) / 'log.jsonl'}  curves {Path(cfg.out) / 'curves.png'}"
               f"\nspeak with: voxclone say TEXT --tts codec-lm:{latest} --converter none --voice NAME -o out.wav")


@dataset_app.command("prepare")
@friendly_errors
def prepare(sources: list[str] = typer.Argument(None, help="Recordings, folders or corpora (LJSpeech, "
                                                "VCTK, LibriTTS layouts)."),
            out: Path = typer.Option(..., "--out", help="Output folder (LJSpeech format)."),
            voice: str = typer.Option(None, "--voice", help="Use the clips of this library voice."),
            lang: str = typer.Option(None, help="Language for transcription (default: detect)."),
            sample_rate: int = typer.Option(24000, help="Sample rate of the written clips."),
            hf: str = typer.Option(None, help="Stream this Hugging Face dataset (needs `datasets`)."),
            hf_split: str = typer.Option("train", help="Split of --hf."),
            ) -> None:
    """Split, transcribe, clean and filter recordings into an LJSpeech-format training folder."""
    from voxclone.train.dataset import PrepareConfig, prepare_dataset, read_source
    from voxclone.train.dataset.sources import read_hf_dataset, read_raw

    streams = [read_source(s) for s in sources or []]
    if voice:
        from voxclone.voices import VoiceLibrary

        lib = VoiceLibrary()
        info = lib.info(voice)
        streams.append(read_raw([lib.clips_dir / info.name / c.filename for c in info.clips]))
    if hf:
        streams.append(read_hf_dataset(hf, hf_split))
    if not streams:
        from voxclone.errors import VoxcloneError

        raise VoxcloneError("Nothing to prepare: give recordings/folders, --voice NAME or --hf NAME.")
    items = (item for stream in streams for item in stream)
    report = prepare_dataset(items, out, PrepareConfig(sample_rate=sample_rate, lang=lang), progress=True)
    rejected = ", ".join(f"{k} {v}" for k, v in sorted(report.rejected.items())) or "none"
    typer.echo(f"{out}: {report.kept} clips ({report.seconds / 60:.1f} min), rejected: {rejected}, "
               f"skipped (done before): {report.skipped}")
