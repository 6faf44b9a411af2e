"""The feedback store on a real SQLite file: per-user votes, and the migration
that adds them to a store written before they existed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from service.feedback import FeedbackStore

# The table as the store created it before votes had a user.
OLD_SCHEMA = """
CREATE TABLE feedback (
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


def test_a_store_from_before_user_ids_keeps_its_rows_and_gains_the_column(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute(OLD_SCHEMA)
        db.execute(
            "INSERT INTO feedback (created_at, source, message_id, query, question_id, helpful, comment)"
            " VALUES (1.0, 'slack', 'C1:1.1', 'dropout', 'q-dropout', 1, NULL),"
            " (2.0, 'web', 'm-2', 'bagging', 'q-bagging', 0, 'too long')"
        )
    db.close()
    store = FeedbackStore(path).open()
    try:
        rows = store.all()
        assert [(r.id, r.source, r.message_id, r.question_id, r.helpful, r.comment, r.user_id) for r in rows] == [
            (1, "slack", "C1:1.1", "q-dropout", True, None, None),
            (2, "web", "m-2", "q-bagging", False, "too long", None),
        ]
        assert store.add("q-dropout", False, "slack", "C1:1.1", "dropout", user_id="U1").previous is None
    finally:
        store.close()
    reopened = FeedbackStore(path).open()  # the migration runs once; opening again changes nothing
    try:
        assert [(r.id, r.helpful, r.user_id) for r in reopened.all()] == [
            (1, True, None),
            (2, False, None),
            (3, False, "U1"),
        ]
    finally:
        reopened.close()


def test_a_users_second_vote_on_a_message_replaces_the_first(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite3").open()
    try:
        first = store.add("q-dropout", True, "slack", "C1:1.1", "dropout", user_id="U1")
        again = store.add("q-dropout", False, "slack", "C1:1.1", "dropout", user_id="U1")
        same = store.add("q-dropout", False, "slack", "C1:1.1", "dropout", user_id="U1")
        assert (first.previous, again.previous, same.previous) == (None, True, False)
        assert first.id == again.id == same.id
        other_user = store.add("q-dropout", True, "slack", "C1:1.1", "dropout", user_id="U2")
        other_message = store.add("q-dropout", True, "slack", "C1:2.2", "dropout", user_id="U1")
        assert len({first.id, other_user.id, other_message.id}) == 3
        web = [store.add("q-dropout", True, "web", "m-1", "dropout") for _ in range(2)]  # no user: every click a row
        assert web[0].id != web[1].id
        rows = store.all()
        assert [(r.message_id, r.user_id, r.helpful) for r in rows] == [
            ("C1:1.1", "U1", False),
            ("C1:1.1", "U2", True),
            ("C1:2.2", "U1", True),
            ("m-1", None, True),
            ("m-1", None, True),
        ]
        assert store.counts() == {("slack", False): 1, ("slack", True): 2, ("web", True): 2}
    finally:
        store.close()
