"""Durable feedback store: one SQLite file beside the index.

Shared by the web UI and the Slack bot.  Each write is its own transaction,
so a restart keeps everything that was acknowledged.

A vote with a ``user_id`` (Slack's) is one per user and message: the same user
voting again on the same message changes their vote (a unique index holds
it).  Votes without one (the web UI, the API) are a row per click.  A store
written before ``user_id`` existed gains the column on ``open()``, its rows
kept (with no user).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
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
    comment TEXT,
    user_id TEXT
)
"""
ONE_VOTE_PER_USER = """
CREATE UNIQUE INDEX IF NOT EXISTS feedback_one_vote_per_user ON feedback (source, message_id, user_id)
WHERE user_id IS NOT NULL AND message_id IS NOT NULL
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
    user_id: str | None = None


@dataclass(frozen=True, slots=True)
class Stored:
    """A stored vote's row, and the vote it replaced (the same user's on the same message), if any."""

    id: int
    previous: bool | None = None


class FeedbackStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    def open(self) -> FeedbackStore:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        with self._transaction() as db:
            db.execute(SCHEMA)
            columns = {row[1] for row in db.execute("PRAGMA table_info(feedback)")}
            if "user_id" not in columns:  # a store from before per-user votes
                db.execute("ALTER TABLE feedback ADD COLUMN user_id TEXT")
            db.execute(ONE_VOTE_PER_USER)
        return self

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken at once (``BEGIN IMMEDIATE``), so another
        process opening or voting waits rather than interleaving."""
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

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
        user_id: str | None = None,
    ) -> Stored:
        """Store a vote; with ``user_id`` and ``message_id``, replace that user's
        earlier vote on that message instead of adding one."""
        with self._lock, self._transaction() as db:
            earlier = None
            if user_id is not None and message_id is not None:
                earlier = db.execute(
                    "SELECT id, helpful FROM feedback WHERE source = ? AND message_id = ? AND user_id = ?",
                    (source, message_id, user_id),
                ).fetchone()
            if earlier is not None:
                db.execute(
                    "UPDATE feedback SET helpful = ?, question_id = ?, query = ?, comment = ? WHERE id = ?",
                    (int(helpful), question_id, query, comment, earlier[0]),
                )
                return Stored(int(earlier[0]), bool(earlier[1]))
            cur = db.execute(
                "INSERT INTO feedback (created_at, source, message_id, query, question_id, helpful, comment, user_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (time.time(), source, message_id, query, question_id, int(helpful), comment, user_id),
            )
            return Stored(int(cur.lastrowid or 0))

    def all(self) -> list[FeedbackRecord]:
        with self._lock:
            rows = (
                self._db()
                .execute(
                    "SELECT id, created_at, source, message_id, query, question_id, helpful, comment, user_id"
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
                user_id=r[8],
            )
            for r in rows
        ]

    def counts(self) -> dict[tuple[str, bool], int]:
        with self._lock:
            rows = (
                self._db().execute("SELECT source, helpful, COUNT(*) FROM feedback GROUP BY source, helpful").fetchall()
            )
        return {(s, bool(h)): n for s, h, n in rows}
