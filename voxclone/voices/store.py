"""The voice library: clips under ``<voices_dir>/clips/<name>/`` and an SQLite index.

The index is the truth. Clip files are named by content (``<sha256[:16]>.flac``), written under
``.staging/`` first and moved into place inside the index's write transaction, so a failure at
any point leaves the previous state listed. Files the index does not reference are pruned under
the same write lock afterwards, and on open after a crash.
"""

from __future__ import annotations

import builtins
import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from voxclone.audio.io import load, save
from voxclone.audio.types import Audio
from voxclone.config import Settings
from voxclone.convert.base import Converter
from voxclone.errors import ProfileVersionError, ReferenceTooShort
from voxclone.voices.archive import ArchiveClip, read_archive, write_archive
from voxclone.voices.index import ClipInfo, Index, VoiceInfo, check_consent, voice_exists
from voxclone.voices.names import validate_name
from voxclone.voices.profile import (MIN_SPEECH_S, VoiceProfile, build_profile, check_reference,
                                     reference_speech_seconds)

STALE_STAGING_S = 3600.0
"""Staging folders older than this (seconds) are leftovers of a crash and removed on open."""


@dataclass(frozen=True)
class _Staged:
    clip: ClipInfo
    path: Path


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _staged(audio: Audio, path: Path, sha256: str, original_name: str) -> _Staged:
    clip = ClipInfo(path.name, sha256, audio.duration, reference_speech_seconds(audio),
                    audio.sample_rate, original_name)
    return _Staged(clip, path)


def _stage_file(audio: Audio, path: Path, original_name: str) -> _Staged:
    """Rename a clip written to ``path`` to its content name."""
    sha = _file_sha256(path)
    final = path.with_name(f"{sha[:16]}.flac")
    os.replace(path, final)
    return _staged(audio, final, sha, original_name)


