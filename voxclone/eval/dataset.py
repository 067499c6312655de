"""Evaluation sets: ``<set>/manifest.tsv`` + audio, and the enrolment / held-out split per speaker."""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from pathlib import Path

from voxclone.errors import VoxcloneError

MANIFEST = "manifest.tsv"
COLUMNS = ("utt_id", "speaker", "gender", "lang", "sample_rate", "duration_s", "path", "transcript")


@dataclass(frozen=True)
class Utterance:
    """One clip of a set: id, speaker, gender, language, absolute path, transcript, seconds."""

    utt_id: str
    speaker: str
    gender: str
    lang: str
    path: Path
    transcript: str
    duration_s: float


@dataclass
class SpeakerSplit:
    """Per-speaker split. enrol: reference clips; score: held-out clip(s) outputs are compared with;
    ceiling: another held-out real clip; texts: held-out transcripts the TTS speaks."""

    set_name: str
    speaker: str
    gender: str
    lang: str
    enrol: list[Utterance]
    score: list[Utterance]
    ceiling: list[Utterance]
    texts: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        """``set/speaker``."""
        return f"{self.set_name}/{self.speaker}"


def find_sets(root: Path) -> list[Path]:
    """``root`` itself when it holds a manifest, else its sub-folders that do (sorted)."""
    root = Path(root)
    if (root / MANIFEST).is_file():
        return [root]
    sets = sorted(p for p in root.iterdir() if (p / MANIFEST).is_file()) if root.is_dir() else []
    if not sets:
        raise VoxcloneError(f"No evaluation set found in {root}: expected {MANIFEST} there or in "
                            "its sub-folders (columns: " + " ".join(COLUMNS) + ").")
    return sets


def read_manifest(set_dir: Path) -> list[Utterance]:
    """Utterances listed in ``set_dir/manifest.tsv``."""
    rows = []
    with open(set_dir / MANIFEST, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            rows.append(Utterance(row["utt_id"], row["speaker"], row.get("gender", "") or "",
                                  row.get("lang", "en") or "en", set_dir / row["path"],
                                  row.get("transcript", "") or "", float(row.get("duration_s") or 0)))
    return rows


def split_speakers(set_dir: Path, ref_seconds: float = 20.0, n_texts: int = 2,
                   seed: int = 0) -> tuple[list[SpeakerSplit], list[str]]:
    """Splits for every speaker with enough clips, and notes on the speakers left out.

    Two held-out clips are reserved (scoring reference, ceiling); their transcripts and those of
    further held-out clips are the texts; the rest, shuffled by ``seed``, fill the enrolment up to
    ``ref_seconds``.
    """
    by_speaker: dict[str, list[Utterance]] = {}
    for utt in read_manifest(set_dir):
        by_speaker.setdefault(utt.speaker, []).append(utt)
    splits, skipped = [], []
    for speaker, utts in sorted(by_speaker.items()):
        if len(utts) < 4:
            skipped.append(f"{set_dir.name}/{speaker}: {len(utts)} clip(s), need 4 to enrol and hold out")
            continue
        splits.append(_split_one(set_dir.name, utts, ref_seconds, n_texts, seed))
    return splits, skipped


def _split_one(set_name: str, utts: list[Utterance], ref_seconds: float, n_texts: int,
               seed: int) -> SpeakerSplit:
    rng = random.Random(f"{seed}:{set_name}:{utts[0].speaker}")
    pool = sorted(utts, key=lambda u: u.utt_id)
    rng.shuffle(pool)
    usable = [u for u in pool if u.duration_s >= 2.0] or pool
    score, ceiling = usable[0], usable[1]
    rest = [u for u in pool if u not in (score, ceiling)]
    held_texts = [u for u in rest if u.transcript and 2.0 <= u.duration_s <= 12.0][:n_texts]
    enrol, total = [], 0.0
    for u in rest:
        if u in held_texts:
            continue
        if total >= ref_seconds:
            break
        enrol.append(u)
        total += u.duration_s
    texts = [u.transcript for u in held_texts] or [score.transcript]
    first = utts[0]
    return SpeakerSplit(set_name, first.speaker, first.gender, first.lang, enrol, [score], [ceiling],
                        texts)
