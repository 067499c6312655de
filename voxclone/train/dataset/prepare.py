"""``prepare_dataset``: recordings or corpora → an LJSpeech-format training folder.

Each source item is loaded, split at pauses into 1-15 s clips when it has no transcript (then
transcribed by the offline ASR), resampled, trimmed, loudness-normalised and filtered (clipping,
SNR, too short / long, empty transcript). Kept clips go to ``wavs/ID.wav`` and ``metadata.csv``
(``ID|text|text``), with a deterministic train/val split in ``metadata_train.csv`` /
``metadata_val.csv``. ``prepare.jsonl`` records every decision, so a re-run skips what is done.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from voxclone.audio.dsp import apply_gain_db, resample, rms_db
from voxclone.audio.io import save
from voxclone.audio.types import Audio
from voxclone.audio.vad import frame_energy_db, speech_mask, trim_silence
from voxclone.errors import AudioError, EngineUnavailable
from voxclone.train.dataset.segment import split_recording
from voxclone.train.dataset.sources import SourceItem

log = logging.getLogger(__name__)
Transcriber = Callable[..., Any]  # (audio, lang) -> object with .text


@dataclass(frozen=True)
class PrepareConfig:
    """sample_rate: Hz of the written clips; min_s / max_s: clip length bounds; level_db: RMS
    level clips are normalised to (dBFS); max_clipped: share of samples at |x| >= 0.99 allowed;
    min_snr_db: speech-to-pause level ratio below which a clip is too noisy; val_fraction: share
    of clips (by id hash) in the validation split (at least one when there are two or more);
    lang: language for the ASR (None: detect)."""

    sample_rate: int = 24000
    min_s: float = 1.0
    max_s: float = 15.0
    level_db: float = -20.0
    max_clipped: float = 0.001
    min_snr_db: float = 15.0
    val_fraction: float = 0.05
    lang: str | None = None


@dataclass
class PrepareReport:
    """kept: clips written (this run and earlier ones); rejected: reason → count; skipped: items
    done by an earlier run."""

    kept: int = 0
    rejected: Counter = field(default_factory=Counter)
    skipped: int = 0
    seconds: float = 0.0


def snr_db(audio: Audio) -> float:
    """Speech level minus pause level (dB): 90th vs 10th percentile frame level, or the speech
    mean against the non-speech mean where both exist."""
    db = frame_energy_db(audio)
    if len(db) < 5:
        return 0.0
    mask = speech_mask(audio)[: len(db)]
    if mask.all() or not mask.any():
        return float(np.percentile(db, 90) - np.percentile(db, 10))
    return float(np.mean(db[mask]) - np.mean(db[~mask]))


def clean_clip(audio: Audio, cfg: PrepareConfig) -> tuple[Audio | None, str | None]:
    """Resampled, trimmed, normalised clip, or (None, reason)."""
    x = np.abs(audio.samples)
    if len(x) == 0 or rms_db(audio) < -60:
        return None, "silent"
    if float(np.mean(x >= 0.99)) > cfg.max_clipped:
        return None, "clipping"
    a = trim_silence(resample(audio, cfg.sample_rate))
    if a.duration < cfg.min_s:
        return None, "too_short"
    if a.duration > cfg.max_s + 0.5:
        return None, "too_long"
    if snr_db(a) < cfg.min_snr_db:
        return None, "low_snr"
    return apply_gain_db(a, cfg.level_db - rms_db(a)), None


def default_transcriber() -> Transcriber:
    """voxclone's offline ASR (``voxclone.asr.transcribe``)."""
    try:
        from voxclone.asr import transcribe
    except ImportError as exc:
        raise EngineUnavailable("Transcribing recordings needs voxclone.asr (faster-whisper): "
                                "`pip install 'voxclone[asr]'`, or give transcripts.") from exc
    return transcribe


class _State:
    """``prepare.jsonl``: one line per decided clip id (kept with its text, or a reason)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.done: dict[str, dict[str, Any]] = {}
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    rec = json.loads(line)
                    self.done[rec["source"]] = rec
        self.kept = {c["id"]: c for r in self.done.values() for c in r["clips"]}

    def record(self, rec: dict[str, Any]) -> None:
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(rec) + "\n")
        self.done[rec["source"]] = rec
        for c in rec["clips"]:
            self.kept[c["id"]] = c


def prepare_dataset(items: Iterable[SourceItem], out: str | Path, cfg: PrepareConfig = PrepareConfig(),
                    transcriber: Transcriber | None = None, progress: bool = False) -> PrepareReport:
    """Write the LJSpeech-format folder ``out`` from ``items``; returns what happened."""
    out = Path(out)
    (out / "wavs").mkdir(parents=True, exist_ok=True)
    state = _State(out / "prepare.jsonl")
    report = PrepareReport()
    from tqdm import tqdm

    for item in tqdm(list(items), desc="prepare", disable=not progress):
        if item.id in state.done:
            report.skipped += 1
            continue
        clips, reasons = _prepare_item(item, out, cfg, transcriber)
        report.rejected.update(reasons)
        state.record({"source": item.id, "clips": clips, "rejected": reasons})
    kept = [c for c in state.kept.values() if (out / "wavs" / f"{c['id']}.wav").is_file()]
    report.kept = len(kept)
    report.seconds = float(sum(c["seconds"] for c in kept))
    _write_metadata(out, kept, cfg.val_fraction)
    return report


def _prepare_item(item: SourceItem, out: Path, cfg: PrepareConfig,
                  transcriber: Transcriber | None) -> tuple[list[dict[str, Any]], list[str]]:
    try:
        audio = item.audio()
    except AudioError as exc:
        log.warning("skipped %s: %s", item.id, exc)
        return [], ["unreadable"]
    if item.text is None:
        pieces = [(f"{item.id}_{i:03d}", a, None) for i, a in enumerate(split_recording(audio, cfg.min_s, cfg.max_s))]
        if not pieces:
            return [], ["no_speech"]
    else:
        pieces = [(item.id, audio, item.text)]
    clips, reasons = [], []
    for cid, piece, text in pieces:
        clean, reason = clean_clip(piece, cfg)
        if clean is not None and text is None:
            transcribe = transcriber or default_transcriber()
            text = transcribe(clean, cfg.lang).text.strip()
        if clean is not None and not (text or "").strip():
            reason = "empty_transcript"
        if reason:
            reasons.append(reason)
            continue
        save(clean, out / "wavs" / f"{cid}.wav")
        clips.append({"id": cid, "text": " ".join(text.replace("|", " ").split()), "speaker": item.speaker,
                      "seconds": round(clean.duration, 3)})
    return clips, reasons


def _write_metadata(out: Path, clips: list[dict[str, Any]], val_fraction: float) -> None:
    clips = sorted(clips, key=lambda c: c["id"])
    rank = sorted(clips, key=lambda c: hashlib.sha256(c["id"].encode()).hexdigest())
    n_val = max(1 if len(clips) >= 2 and val_fraction > 0 else 0, int(round(val_fraction * len(clips))))
    val_ids = {c["id"] for c in rank[:n_val]}
    line = lambda c: f"{c['id']}|{c['text']}|{c['text']}\n"  # noqa: E731
    (out / "metadata.csv").write_text("".join(map(line, clips)), encoding="utf-8")
    (out / "metadata_train.csv").write_text("".join(line(c) for c in clips if c["id"] not in val_ids),
                                            encoding="utf-8")
    (out / "metadata_val.csv").write_text("".join(line(c) for c in clips if c["id"] in val_ids),
                                          encoding="utf-8")
