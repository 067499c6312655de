"""The job database: per-item status of a batch job in SQLite, so a re-run resumes.

One row per item id: ``pending``, ``running``, ``done`` or ``failed`` (with its reason), the
number of attempts, seconds of audio written and seconds spent. Only the driver process writes
it. A job is bound to its settings by a fingerprint: a re-run with other settings is refused
rather than mixing outputs of two configurations in one folder.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path

from voxclone.errors import BatchError

DB_NAME = ".voxclone-batch.sqlite"
SCHEMA_VERSION = "1"
STATUSES = ("pending", "running", "done", "failed")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    audio_s REAL,
    seconds REAL,
    updated REAL
);
"""


class JobDB:
    """Status of every item of one job, stored in ``<out>/.voxclone-batch.sqlite``."""

    def __init__(self, out_dir: Path, fingerprint: str, describe: str = "") -> None:
        self.path = Path(out_dir) / DB_NAME
        self.conn = sqlite3.connect(self.path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(_SCHEMA)
        self._bind(fingerprint, describe)
        # Items left 'running' by a crash or an interrupt go back to the queue.
        self.conn.execute("UPDATE items SET status='pending' WHERE status='running'")

    def _bind(self, fingerprint: str, describe: str) -> None:
        meta = dict(self.conn.execute("SELECT key, value FROM meta"))
        if meta.get("schema", SCHEMA_VERSION) != SCHEMA_VERSION:
            raise BatchError(f"{self.path} was written by another voxclone version (schema "
                             f"{meta['schema']}): use a new --out folder.")
        if "fingerprint" in meta and meta["fingerprint"] != fingerprint:
            raise BatchError(f"{self.path.parent} holds a job run with other settings "
                             f"({meta.get('settings', '?')}); this run: {describe}. Use another "
                             "--out folder, or the same settings to resume.")
        with self.conn:
            for key, value in (("schema", SCHEMA_VERSION), ("fingerprint", fingerprint),
                               ("settings", describe)):
                self.conn.execute("INSERT OR IGNORE INTO meta VALUES (?, ?)", (key, value))

    def add(self, ids: Iterable[str]) -> None:
        """Register ids not yet known as pending (known ids keep their status)."""
        with self.conn:
            self.conn.executemany("INSERT OR IGNORE INTO items (id, updated) VALUES (?, ?)",
                                  ((i, time.time()) for i in ids))

    def status(self, item_id: str) -> str | None:
        """The status of ``item_id`` (None when unknown)."""
        row = self.conn.execute("SELECT status FROM items WHERE id=?", (item_id,)).fetchone()
        return row[0] if row else None

    def row(self, item_id: str) -> dict[str, object] | None:
        """Every stored field of ``item_id``."""
        cur = self.conn.execute("SELECT * FROM items WHERE id=?", (item_id,))
        row = cur.fetchone()
        return dict(zip([d[0] for d in cur.description], row)) if row else None

    def mark_running(self, item_id: str) -> None:
        """An attempt at ``item_id`` starts."""
        self._set(item_id, "running", attempts="attempts + 1")

    def mark_done(self, item_id: str, audio_s: float, seconds: float) -> None:
        """``item_id``'s output is in place."""
        self._set(item_id, "done", error=None, audio_s=audio_s, seconds=seconds)

    def mark_failed(self, item_id: str, reason: str, seconds: float | None = None) -> None:
        """``item_id`` failed for ``reason``; it is tried again on the next run."""
        self._set(item_id, "failed", error=reason, seconds=seconds)

    def mark_pending(self, item_id: str) -> None:
        """``item_id`` must be done (again), e.g. its output file has gone."""
        self._set(item_id, "pending")

    def counts(self) -> dict[str, int]:
        """Number of items per status."""
        found = dict(self.conn.execute("SELECT status, COUNT(*) FROM items GROUP BY status"))
        return {s: int(found.get(s, 0)) for s in STATUSES}

    def failures(self) -> list[tuple[str, str]]:
        """(id, reason) of every failed item."""
        return list(self.conn.execute("SELECT id, error FROM items WHERE status='failed' ORDER BY id"))

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def _set(self, item_id: str, status: str, attempts: str | None = None, **fields: object) -> None:
        sets = ["status=?", "updated=?"] + [f"{k}=?" for k in fields]
        if attempts:
            sets.append(f"attempts={attempts}")
        values = [status, time.time(), *fields.values(), item_id]
        with self.conn:
            self.conn.execute(f"UPDATE items SET {', '.join(sets)} WHERE id=?", values)