def _remove_path(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _current(data: dict | None, hashes: builtins.list[str]) -> VoiceProfile | None:
    """The cached profile if it is current (same format version and clip set), else None."""
    try:
        profile = VoiceProfile.from_dict(data) if data is not None else None
    except (TypeError, ProfileVersionError):
        return None
    return profile if profile is not None and profile.clip_hashes == hashes else None


class VoiceLibrary:
    """Named voices, their clips and cached profiles under ``Settings().voices_dir``.

    Every call opens its own SQLite connection, so one instance may serve several threads.
    """

    def __init__(self, settings: Settings | None = None) -> None:
        self.root = (settings or Settings()).voices_dir
        self.clips_dir = self.root / "clips"
        self.staging_dir = self.root / ".staging"
        self.clips_dir.mkdir(parents=True, exist_ok=True)
        self.staging_dir.mkdir(parents=True, exist_ok=True)
        self.index = Index(self.root / "index.sqlite")
        self._recover()

    def add(self, name: str, files: Sequence[str | os.PathLike], replace: bool = False,
            consent: str | None = None) -> VoiceInfo:
        """Create voice ``name`` from audio files (wav/flac/mp3/ogg); ``replace`` overwrites it.
        ``consent``: the speaker's consent statement, stored with the voice and carried into the
        provenance of every output made with it."""
        name = validate_name(name)
        consent = check_consent(consent)
        if not replace and self.exists(name):
            raise voice_exists(name)
        return self._add(name, files, "replace" if replace else "create", MIN_SPEECH_S, consent)

    def add_clips(self, name: str, files: Sequence[str | os.PathLike]) -> VoiceInfo:
        """Add audio files to an existing voice (its cached profiles are rebuilt on next use)."""
        have = self.info(name)
        return self._add(have.name, files, "append", max(0.0, MIN_SPEECH_S - have.speech_seconds))

    def info(self, name: str) -> VoiceInfo:
        """Name, times and clips of a voice; VoiceNotFound when there is none."""
        with self.index.tx() as conn:
            return self.index.voice(conn, validate_name(name))

    def exists(self, name: str) -> bool:
        """Whether the library holds a voice of that name (names compare case-insensitively)."""
        with self.index.tx() as conn:
            sql = "SELECT 1 FROM voices WHERE name = ?"
            return conn.execute(sql, (validate_name(name),)).fetchone() is not None

    def remove(self, name: str) -> None:
        """Delete a voice with its clips and cached profiles."""
        with self.index.tx(write=True) as conn:
            info = self.index.voice(conn, validate_name(name))
            conn.execute("DELETE FROM voices WHERE name = ?", (info.name,))
        self._prune()

    def clips(self, name: str) -> builtins.list[Audio]:
        """The voice's clips as float32 mono Audio at their own rates, in the order added."""
        info = self.info(name)
        return [load(self.clips_dir / info.name / c.filename) for c in info.clips]

    def export(self, name: str, zip_path: str | os.PathLike) -> Path:
        """Write a voice to a zip (``manifest.json`` + FLAC clips) that :meth:`import_` reads."""
        info = self.info(name)
        folder = self.clips_dir / info.name
        clips = [ArchiveClip(folder / c.filename, c.sha256, c.original_name) for c in info.clips]
        return write_archive(zip_path, info.name, clips, info.consent)

    def import_(self, zip_path: str | os.PathLike, name: str | None = None,
                replace: bool = False) -> VoiceInfo:
        """Add a voice from an :meth:`export` archive, under ``name`` or its archived name.

        Raises VoiceArchiveError for damaged, altered or unsafe archives.
        """
        if name is not None:
            validate_name(name)
        with self._staging() as stage:
            archived, items, consent = read_archive(zip_path, stage)
            consent = check_consent(consent)
            target = validate_name(name if name is not None else archived)
            if not replace and self.exists(target):
                raise voice_exists(target)
            clips = [load(item.path) for item in items]
            check_reference(clips, [item.original_name for item in items])
            staged = [_staged(c, i.path, i.sha256, i.original_name) for i, c in zip(items, clips)]
            return self._commit(target, staged, "replace" if replace else "create", consent)

    def profile(self, name: str, converter: Converter) -> VoiceProfile:
        """The voice's profile for ``converter``, computed once and cached.

        Rebuilt when the clip set, ``converter.version`` or ``PROFILE_FORMAT_VERSION`` changed.
        """
        cached = self.cached_profile(name, converter)
        if cached is not None:
            return cached
        info = self.info(name)
        clips = [load(self.clips_dir / info.name / c.filename) for c in info.clips]
        profile = build_profile(info.name, clips, converter, sorted(c.sha256 for c in info.clips))
        self.index.store_profile(profile)
        return profile

    def cached_profile(self, name: str, converter: Converter) -> VoiceProfile | None:
        """The voice's profile for ``converter`` if it is cached and current, else None (never
        builds one)."""
        with self.index.tx() as conn:
            info = self.index.voice(conn, validate_name(name))
            data = self.index.profile_data(conn, info.name, converter.name, converter.version)
        return _current(data, sorted(c.sha256 for c in info.clips))

    def list(self) -> builtins.list[VoiceInfo]:
        """Every voice, sorted by name."""
        with self.index.tx() as conn:
            return [self.index.voice(conn, n) for n in self.index.names(conn)]

    def _add(self, name: str, files: Sequence[str | os.PathLike], mode: str,
             min_speech_s: float, consent: str | None = None) -> VoiceInfo:
        paths = [Path(f) for f in files]
        if not paths:
            raise ReferenceTooShort("No audio files given: pass one or more wav/flac/mp3/ogg "
                                    f"files with at least {MIN_SPEECH_S:g} s of speech in all.")
        clips = [load(p) for p in paths]
        check_reference(clips, [str(p) for p in paths], min_speech_s)
        with self._staging() as stage:
            staged = [_stage_file(clip, save(clip, stage / f"incoming-{i}.flac"), path.name)
                      for i, (clip, path) in enumerate(zip(clips, paths))]
            unique = {s.clip.sha256: s for s in staged}  # the same clip given twice
            return self._commit(name, builtins.list(unique.values()), mode, consent)

    def _commit(self, name: str, staged: Sequence[_Staged], mode: str,
                consent: str | None = None) -> VoiceInfo:
        """Move staged clips into place and index them, all in one write transaction."""
        try:
            with self.index.tx(write=True) as conn:
                name = self.index.claim(conn, name, mode)
                if consent:
                    self.index.set_consent(conn, name, consent)
                folder = self.clips_dir / name
                folder.mkdir(parents=True, exist_ok=True)
                for s in staged:
                    os.replace(s.path, folder / s.clip.filename)
                    self.index.add_clip(conn, name, s.clip)
        finally:
            self._prune()
        return self.info(name)

    def _prune(self) -> None:
        """Delete clip files and folders the index does not reference (under the write lock).

        Folders are matched by identity, not by name, so this is safe on case-insensitive disks.
        """
        with self.index.tx(write=True) as conn:
            keep: dict[tuple[int, int], set[str]] = {}
            for voice, files in self.index.referenced(conn).items():
                folder = self.clips_dir / voice
                if folder.is_dir():
                    st = folder.stat()
                    keep.setdefault((st.st_dev, st.st_ino), set()).update(files)
            for entry in builtins.list(self.clips_dir.iterdir()):
                st = entry.lstat()
                files = None if entry.is_symlink() else keep.get((st.st_dev, st.st_ino))
                if files is None:
                    _remove_path(entry)
                    continue
                for f in builtins.list(entry.iterdir()):
                    if f.name not in files:
                        _remove_path(f)

    @contextmanager
    def _staging(self) -> Iterator[Path]:
        path = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=self.staging_dir))
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)

    def _recover(self) -> None:
        """Clean up after a crash: stale staging folders and unreferenced clip files."""
        cutoff = time.time() - STALE_STAGING_S
        for entry in builtins.list(self.staging_dir.iterdir()):
            if entry.lstat().st_mtime < cutoff:
                _remove_path(entry)
        self._prune()
