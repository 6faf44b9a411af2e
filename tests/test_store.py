"""The store (``service.store``) on a real SQLite file and a real PostgreSQL
server, the same tests on each: the schema Alembic makes is the one the
models describe, feedback votes (one per user and message), the votes of a
feedback file from before the store copied in once, and votes from many
threads at once, none lost; Slack reminders, each day's claimed by one of several
processes at once."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from service.feedback import FeedbackStore
from service.store import MIGRATIONS, Store, newest_revision
from service.store.practice import PracticeStore
from service.store.reminders import ReminderStore
from service.store.tables import Base

# The table as service/feedback.py created it in its own file, before votes had a user.
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


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = Store(store_url).open()
    yield s
    s.close()


def old_feedback_file(path: Path, with_user_id: bool) -> Path:
    """A feedback file as the store before this one wrote it (WAL mode, closed cleanly)."""
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(OLD_SCHEMA)
        if with_user_id:
            db.execute("ALTER TABLE feedback ADD COLUMN user_id TEXT")
        db.execute(
            "INSERT INTO feedback (created_at, source, message_id, query, question_id, helpful, comment)"
            " VALUES (1.0, 'slack', 'C1:1.1', 'dropout', 'q-dropout', 1, NULL),"
            " (2.0, 'web', 'm-2', 'bagging', 'q-bagging', 0, 'too long'),"
            " (3.0, 'api', NULL, 'lasso', 'q-lasso', 1, NULL)"
        )
        db.execute("DELETE FROM feedback WHERE id = 2")  # ids are kept as they were, gaps and all
        if with_user_id:
            db.execute("UPDATE feedback SET user_id = 'U9' WHERE id = 1")
    db.close()
    return path


def test_the_migrated_schema_is_the_one_the_models_describe(store: Store) -> None:
    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        tables = set(inspect(connection).get_table_names())
    assert diff == []
    assert {"alembic_version", "feedback"} <= tables


def test_the_newest_revision_is_alembics_head_and_a_store_there_is_not_migrated_again(store: Store) -> None:
    """Store.open() skips Alembic when the version table names the newest
    revision, read off the file names: each file's prefix is its revision."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    scripts = ScriptDirectory.from_config(config)
    assert scripts.get_current_head() == newest_revision()
    for revision in scripts.walk_revisions():
        assert Path(revision.path).name.startswith(f"{revision.revision}_")
    assert store.at_head()
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    assert not store.at_head()


def test_opening_again_changes_nothing(store_url: str) -> None:
    first = Store(store_url).open()
    FeedbackStore(first).add("q-dropout", True, "web", "m-1", "dropout")
    first.close()
    again = Store(store_url).open()
    try:
        assert [(r.id, r.question_id) for r in FeedbackStore(again).all()] == [(1, "q-dropout")]
    finally:
        again.close()


def test_a_users_second_vote_on_a_message_replaces_the_first(store: Store) -> None:
    feedback = FeedbackStore(store)
    first = feedback.add("q-dropout", True, "slack", "C1:1.1", "dropout", user_id="U1")
    again = feedback.add("q-dropout", False, "slack", "C1:1.1", "dropout", user_id="U1")
    same = feedback.add("q-dropout", False, "slack", "C1:1.1", "dropout", user_id="U1")
    assert (first.previous, again.previous, same.previous) == (None, True, False)
    assert first.id == again.id == same.id
    other_user = feedback.add("q-dropout", True, "slack", "C1:1.1", "dropout", user_id="U2")
    other_message = feedback.add("q-dropout", True, "slack", "C1:2.2", "dropout", user_id="U1")
    assert len({first.id, other_user.id, other_message.id}) == 3
    web = [feedback.add("q-dropout", True, "web", "m-1", "dropout") for _ in range(2)]  # no user: every click a row
    assert web[0].id != web[1].id
    rows = feedback.all()
    assert [(r.message_id, r.user_id, r.helpful) for r in rows] == [
        ("C1:1.1", "U1", False),
        ("C1:1.1", "U2", True),
        ("C1:2.2", "U1", True),
        ("m-1", None, True),
        ("m-1", None, True),
    ]
    assert feedback.counts() == {("slack", False): 1, ("slack", True): 2, ("web", True): 2}


@pytest.mark.parametrize("with_user_id", [False, True], ids=["before-user-ids", "with-user-ids"])
def test_votes_of_a_feedback_file_from_before_are_copied_in_once_ids_and_all(
    store_url: str, tmp_path: Path, with_user_id: bool
) -> None:
    old = old_feedback_file(tmp_path / "feedback.sqlite3", with_user_id)
    store = Store(store_url, legacy_feedback=old).open()
    try:
        feedback = FeedbackStore(store)
        rows = feedback.all()
        assert [(r.id, r.source, r.message_id, r.question_id, r.helpful, r.comment, r.user_id) for r in rows] == [
            (1, "slack", "C1:1.1", "q-dropout", True, None, "U9" if with_user_id else None),
            (3, "api", None, "q-lasso", True, None, None),
        ]
        assert feedback.add("q-bagging", False, "web", "m-4", "bagging").id == 4  # numbering goes on after them
    finally:
        store.close()
    reopened = Store(store_url, legacy_feedback=old).open()  # copied once: opening again adds nothing
    try:
        assert [r.id for r in FeedbackStore(reopened).all()] == [1, 3, 4]
    finally:
        reopened.close()
    assert [row[0] for row in sqlite3.connect(old).execute("SELECT id FROM feedback")] == [1, 3]  # left as it was


