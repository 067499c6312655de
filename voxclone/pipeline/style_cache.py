"""Found Kokoro styles kept on disk, recomputed when the voice's clips change.

One ``<cache_dir>/kokoro-styles/<key>.npz`` per voice holds ``table`` (510, 1, 256) float32 and
``meta`` (the :class:`StyleSearchResult` fields as JSON). The key hashes the clips' SHA-256s, the
search version, the search config and the Kokoro model and voices, so any change to them misses
the cache and searches again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from voxclone.audio.types import Audio
from voxclone.config import Settings
from voxclone.pipeline.kokoro_clone import (SEARCH_VERSION, StyleSearchConfig, StyleSearchResult,
                                            search_style)
from voxclone.tts.kokoro import KokoroTTS
from voxclone.voices.profile import audio_sha256
from voxclone.voices.store import VoiceLibrary

log = logging.getLogger(__name__)
CACHE_FOLDER = "kokoro-styles"
CACHE_FORMAT = 1


def style_key(clip_hashes: Sequence[str], config: StyleSearchConfig, tts: KokoroTTS) -> str:
    """Cache key (24 hex digits) of a search over clips with these SHA-256s."""
    model = [tts.model_path().name, sorted(tts.voice_tables())]
    payload = json.dumps([CACHE_FORMAT, SEARCH_VERSION, sorted(clip_hashes), config.to_dict(),
                          model], sort_keys=True)
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
    """Write ``result`` to ``path`` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.npz")
    np.savez(tmp, table=result.table.astype(np.float32), meta=np.array(json.dumps(result.meta())))
    os.replace(tmp, path)


def style_path(clip_hashes: Sequence[str], config: StyleSearchConfig, tts: KokoroTTS,
               settings: Settings | None = None) -> Path:
    """Where the style searched over clips with these SHA-256s is stored."""
    folder = (settings or Settings()).cache_dir / CACHE_FOLDER
    return folder / f"{style_key(clip_hashes, config, tts)}.npz"


def cached_search(clips: Sequence[Audio], config: StyleSearchConfig = StyleSearchConfig(),
                  tts: KokoroTTS | None = None, settings: Settings | None = None,
                  progress: bool = False) -> StyleSearchResult:
    """:func:`search_style` over clips held in memory (e.g. ``--ref`` files), cached by their
    :func:`audio_sha256`."""
    tts = tts or KokoroTTS()
    path = style_path([audio_sha256(c) for c in clips], config, tts, settings)
    return load_style(path) or _search_and_save(path, list(clips), config, tts, progress)


def cached_style(library: VoiceLibrary, name: str, config: StyleSearchConfig = StyleSearchConfig(),
                 tts: KokoroTTS | None = None, settings: Settings | None = None,
                 progress: bool = False) -> StyleSearchResult:
    """The Kokoro style of library voice ``name``: searched once, then read from
    ``<cache_dir>/kokoro-styles`` until the voice's clips (by their stored SHA-256), the search
    version, the config or the Kokoro model change."""
    tts = tts or KokoroTTS()
    path = style_path([c.sha256 for c in library.info(name).clips], config, tts, settings)
    return load_style(path) or _search_and_save(path, library.clips(name), config, tts, progress)


def _search_and_save(path: Path, clips: list[Audio], config: StyleSearchConfig, tts: KokoroTTS,
                     progress: bool) -> StyleSearchResult:
    result = search_style(clips, config, tts, progress, cache_dir=path.parent)
    save_style(path, result)
    return result
