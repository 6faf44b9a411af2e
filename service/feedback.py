"""Durable feedback store: one SQLite file beside the index.

Shared by the web UI and the Slack bot.  Each write is its own transaction,
so a restart keeps everything that was acknowledged.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at REAL NOT NULL,
    source TEXT NOT NULL,
    message_id TEXT,
    query TEXT,
    question_id TEXT NOT NULL,
    helpful INTEGER NOT NULL,
    comment TEXT
)
"""


@dataclass(frozen=True, slots=True)
class FeedbackRecord:
    id: int
    created_at: float
    source: str
    message_id: str | None
    query: str | None
    question_id: str
    helpful: bool
    comment: str | None


class FeedbackStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    def open(self) -> FeedbackStore:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(SCHEMA)
        return self

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("FeedbackStore.open() must be called first")
        return self._conn

    def add(
        self,
        question_id: str,
        helpful: bool,
        source: str = "api",
        message_id: str | None = None,
        query: str | None = None,
        comment: str | None = None,
    ) -> int:
        with self._lock:
            cur = self._db().execute(
                "INSERT INTO feedback (created_at, source, message_id, query, question_id, helpful, comment)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (time.time(), source, message_id, query, question_id, int(helpful), comment),
            )
            return int(cur.lastrowid or 0)

    def all(self) -> list[FeedbackRecord]:
        with self._lock:
            rows = (
                self._db()
                .execute(
                    "SELECT id, created_at, source, message_id, query, question_id, helpful, comment"
                    " FROM feedback ORDER BY id"
                )
                .fetchall()
            )
        return [
            FeedbackRecord(
                id=r[0],
                created_at=r[1],
                source=r[2],
                message_id=r[3],
                query=r[4],
                question_id=r[5],
                helpful=bool(r[6]),
                comment=r[7],
            )
            for r in rows
        ]

    def counts(self) -> dict[tuple[str, bool], int]:
        with self._lock:
            rows = (
                self._db().execute("SELECT source, helpful, COUNT(*) FROM feedback GROUP BY source, helpful").fetchall()
            )
        return {(s, bool(h)): n for s, h, n in rows}
