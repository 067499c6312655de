"""Test factories: a real recording as a tiny LJSpeech-format dataset, and a fitted tiny codec."""

from __future__ import annotations

from pathlib import Path

from voxclone.audio.io import load, save
from voxclone.audio.types import Audio

ARCTIC_TEXT = "And you always want to see it in the superlative degree."


def arctic_clip() -> Audio:
    """The CMU ARCTIC recording that pysptk ships (16 kHz, 4 s) — real speech, no download."""
    import pysptk

    return load(pysptk.util.example_audio_file())


def write_ljspeech(folder: Path, clips: list[tuple[str, Audio, str]], val: int = 0) -> Path:
    """An LJSpeech-format folder: wavs/ID.wav, metadata.csv and, when ``val`` > 0, the last
    ``val`` items in metadata_val.csv and the rest in metadata_train.csv."""
    folder = Path(folder)
    (folder / "wavs").mkdir(parents=True, exist_ok=True)
    lines = []
    for uid, audio, text in clips:
        save(audio, folder / "wavs" / f"{uid}.wav")
        lines.append(f"{uid}|{text}|{text}\n")
    (folder / "metadata.csv").write_text("".join(lines), encoding="utf-8")
    if val:
        (folder / "metadata_train.csv").write_text("".join(lines[:-val]), encoding="utf-8")
        (folder / "metadata_val.csv").write_text("".join(lines[-val:]), encoding="utf-8")
    return folder
