"""Practice: each learner's cards (FSRS state, when due), their reviews, and
the store's own secrets (the key that signs learner ids).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

LEARNER_CHARS = 64
QUESTION_ID_CHARS = 300
UTCDateTime = sa.DateTime(timezone=True)  # service.store.tables.UTCDateTime keeps it as UTC

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "practice_cards",
        sa.Column("learner_id", sa.String(LEARNER_CHARS), primary_key=True),
        sa.Column("question_id", sa.String(QUESTION_ID_CHARS), primary_key=True),
        sa.Column("state", sa.SmallInteger, nullable=False),
        sa.Column("step", sa.Integer),
        sa.Column("stability", sa.Float),
        sa.Column("difficulty", sa.Float),
        sa.Column("due", UTCDateTime, nullable=False),
        sa.Column("last_review", UTCDateTime),
        sa.Column("reviews", sa.Integer, nullable=False),
        sa.Column("lapses", sa.Integer, nullable=False),
        sa.Column("introduced_at", UTCDateTime, nullable=False),
    )
    op.create_index("practice_cards_due", "practice_cards", ["learner_id", "due"])
    op.create_table(
        "practice_reviews",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("learner_id", sa.String(LEARNER_CHARS), nullable=False),
        sa.Column("question_id", sa.String(QUESTION_ID_CHARS), nullable=False),
        sa.Column("rating", sa.SmallInteger, nullable=False),
        sa.Column("reviewed_at", UTCDateTime, nullable=False),
    )
    op.create_index("practice_reviews_learner", "practice_reviews", ["learner_id", "reviewed_at"])
    op.create_table(
        "store_secrets",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("store_secrets")
    op.drop_table("practice_reviews")
    op.drop_table("practice_cards")
