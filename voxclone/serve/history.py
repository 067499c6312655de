"""History of generations in SQLite: text, settings, voice, engine, timings and output file."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS generations (
    id INTEGER PRIMARY KEY AUTOINCREMENT, created TEXT NOT NULL, kind TEXT NOT NULL,
    text TEXT NOT NULL, voice TEXT NOT NULL, engine TEXT NOT NULL, settings TEXT NOT NULL,
    timings TEXT NOT NULL, duration_s REAL NOT NULL, output_path TEXT NOT NULL,
    candidates TEXT NOT NULL);
"""
_JSON_FIELDS = ("settings", "timings", "candidates")


def utc_now() -> str:
    """The current time, ISO-8601 UTC to the second."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class GenerationRecord:
    """One generation. kind: "speech" or "convert"; engine: "tts:converter"; settings: what the
    caller chose; timings: milliseconds per stage and in total; candidates: ``{"voice", "score",
    "path"}`` per candidate when several were tried; id is 0 until stored."""

    kind: str
    text: str
    voice: str
    engine: str
    settings: dict[str, Any]
    timings: dict[str, float]
    duration_s: float
    output_path: str
    candidates: list[dict[str, Any]] = field(default_factory=list)
    created: str = field(default_factory=utc_now)
    id: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON."""
        return asdict(self)


class History:
    """The generations table at ``path``; every call opens its own connection (thread-safe)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as conn, conn:
            conn.executescript(_SCHEMA)

    def add(self, record: GenerationRecord) -> GenerationRecord:
        """Store ``record``; returns it with its id."""
        row = record.to_dict()
        row.pop("id")
        for key in _JSON_FIELDS:
            row[key] = json.dumps(row[key])
        sql = f"INSERT INTO generations ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})"
        with closing(self._connect()) as conn, conn:
            new_id = conn.execute(sql, tuple(row.values())).lastrowid
        return GenerationRecord(**{**record.to_dict(), "id": int(new_id)})

    def list(self, limit: int = 50, offset: int = 0) -> list[GenerationRecord]:
        """Newest first."""
        sql = "SELECT * FROM generations ORDER BY id DESC LIMIT ? OFFSET ?"
        with closing(self._connect()) as conn:
            return [self._record(r) for r in conn.execute(sql, (limit, offset))]

    def get(self, record_id: int) -> GenerationRecord | None:
        """The record with ``record_id``, or None."""
        with closing(self._connect()) as conn:
            row = conn.execute("SELECT * FROM generations WHERE id = ?", (record_id,)).fetchone()
        return None if row is None else self._record(row)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30.0)
        conn.row_factory = sqlite3.Row
        return conn

    @staticmethod
    def _record(row: sqlite3.Row) -> GenerationRecord:
        data = dict(row)
        for key in _JSON_FIELDS:
            data[key] = json.loads(data[key])
        return GenerationRecord(**data)
