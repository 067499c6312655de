"""The SQLite index of the voice library: voices, their clips and cached profiles."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, astuple, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from voxclone.errors import ProfileVersionError, VoiceExists, VoiceNotFound
from voxclone.voices.profile import VoiceProfile

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS voices (name TEXT PRIMARY KEY COLLATE NOCASE,
    created TEXT NOT NULL, updated TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS clips (
    voice TEXT NOT NULL COLLATE NOCASE REFERENCES voices(name) ON DELETE CASCADE,
    filename TEXT NOT NULL, sha256 TEXT NOT NULL, duration_s REAL NOT NULL,
    speech_s REAL NOT NULL, sample_rate INTEGER NOT NULL, original_name TEXT NOT NULL,
    PRIMARY KEY (voice, sha256));
CREATE TABLE IF NOT EXISTS profiles (
    voice TEXT NOT NULL COLLATE NOCASE REFERENCES voices(name) ON DELETE CASCADE,
    converter TEXT NOT NULL, converter_version TEXT NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (voice, converter, converter_version));
CREATE TABLE IF NOT EXISTS consents (
    voice TEXT PRIMARY KEY COLLATE NOCASE REFERENCES voices(name) ON DELETE CASCADE,
    statement TEXT NOT NULL, recorded TEXT NOT NULL);
"""
MAX_CONSENT_CHARS = 1000


@dataclass(frozen=True)
class ClipInfo:
    """One stored clip: file name, SHA-256 of the FLAC file, length and speech in seconds,
    sample rate in Hz and the name of the file it was added from."""

    filename: str
    sha256: str
    duration_s: float
    speech_seconds: float
    sample_rate: int
    original_name: str


