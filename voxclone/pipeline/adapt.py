"""Parallel speech for a voice's adaptation: its clips, the base TTS saying the same words, aligned.

Each enrolment clip's words (heard by the ASR) are spoken by the base TTS with the voice's own
settings; both are analysed by WORLD and their 20 ms windows aligned by dynamic time warping
(librosa's) on the bundled Whisper encoder's states, which follow the phones more than the
speaker. The aligned windows give the frame pairs :class:`~voxclone.convert.adapted.AdaptedConverter`
learns its map from.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import numpy as np

from voxclone.asr.encoder import FRAME_S, MAX_SECONDS, phonetic_keys
from voxclone.audio.f0 import F0Method
from voxclone.audio.types import Audio
from voxclone.convert.adapted import AdaptedConverter, ParallelUtterance
from voxclone.convert.base import Features
from voxclone.convert.frame_map import decoded_map
from voxclone.convert.world import WorldConverter
from voxclone.errors import ReferenceTooShort
from voxclone.pipeline.cache_files import entry_lock, read_json, write_json

log = logging.getLogger(__name__)
ALIGN_LAYER = 3
"""Whisper encoder block whose states are aligned (the later blocks see more of each phone)."""
ADAPT_VERSION = 1


def align_windows(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """DTW path (P, 2) of (source window, target window) indices, in time order, between two
    key sequences (T_s, D) and (T_t, D), by cosine distance."""
    from librosa.sequence import dtw

    _, path = dtw(X=source.T, Y=target.T, metric="cosine", backtrack=True)
    return np.asarray(path[::-1], dtype=np.int64)


def frame_path(windows: np.ndarray, per_window: int, n_source: int, n_target: int) -> np.ndarray:
    """Window pairs (P, 2) → WORLD frame pairs (P·per_window, 2), clipped to the analyses."""
    offsets = np.arange(per_window)
    src = (windows[:, :1] * per_window + offsets).reshape(-1)
    tgt = (windows[:, 1:] * per_window + offsets).reshape(-1)
    keep = (src < n_source) & (tgt < n_target)
    return np.stack([src[keep], tgt[keep]], axis=1)


def parallel_pairs(clips: Sequence[Audio], texts: Sequence[str], speak: Callable[[str], Audio],
                   converter: WorldConverter, keys: Callable[[Audio], np.ndarray] | None = None,
                   f0_method: F0Method = "dio") -> list[ParallelUtterance]:
    """Aligned analyses of every clip with words (``texts[i]`` heard in ``clips[i]``) and the base
    TTS ``speak`` saying them; the base speech's F0 by ``f0_method``, the tracker ``say``
    analyses its base speech with."""
    keys = keys or partial(phonetic_keys, layer=ALIGN_LAYER)
    per_window = round(FRAME_S * 1000.0 / converter.config.frame_period_ms)
    out = []
    for clip, text in zip(clips, texts):
        if not text.strip():
            continue
        base = speak(text)
        src = converter.analyze(base, f0_method, False)
        tgt = converter.analyze(clip, converter.config.target_f0_method, False)
        windows = align_windows(keys(base), keys(clip))
        out.append(ParallelUtterance(src, tgt, frame_path(windows, per_window, len(src.f0),
                                                          len(tgt.f0))))
    return out


def voice_adaptation(converter: AdaptedConverter, tts_name: str, voice_id: str,
                     clips: Sequence[Audio], clip_hashes: Sequence[str],
                     speak: Callable[[str, str], Audio], languages: Sequence[str],
                     cache_dir: Path | None, asr: str = "whisper") -> Features:
    """The voice's frame map for base voice ``voice_id`` of ``tts_name`` (its ``adaptation``
    features): read from the cache, or learned now and kept there. The ASR hears each clip's
    words and language; ``speak(text, lang)`` has the base voice say them in the clip's language
    (clips in a language outside ``languages``, the engine's, are left out); then alignment and
    fit. The map holds for every language the voice speaks. One builder per entry (another
    voice's map is read or learned beside it). Clips that
    cannot give a map (ReferenceTooShort) are remembered as such in the cache, so the next call
    refuses at once."""
    key = json.dumps([ADAPT_VERSION, tts_name, voice_id, converter.adaptation_version,
                      sorted(clip_hashes), asr])
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    path = Path(cache_dir) / "adaptations" / f"{digest}.json" if cache_dir else None
    with entry_lock(digest):
        cached = _read(path)
        if cached is not None and "refused" in cached:
            raise ReferenceTooShort(cached["refused"])
        if cached is not None:
            return cached
        try:
            features = _learn(converter, tts_name, voice_id, clips, speak, languages, asr)
        except ReferenceTooShort as exc:
            if path is not None:
                write_json(path, {"refused": str(exc)})
            raise
        if path is not None:
            write_json(path, features)
        return features


def _learn(converter: AdaptedConverter, tts_name: str, voice_id: str, clips: Sequence[Audio],
           speak: Callable[[str, str], Audio], languages: Sequence[str], asr: str) -> Features:
    """:func:`voice_adaptation`'s learning, uncached."""
    from voxclone.asr import transcribe

    start = time.perf_counter()
    usable = [c for c in clips if c.duration <= MAX_SECONDS]
    if not usable:
        raise ReferenceTooShort(f"Adaptation learns from clips of up to {MAX_SECONDS:g} s each; "
                                "this voice has none. Add shorter clips (5–20 s of speech).")
    heard = [transcribe(c, None, asr, words=False) for c in usable]
    kept = [(c, t) for c, t in zip(usable, heard) if t.language in languages and t.text]
    if not kept:
        found = sorted({t.language for t in heard})
        raise ReferenceTooShort(f"No clip has words in a language {tts_name} speaks (heard: "
                                f"{', '.join(found) or 'nothing'}); adaptation needs some.")
    pairs = [p for c, t in kept
             for p in parallel_pairs([c], [t.text], partial(speak, lang=t.language), converter)]
    features = converter.adaptation(pairs)
    features["adaptation_seconds"] = round(time.perf_counter() - start, 1)
    log.info("adapted to %s/%s: %d aligned frames in %.1f s", tts_name, voice_id,
             features["adaptation_frames"], features["adaptation_seconds"])
    return features


def _read(path: Path | None) -> Features | None:
    """The cached map, or ``{"refused": why}`` for clips that give none; None if absent/damaged."""
    data = read_json(path)
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("refused"), str):
        return data
    maps = [data.get("adaptation")] + ([data["f0_adaptation"]] if "f0_adaptation" in data else [])
    try:
        for text in maps:
            decoded_map(text)  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - a damaged entry (any decoding error) is learned again
        log.warning("damaged adaptation cache entry %s: learning it again", path)
        return None
    return data
