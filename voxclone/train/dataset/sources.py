"""Readers of speech corpora into ``SourceItem``s: LJSpeech, VCTK, LibriTTS, voxclone's eval
manifest, raw recordings (no transcript), and Hugging Face ``datasets`` rows."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from voxclone.audio.io import load
from voxclone.audio.types import Audio
from voxclone.errors import AudioError

AUDIO_EXT = (".wav", ".flac", ".mp3", ".ogg")
_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class SourceItem:
    """One recording: id (safe file stem), text (None: transcribe it), speaker, and how to get
    its audio (``audio()``)."""

    id: str
    text: str | None
    speaker: str
    loader: Callable[[], Audio]

    def audio(self) -> Audio:
        return self.loader()


def safe_id(text: str) -> str:
    """A file-stem-safe id."""
    return _SAFE.sub("_", text).strip("._") or "clip"


def _file(path: Path) -> Callable[[], Audio]:
    return lambda: load(path)


def read_ljspeech(folder: Path) -> Iterator[SourceItem]:
    """``metadata.csv`` (ID|text|normalised) + ``wavs/ID.wav``."""
    with (folder / "metadata.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.reader(f, delimiter="|", quoting=csv.QUOTE_NONE):
            if len(row) >= 2:
                text = row[2] if len(row) > 2 and row[2].strip() else row[1]
                yield SourceItem(safe_id(row[0]), text.strip(), "lj", _file(folder / "wavs" / f"{row[0]}.wav"))


def read_vctk(folder: Path) -> Iterator[SourceItem]:
    """``txt/<spk>/<utt>.txt`` with ``wav48_silence_trimmed/<spk>/<utt>_mic1.flac`` (0.92) or
    ``wav48/<spk>/<utt>.wav`` (0.80)."""
    for txt in sorted((folder / "txt").glob("*/*.txt")):
        spk, utt = txt.parent.name, txt.stem
        for cand in (folder / "wav48_silence_trimmed" / spk / f"{utt}_mic1.flac",
                     folder / "wav48" / spk / f"{utt}.wav"):
            if cand.is_file():
                yield SourceItem(safe_id(utt), txt.read_text(encoding="utf-8").strip(), spk, _file(cand))
                break


def read_libritts(folder: Path) -> Iterator[SourceItem]:
    """``<spk>/<chapter>/<utt>.wav`` with ``<utt>.normalized.txt``."""
    for txt in sorted(folder.rglob("*.normalized.txt")):
        wav = txt.with_name(txt.name.replace(".normalized.txt", ".wav"))
        if wav.is_file():
            yield SourceItem(safe_id(wav.stem), txt.read_text(encoding="utf-8").strip(),
                             wav.parent.parent.name, _file(wav))


def read_eval_manifest(folder: Path) -> Iterator[SourceItem]:
    """voxclone's eval layout: ``manifest.tsv`` (utt_id speaker … path transcript)."""
    with (folder / "manifest.tsv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            yield SourceItem(safe_id(row["utt_id"]), row.get("transcript", "").strip(),
                             row.get("speaker", "spk"), _file(folder / row["path"]))


def read_raw(paths: Iterable[Path]) -> Iterator[SourceItem]:
    """Audio files (or folders of them) without transcripts: split and transcribed later."""
    for path in paths:
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in AUDIO_EXT) if path.is_dir() else [path]
        for f in files:
            yield SourceItem(safe_id(f.stem), None, "raw", _file(f))


def read_source(path: str | Path) -> Iterator[SourceItem]:
    """Items of ``path``, by its layout: LJSpeech, VCTK, LibriTTS, eval manifest, else raw audio."""
    p = Path(path)
    if not p.exists():
        raise AudioError(f"Dataset source not found: {p}.")
    if p.is_dir() and (p / "metadata.csv").is_file():
        return read_ljspeech(p)
    if p.is_dir() and (p / "txt").is_dir():
        return read_vctk(p)
    if p.is_dir() and (p / "manifest.tsv").is_file():
        return read_eval_manifest(p)
    if p.is_dir() and next(p.rglob("*.normalized.txt"), None) is not None:
        return read_libritts(p)
    return read_raw([p])


def read_hf(rows: Iterable[dict[str, Any]], audio_column: str = "audio", text_column: str = "text",
            id_column: str | None = "id", speaker_column: str | None = "speaker_id") -> Iterator[SourceItem]:
    """Rows of a Hugging Face ``datasets`` (streaming) dataset: ``audio`` as {"array",
    "sampling_rate"}, ``text``; e.g. ``load_dataset(name, split="train", streaming=True)``."""
    for i, row in enumerate(rows):
        a = row[audio_column]
        audio = Audio(np.asarray(a["array"], dtype=np.float32), int(a["sampling_rate"]))
        uid = safe_id(str(row.get(id_column, i) if id_column else i))
        spk = str(row.get(speaker_column, "hf")) if speaker_column else "hf"
        text = row.get(text_column)
        yield SourceItem(uid, str(text).strip() if text is not None else None, spk,
                         lambda audio=audio: audio)


def read_hf_dataset(name: str, split: str = "train", **columns: str) -> Iterator[SourceItem]:
    """Stream ``name`` from the Hugging Face hub with ``datasets`` (an optional dependency)."""
    try:
        from datasets import load_dataset
    except ImportError as exc:
        from voxclone.errors import EngineUnavailable

        raise EngineUnavailable("Streaming a hub dataset needs `pip install datasets`.") from exc
    return read_hf(load_dataset(name, split=split, streaming=True), **columns)