@dataclass(frozen=True)
class VoiceInfo:
    """A voice of the library: name, ISO-8601 UTC times, clips in the order they were added, and
    the consent statement given when it was added (None when none was)."""

    name: str
    created: str
    updated: str
    clips: tuple[ClipInfo, ...]
    consent: str | None = None

    @property
    def speech_seconds(self) -> float:
        """Seconds of speech over all clips."""
        return sum(c.speech_seconds for c in self.clips)

    @property
    def duration_s(self) -> float:
        """Seconds of audio over all clips."""
        return sum(c.duration_s for c in self.clips)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON output, with the totals."""
        return {**asdict(self), "speech_seconds": self.speech_seconds, "duration_s": self.duration_s}


def check_consent(statement: str | None) -> str | None:
    """The consent statement stripped (None when empty); InvalidSetting when it is too long."""
    from voxclone.errors import InvalidSetting

    text = (statement or "").strip()
    if len(text) > MAX_CONSENT_CHARS:
        raise InvalidSetting(f"The consent statement has {len(text)} characters; keep it under "
                             f"{MAX_CONSENT_CHARS} (who consented, to what, when).")
    return text or None


def voice_not_found(name: str) -> VoiceNotFound:
    """The error for an unknown voice name."""
    return VoiceNotFound(f"No voice named {name!r}. See `voxclone voices list` for the voices "
                         "there are, or add it with `voxclone voices add`.")


def voice_exists(name: str) -> VoiceExists:
    """The error for adding a voice that exists."""
    return VoiceExists(f"A voice named {name!r} already exists. Pick another name, or replace it "
                       "(`replace=True`, `--replace`).")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Index:
    """Queries on ``index.sqlite``; every transaction opens its own connection (WAL mode)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        conn = sqlite3.connect(path, timeout=30.0, isolation_level=None)
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise ProfileVersionError(f"The voice index {path} was written by a newer voxclone "
                                          f"(schema {version}); upgrade voxclone.")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.executescript(_SCHEMA)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        finally:
            conn.close()

    @contextmanager
    def tx(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        """A connection inside one transaction; ``write`` takes the write lock at once."""
        conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.close()

    @staticmethod
    def voice(conn: sqlite3.Connection, name: str) -> VoiceInfo:
        """The voice ``name`` (case-insensitive); VoiceNotFound when absent."""
        row = conn.execute("SELECT name, created, updated FROM voices WHERE name = ?",
                           (name,)).fetchone()
        if row is None:
            raise voice_not_found(name)
        clips = conn.execute("SELECT filename, sha256, duration_s, speech_s, sample_rate, "
                             "original_name FROM clips WHERE voice = ? ORDER BY rowid", (row[0],))
        clips = tuple(ClipInfo(*c) for c in clips)
        consent = conn.execute("SELECT statement FROM consents WHERE voice = ?", (row[0],)).fetchone()
        return VoiceInfo(row[0], row[1], row[2], clips, consent[0] if consent else None)

    @staticmethod
    def set_consent(conn: sqlite3.Connection, voice: str, statement: str) -> None:
        """Store the consent statement of ``voice`` (replacing an earlier one)."""
        conn.execute("INSERT OR REPLACE INTO consents VALUES (?, ?, ?)", (voice, statement, _now()))

    @staticmethod
    def names(conn: sqlite3.Connection) -> list[str]:
        """Every voice name, sorted."""
        return [r[0] for r in conn.execute("SELECT name FROM voices ORDER BY name")]

    @staticmethod
    def claim(conn: sqlite3.Connection, name: str, mode: str) -> str:
        """Create (``create``/``replace``) or touch (``append``) a voice row; return its name."""
        row = conn.execute("SELECT name FROM voices WHERE name = ?", (name,)).fetchone()
        if mode == "append":
            if row is None:
                raise voice_not_found(name)
            conn.execute("UPDATE voices SET updated = ? WHERE name = ?", (_now(), row[0]))
            return row[0]
        if row is not None and mode == "create":
            raise voice_exists(row[0])
        conn.execute("DELETE FROM voices WHERE name = ?", (name,))  # cascades to clips, profiles
        conn.execute("INSERT INTO voices VALUES (?, ?, ?)", (name, _now(), _now()))
        return name

    @staticmethod
    def add_clip(conn: sqlite3.Connection, voice: str, clip: ClipInfo) -> None:
        """Index a clip of ``voice`` (a clip already there is kept)."""
        conn.execute("INSERT OR IGNORE INTO clips VALUES (?, ?, ?, ?, ?, ?, ?)",
                     (voice, *astuple(clip)))

    @staticmethod
    def profile_data(conn: sqlite3.Connection, voice: str, converter: str,
                     version: str) -> dict[str, Any] | None:
        """The cached profile dict for (voice, converter, version), or None (also when unreadable)."""
        row = conn.execute("SELECT data FROM profiles WHERE voice = ? AND converter = ? AND "
                           "converter_version = ?", (voice, converter, version)).fetchone()
        try:
            return json.loads(row[0]) if row else None
        except ValueError:
            return None

    def store_profile(self, profile: VoiceProfile) -> bool:
        """Cache ``profile``, replacing other versions of its converter; skipped (False) when the
        voice's clips changed while it was computed."""
        with self.tx(write=True) as conn:
            rows = conn.execute("SELECT sha256 FROM clips WHERE voice = ?", (profile.name,))
            if sorted(r[0] for r in rows) != profile.clip_hashes:
                return False
            conn.execute("DELETE FROM profiles WHERE voice = ? AND converter = ?",
                         (profile.name, profile.converter))
            conn.execute("INSERT INTO profiles VALUES (?, ?, ?, ?)",
                         (profile.name, profile.converter, profile.converter_version,
                          json.dumps(profile.to_dict())))
        return True

    @staticmethod
    def referenced(conn: sqlite3.Connection) -> dict[str, set[str]]:
        """Clip file names per voice name."""
        out: dict[str, set[str]] = {}
        for voice, filename in conn.execute("SELECT voices.name, clips.filename FROM voices "
                                            "LEFT JOIN clips ON clips.voice = voices.name"):
            out.setdefault(voice, set()).update([filename] if filename else [])
        return out
