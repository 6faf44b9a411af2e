"""The feedback table, as service/feedback.py kept it in its own SQLite file.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ONE_VOTE = "user_id IS NOT NULL AND message_id IS NOT NULL"


def upgrade() -> None:
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("message_id", sa.Text),
        sa.Column("query", sa.Text),
        sa.Column("question_id", sa.Text, nullable=False),
        sa.Column("helpful", sa.Boolean, nullable=False),
        sa.Column("comment", sa.Text),
        sa.Column("user_id", sa.Text),
    )
    op.create_index(
        "feedback_one_vote_per_user",
        "feedback",
        ["source", "message_id", "user_id"],
        unique=True,
        sqlite_where=sa.text(ONE_VOTE),
        postgresql_where=sa.text(ONE_VOTE),
    )


def downgrade() -> None:
    op.drop_index("feedback_one_vote_per_user", table_name="feedback")
    op.drop_table("feedback")
