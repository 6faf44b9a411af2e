"""Copy the votes of a feedback file from before the store (service/feedback.py's
own SQLite file) into the store's table, ids and all.

Runs once, when the store is created or first reaches this revision: the file
is ``QBANK_FEEDBACK_PATH`` (default: feedback.sqlite3 beside the index), which
``Store`` passes in; with none there, there is nothing to copy. The file is
only read, and left where it is. A file from before per-user votes (no
``user_id`` column) gives votes without a user.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import sqlalchemy as sa
from alembic import context, op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

log = logging.getLogger("service.store")
COLUMNS = ("id", "created_at", "source", "message_id", "query", "question_id", "helpful", "comment", "user_id")


def _rows(path: Path) -> list[dict[str, object]]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        present = {row[1] for row in db.execute("PRAGMA table_info(feedback)")}
        if not present:
            return []
        picked = [c if c in present else f"NULL AS {c}" for c in COLUMNS]
        rows = db.execute(f"SELECT {', '.join(picked)} FROM feedback ORDER BY id").fetchall()  # noqa: S608 - fixed names
    db.close()
    return [dict(zip(COLUMNS, row, strict=True)) | {"helpful": bool(row[6])} for row in rows]


def upgrade() -> None:
    path = context.config.attributes.get("legacy_feedback")
    if path is None or not Path(path).is_file():
        return
    rows = _rows(Path(path))
    if not rows:
        return
    feedback = sa.table("feedback", *(sa.column(c) for c in COLUMNS))
    op.bulk_insert(feedback, rows)
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":  # explicit ids leave the id sequence behind: move it past them
        bind.execute(sa.text("SELECT setval(pg_get_serial_sequence('feedback', 'id'), (SELECT max(id) FROM feedback))"))
    log.info("copied %d feedback votes from %s into the store", len(rows), path)


def downgrade() -> None:
    pass  # the votes stay: the file they came from is still there
