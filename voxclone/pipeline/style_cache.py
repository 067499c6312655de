"""Found Kokoro styles kept on disk, recomputed when the voice's clips change.

One ``<cache_dir>/kokoro-styles/<key>.npz`` per voice holds ``table`` (510, 1, 256) float32 and
``meta`` (the :class:`StyleSearchResult` fields as JSON). The key hashes the clips' SHA-256s, the
search version, the search config and the Kokoro model and voices, so any change to them misses
the cache and searches again.

Beside it, ``start-<key>.npz`` holds the voice's *start* style (the search's start phase alone,
``meta["stage"] == "start"``; its key hashes the clips, :data:`START_VERSION`, the search texts and
language and the model): what a new voice speaks with until its refined style exists.
:func:`voice_style` returns the refined style when cached, else the start style.

Safe for concurrent use: one lock per key in a process (a second caller waits for the first
search and reads its result) and atomic writes (unique temporary files) across processes.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from voxclone.audio.types import Audio
from voxclone.config import Settings
from voxclone.errors import InvalidSetting
from voxclone.pipeline.cache_files import entry_lock, write_npz
from voxclone.pipeline.kokoro_clone import (SEARCH_VERSION, StyleSearchConfig, StyleSearchResult,
                                            search_style, start_style)
from voxclone.tts.kokoro import KokoroTTS
from voxclone.voices.profile import audio_sha256
from voxclone.voices.store import VoiceLibrary

log = logging.getLogger(__name__)
CACHE_FOLDER = "kokoro-styles"
CACHE_FORMAT = 1
START_VERSION = 1
"""Bumped whenever the start phase changes what it finds."""
STAGES = ("start", "refined")


def style_key(clip_hashes: Sequence[str], config: StyleSearchConfig, tts: KokoroTTS) -> str:
    """Cache key (24 hex digits) of a search over clips with these SHA-256s."""
    model = [tts.model_path().name, sorted(tts.voice_tables())]
    payload = json.dumps([CACHE_FORMAT, SEARCH_VERSION, sorted(clip_hashes), config.to_dict(),
                          model], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def start_key(clip_hashes: Sequence[str], config: StyleSearchConfig, tts: KokoroTTS) -> str:
    """Cache key (24 hex digits) of the start style: what the start phase reads of the config
    (texts, language), not the budget or step settings, so every effort shares it."""
    model = [tts.model_path().name, sorted(tts.voice_tables())]
    payload = json.dumps(["start", CACHE_FORMAT, START_VERSION, sorted(clip_hashes),
                          list(config.texts), config.lang, model], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def load_style(path: Path) -> StyleSearchResult | None:
    """The result stored at ``path``, or None when it is missing or unreadable."""
    if not path.is_file():
        return None
    try:
        with np.load(path) as npz:
            meta = json.loads(str(npz["meta"]))
            result = StyleSearchResult.from_meta(npz["table"], meta)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring unreadable style cache %s (%s)", path, exc)
        return None
    return result if result.table.shape == (510, 1, 256) else None


def save_style(path: Path, result: StyleSearchResult) -> None:
    """Write ``result`` to ``path`` atomically (a temporary file of its own, then a rename)."""
    write_npz(path, table=result.table.astype(np.float32), meta=np.array(json.dumps(result.meta())))


def style_path(clip_hashes: Sequence[str], config: StyleSearchConfig, tts: KokoroTTS,
               settings: Settings | None = None, stage: str = "refined") -> Path:
    """Where the ``stage`` style ("refined" or "start") of clips with these SHA-256s is stored."""
    if stage not in STAGES:
        raise InvalidSetting(f"style stage {stage!r}: use {' or '.join(STAGES)}.")
    folder = (settings or Settings()).cache_dir / CACHE_FOLDER
    if stage == "start":
        return folder / f"start-{start_key(clip_hashes, config, tts)}.npz"
    return folder / f"{style_key(clip_hashes, config, tts)}.npz"


def cached_search(clips: Sequence[Audio], config: StyleSearchConfig = StyleSearchConfig(),
                  tts: KokoroTTS | None = None, settings: Settings | None = None,
                  progress: bool = False, stage: str = "refined") -> StyleSearchResult:
    """:func:`search_style` (or, with ``stage`` "start", :func:`start_style`) over clips held in
    memory (e.g. ``--ref`` files), cached by their :func:`audio_sha256`."""
    tts = tts or KokoroTTS()
    clips = list(clips)
    hashes = [audio_sha256(c) for c in clips]
    return _cached(style_path(hashes, config, tts, settings, stage), lambda: clips, config, tts,
                   progress, stage)


def cached_style(library: VoiceLibrary, name: str, config: StyleSearchConfig = StyleSearchConfig(),
                 tts: KokoroTTS | None = None, settings: Settings | None = None,
                 progress: bool = False, stage: str = "refined") -> StyleSearchResult:
    """The Kokoro style of library voice ``name``: searched once, then read from
    ``<cache_dir>/kokoro-styles`` until the voice's clips (by their stored SHA-256), the search
    version, the config or the Kokoro model change. ``stage`` "start": the start style only."""
    tts = tts or KokoroTTS()
    hashes = [c.sha256 for c in library.info(name).clips]
    return _cached(style_path(hashes, config, tts, settings, stage), lambda: library.clips(name),
                   config, tts, progress, stage)


def cached_stage(clip_hashes: Sequence[str], config: StyleSearchConfig, tts: KokoroTTS,
                 settings: Settings | None = None) -> StyleSearchResult | None:
    """The best style already cached for these clips: refined, else start, else None."""
    for stage in reversed(STAGES):
        result = load_style(style_path(clip_hashes, config, tts, settings, stage))
        if result is not None:
            return result
    return None


def voice_style(library: VoiceLibrary, name: str, config: StyleSearchConfig = StyleSearchConfig(),
                tts: KokoroTTS | None = None, settings: Settings | None = None,
                progress: bool = False) -> StyleSearchResult:
    """The refined style of ``name`` when cached, else its start style (found now if needed)."""
    tts = tts or KokoroTTS()
    hashes = [c.sha256 for c in library.info(name).clips]
    found = cached_stage(hashes, config, tts, settings)
    return found or cached_style(library, name, config, tts, settings, progress, "start")


def search_voice_style(clips: Sequence[Audio], config: StyleSearchConfig = StyleSearchConfig(),
                       tts: KokoroTTS | None = None, settings: Settings | None = None,
                       progress: bool = False) -> StyleSearchResult:
    """:func:`voice_style` for clips held in memory."""
    tts = tts or KokoroTTS()
    found = cached_stage([audio_sha256(c) for c in clips], config, tts, settings)
    return found or cached_search(clips, config, tts, settings, progress, "start")


def _cached(path: Path, clips: Callable[[], list[Audio]], config: StyleSearchConfig,
            tts: KokoroTTS, progress: bool, stage: str) -> StyleSearchResult:
    """The result at ``path``, else found and saved there; one finder per path at a time."""
    found = load_style(path)
    if found is not None:
        return found
    with entry_lock(path):
        found = load_style(path)  # found by the caller this one waited for
        if found is not None:
            return found
        if stage == "start":
            result = start_style(clips(), config, tts, cache_dir=path.parent)
        else:
            result = search_style(clips(), config, tts, progress, cache_dir=path.parent)
        save_style(path, result)
        return result