def test_no_feedback_file_means_an_empty_store(store_url: str, tmp_path: Path) -> None:
    store = Store(store_url, legacy_feedback=tmp_path / "absent.sqlite3").open()
    try:
        assert FeedbackStore(store).all() == []
    finally:
        store.close()


def test_votes_from_eight_threads_at_once_are_all_kept(store: Store) -> None:
    feedback = FeedbackStore(store)
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def vote(n: int) -> None:
        try:
            start.wait()
            for i in range(25):
                feedback.add(f"q-{i}", i % 2 == 0, "web", f"m-{n}-{i}", "q")
                feedback.add(f"q-{i}", i % 3 == 0, "slack", f"C:{i}", "q", user_id=f"U{n}")  # one per user and message
                feedback.add("q-x", n % 2 == 0, "slack", "C:same", "q", user_id="U-same")  # all at once: one vote
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=vote, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    rows = feedback.all()
    assert sum(r.source == "web" for r in rows) == 8 * 25
    assert sum(r.source == "slack" for r in rows) == 8 * 25 + 1
    assert [r.user_id for r in rows if r.message_id == "C:same"] == ["U-same"]
    assert len({r.id for r in rows}) == len(rows) == 401


def test_every_process_on_one_store_gets_the_same_secret_made_once(store_url: str) -> None:
    """What lets replicas accept each other's learner cookies: the first to ask makes the key."""
    stores = [Store(store_url).open() for _ in range(4)]
    start = threading.Barrier(4)
    keys: list[str] = []

    def ask(store: Store) -> None:
        start.wait()
        keys.append(PracticeStore(store).secret("learner-signing-key"))

    threads = [threading.Thread(target=ask, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert len(keys) == 4 and len(set(keys)) == 1 and len(keys[0]) >= 43
        assert PracticeStore(stores[0]).secret("another") != keys[0]
    finally:
        for s in stores:
            s.close()


def test_reads_go_on_while_a_writer_holds_its_transaction_open(store: Store) -> None:
    """A writer's transaction is open (on SQLite: BEGIN IMMEDIATE, the write
    lock): reads see what was committed before it, without waiting for it to end."""
    feedback = FeedbackStore(store)
    feedback.add("q-dropout", True, "web", "m-1", "dropout")
    writing, read_done = threading.Event(), threading.Event()

    def writer() -> None:
        with store.transaction() as session:
            session.execute(text("UPDATE feedback SET helpful = false"))
            writing.set()
            read_done.wait(60)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert writing.wait(30)
        assert [v.helpful for v in feedback.all()] == [True]  # the committed vote, not the open change
        assert feedback.counts() == {("web", True): 1}
    finally:
        read_done.set()
        thread.join(30)
    assert [v.helpful for v in feedback.all()] == [False]


DAY = date(2026, 12, 2)
NOON = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def test_a_reminder_is_turned_on_and_off_and_a_day_claimed_once(store: Store) -> None:
    reminders = ReminderStore(store)
    assert not reminders.enabled("U1") and reminders.unsent(DAY) == []
    reminders.set("U1", True, NOON)
    reminders.set("U2", True, NOON)
    reminders.set("U3", False, NOON)  # asked for none: never reminded
    assert reminders.enabled("U1") and not reminders.enabled("U3")
    assert reminders.unsent(DAY) == ["U1", "U2"]
    claim = reminders.claim("U1", DAY)
    assert claim is not None and claim.previous is None
    assert reminders.claim("U1", DAY) is None  # the day is taken
    assert reminders.claim("U3", DAY) is None  # off
    assert reminders.unsent(DAY) == ["U2"]
    reminders.release(claim)  # not sent after all: the day is free again
    assert reminders.sent_on("U1") is None and reminders.unsent(DAY) == ["U1", "U2"]
    again = reminders.claim("U1", DAY)
    assert again is not None and reminders.sent_on("U1") == DAY
    reminders.set("U1", False, NOON)
    reminders.set("U1", True, NOON)  # off and on again the same day: still reminded once
    assert reminders.claim("U1", DAY) is None
    tomorrow = reminders.claim("U1", DAY + timedelta(days=1))
    assert tomorrow is not None and tomorrow.previous == DAY


def test_replicas_claiming_the_same_reminders_at_once_send_each_once(store_url: str) -> None:
    """Four processes on one store look for reminders at the same moment: each user's day goes to one."""
    stores = [Store(store_url).open() for _ in range(4)]
    users = [f"U{n:02d}" for n in range(10)]
    for user in users:
        ReminderStore(stores[0]).set(user, True, NOON)
    start = threading.Barrier(4)
    won: list[tuple[str, int]] = []
    errors: list[BaseException] = []

    def look(n: int) -> None:
        reminders = ReminderStore(stores[n])
        try:
            start.wait()
            for user in reminders.unsent(DAY):
                if reminders.claim(user, DAY) is not None:
                    won.append((user, n))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=look, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        assert sorted(user for user, _ in won) == users
        assert ReminderStore(stores[1]).unsent(DAY) == []
    finally:
        for s in stores:
            s.close()
