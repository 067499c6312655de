"""A training run from its config: data → codec (fitted or loaded) → token cache → trainer."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable

from voxclone.audio.io import load
from voxclone.codeclm.codec import Codec, load_codec
from voxclone.codeclm.text_tokens import TextTokenizer
from voxclone.errors import VoxcloneError
from voxclone.train import checkpoint as ckpt
from voxclone.train.config import TrainConfig
from voxclone.train.data import Utterance, encode_all, make_items, read_metadata
from voxclone.train.trainer import CodecLMTrainer

log = logging.getLogger(__name__)
STOP_FILE = "STOP"  # created in the run folder: the run saves a checkpoint and ends


def build_codec(cfg: TrainConfig, utts: list[Utterance], run_dir: Path) -> Codec:
    """The run's codec: ``codec.path`` if given, the one saved in the run, or a new fit."""
    if cfg.codec.path:
        return load_codec(cfg.codec.path)
    saved = run_dir / "codec"
    if (saved / "codec.json").is_file():
        return load_codec(saved)
    if cfg.codec.name == "encodec-24khz":
        from voxclone.codeclm.encodec_codec import EncodecCodec

        codec = EncodecCodec.from_pretrained(n_q=cfg.codec.n_q)
    else:
        from voxclone.codeclm.world_rvq import WorldRVQCodec, WorldRVQConfig

        clips, seconds = [], 0.0
        for u in utts:
            if seconds >= cfg.codec.fit_seconds:
                break
            clip = load(u.path)
            clips.append(clip)
            seconds += clip.duration
        log.info("fitting WORLD-RVQ on %.0f s of audio", seconds)
        codec = WorldRVQCodec.fit(clips, WorldRVQConfig(n_q=cfg.codec.n_q, n_codes=cfg.codec.n_codes,
                                                        f0_method=cfg.codec.f0_method, seed=cfg.seed))
    codec.save(saved)
    return codec


def build_trainer(cfg: TrainConfig, resume: bool = False, progress: bool = False,
                  sample_check: Callable[[Any, float], dict[str, Any]] | None = None) -> CodecLMTrainer:
    """Everything a run needs, resumed from its latest checkpoint when ``resume``."""
    if not cfg.data.train:
        raise VoxcloneError("No training data: set data.train to an LJSpeech-format folder "
                            "(`voxclone dataset prepare` writes one).")
    run_dir = Path(cfg.out)
    train_utts = read_metadata(cfg.data.train, "train")
    val_utts = read_metadata(cfg.data.val, "val") if cfg.data.val else _val_split(cfg.data.train)
    codec = build_codec(cfg, train_utts, run_dir)
    cache_root = Path(cfg.data.train if Path(cfg.data.train).is_dir() else Path(cfg.data.train).parent)
    codes = encode_all(train_utts + val_utts, codec, cache_root / "tokens", progress)
    latest = ckpt.latest_checkpoint(run_dir) if resume else None
    if latest is not None:
        tok = TextTokenizer.from_dict(ckpt.read_meta(latest)["tokenizer"])
    else:
        tok = TextTokenizer(cfg.data.text, cfg.data.lang).fit(u.text for u in train_utts + val_utts)
    lo, hi = (int(s * codec.frame_rate) for s in (cfg.data.min_seconds, cfg.data.max_seconds))
    n_q = min(cfg.codec.n_q, codec.n_q)
    train_items = make_items(train_utts, codes, tok, n_q, lo, hi)
    val_items = make_items(val_utts, codes, tok, n_q, lo, hi)
    if not train_items:
        raise VoxcloneError(f"No usable training utterance in {cfg.data.train} (between "
                            f"{cfg.data.min_seconds} and {cfg.data.max_seconds} s).")
    trainer = CodecLMTrainer(cfg, train_items, val_items, codec, tok, run_dir, sample_check)
    stop = run_dir / STOP_FILE
    stop.unlink(missing_ok=True)
    trainer.should_stop = stop.exists  # another process asks for a stop (checkpoint, then exit)
    if resume:
        if latest is None:
            raise VoxcloneError(f"--resume: no checkpoint in {run_dir}/checkpoints; start without it.")
        trainer.resume(latest)
        log.info("resumed %s at step %d", latest, trainer.step)
    return trainer


def _val_split(train: str) -> list[Utterance]:
    folder = Path(train)
    if folder.is_dir() and (folder / "metadata_val.csv").is_file():
        return read_metadata(folder, "val")
    return []


def train_codec_lm(cfg: TrainConfig, resume: bool = False, until: int | None = None,
                   progress: bool = False,
                   sample_check: Callable[[Any, float], dict[str, Any]] | None = None) -> Path:
    """Run (or continue) training to ``until`` / max_steps; returns the latest checkpoint."""
    trainer = build_trainer(cfg, resume, progress, sample_check)
    trainer.fit(until, progress)
    latest = ckpt.latest_checkpoint(Path(cfg.out))
    assert latest is not None
    return latest
