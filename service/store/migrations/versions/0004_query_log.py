"""The query log: every search and chat turn, for the maintainer's insights.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

LEARNER_CHARS = 64
QUESTION_ID_CHARS = 300
COMPANY_CHARS = 100
UTCDateTime = sa.DateTime(timezone=True)  # service.store.tables.UTCDateTime keeps it as UTC

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "query_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("surface", sa.String(8), nullable=False),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("query", sa.Text, nullable=False),
        sa.Column("searched", sa.Text, nullable=False),
        sa.Column("kind", sa.String(16)),
        sa.Column("abstained", sa.Boolean, nullable=False),
        sa.Column("top_id", sa.String(QUESTION_ID_CHARS)),
        sa.Column("top_dense", sa.Float),
        sa.Column("hits", sa.JSON, nullable=False),
        sa.Column("company", sa.String(COMPANY_CHARS)),
        sa.Column("latency_ms", sa.Float, nullable=False),
        sa.Column("learner_id", sa.String(LEARNER_CHARS)),
    )
    op.create_index("query_log_created", "query_log", ["created_at"])


def downgrade() -> None:
    op.drop_index("query_log_created", table_name="query_log")
    op.drop_table("query_log")
