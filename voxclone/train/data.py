"""Training data: LJSpeech-format metadata, codec token caches, a resumable bucketing sampler and
batch collation."""

from __future__ import annotations

import csv
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from voxclone.audio.io import load
from voxclone.codeclm.codec import Codec
from voxclone.codeclm.text_tokens import TextTokenizer
from voxclone.errors import AudioError, VoxcloneError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Utterance:
    """id: file stem; text: transcript; path: audio file."""

    id: str
    text: str
    path: Path


def read_metadata(source: str | Path, split: str = "train") -> list[Utterance]:
    """Utterances of an LJSpeech-format folder (``wavs/ID.wav`` + ``metadata.csv`` lines
    ``ID|text|normalised text``; ``metadata_<split>.csv`` when present) or of a metadata file."""
    source = Path(source)
    if source.is_dir():
        named = source / f"metadata_{split}.csv"
        meta = named if named.is_file() else source / "metadata.csv"
        root = source
    else:
        meta, root = source, source.parent
    if not meta.is_file():
        raise VoxcloneError(f"No metadata.csv in {source}: give an LJSpeech-format folder "
                            "(`voxclone dataset prepare` writes one).")
    out = []
    with meta.open(encoding="utf-8", newline="") as f:
        for row in csv.reader(f, delimiter="|", quoting=csv.QUOTE_NONE):
            if len(row) >= 2 and row[0]:
                text = row[2] if len(row) > 2 and row[2].strip() else row[1]
                out.append(Utterance(row[0], text.strip(), root / "wavs" / f"{row[0]}.wav"))
    return out


def cache_dir(root: str | Path, codec: Codec) -> Path:
    """Token cache folder of ``codec`` under ``root``: named by codec id and content hash."""
    return Path(root) / f"{codec.id}-{codec.content_hash}"


def encode_all(utts: list[Utterance], codec: Codec, root: str | Path, progress: bool = True
               ) -> dict[str, np.ndarray]:
    """Codes [n_q, T] of every utterance, cached as ``<root>/<codec>-<hash>/<id>.npy`` (int16);
    cached ones are read, not re-encoded."""
    folder = cache_dir(root, codec)
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, np.ndarray] = {}
    from tqdm import tqdm

    for u in tqdm(utts, desc="codec tokens", disable=not progress, leave=False):
        path = folder / f"{u.id}.npy"
        if path.is_file():
            out[u.id] = np.load(path).astype(np.int64)
            continue
        try:
            codes = codec.encode(load(u.path))
        except AudioError as exc:
            log.warning("left out %s: %s", u.id, exc)
            continue
        tmp = path.with_suffix(f".tmp{os.getpid()}.npy")
        np.save(tmp, codes.astype(np.int16))
        os.replace(tmp, path)
        out[u.id] = codes
    (folder / "codec.json").write_text(json.dumps({"id": codec.id, "hash": codec.content_hash}))
    return out


@dataclass
class Item:
    """One training example: text ids (Lt,) and codes (n_q, T)."""

    id: str
    text: np.ndarray
    codes: np.ndarray


def make_items(utts: list[Utterance], codes: dict[str, np.ndarray], tok: TextTokenizer,
               n_q: int, min_frames: int = 1, max_frames: int = 10**9) -> list[Item]:
    """Items with codes in ``codes`` and a length in [min_frames, max_frames]."""
    items = []
    for u in utts:
        c = codes.get(u.id)
        if c is None or not min_frames <= c.shape[1] <= max_frames:
            continue
        items.append(Item(u.id, np.asarray(tok.encode(u.text), dtype=np.int64), c[:n_q]))
    return items


class BucketSampler:
    """Batches of similar length: items sorted by frames are cut into batches of at most
    ``batch_frames`` frames (and ``max_batch`` items); the batch order is shuffled per epoch from
    (seed, epoch). ``state_dict`` = (epoch, position) makes resume exact."""

    def __init__(self, lengths: list[int], batch_frames: int, max_batch: int, seed: int) -> None:
        order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
        self.batches: list[list[int]] = []
        cur: list[int] = []
        for i in order:
            if cur and ((len(cur) + 1) * lengths[i] > batch_frames or len(cur) >= max_batch):
                self.batches.append(cur)
                cur = []
            cur.append(i)
        if cur:
            self.batches.append(cur)
        self.seed, self.epoch, self.position = seed, 0, 0

    def _order(self) -> list[int]:
        rng = np.random.default_rng([self.seed, self.epoch])
        return [int(i) for i in rng.permutation(len(self.batches))]

    def next_batch(self) -> list[int]:
        """Indices of the next batch (a new epoch starts when one ends)."""
        if self.position >= len(self.batches):
            self.epoch, self.position = self.epoch + 1, 0
        batch = self.batches[self._order()[self.position]]
        self.position += 1
        return batch

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "position": self.position, "n_batches": len(self.batches)}

    def load_state_dict(self, state: dict[str, int]) -> None:
        if state["n_batches"] != len(self.batches):
            raise VoxcloneError("The training data changed since the checkpoint (batch count "
                                f"{state['n_batches']} → {len(self.batches)}): resume needs the same data.")
        self.epoch, self.position = int(state["epoch"]), int(state["position"])


@dataclass
class Batch:
    """text (B, Lt), text_lens (B,), codes (B, n_q, T), code_lens (B,); padding is 0."""

    text: torch.Tensor
    text_lens: torch.Tensor
    codes: torch.Tensor
    code_lens: torch.Tensor

    def to(self, device: torch.device) -> "Batch":
        return Batch(self.text.to(device), self.text_lens.to(device), self.codes.to(device),
                     self.code_lens.to(device))


def collate(items: list[Item]) -> Batch:
    """Pad a list of items into a Batch."""
    lt = max(len(i.text) for i in items)
    t = max(i.codes.shape[1] for i in items)
    n_q = items[0].codes.shape[0]
    text = torch.zeros(len(items), lt, dtype=torch.long)
    codes = torch.zeros(len(items), n_q, t, dtype=torch.long)
    for b, it in enumerate(items):
        text[b, : len(it.text)] = torch.from_numpy(it.text)
        codes[b, :, : it.codes.shape[1]] = torch.from_numpy(it.codes.astype(np.int64))
    return Batch(text, torch.tensor([len(i.text) for i in items]), codes,
                 torch.tensor([i.codes.shape[1] for i in items]))
