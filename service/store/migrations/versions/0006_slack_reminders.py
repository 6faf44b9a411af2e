"""Slack reminders: who asked for the daily "N cards due" direct message, and
the day it last went out (the replica that claims a day sends it).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

SLACK_USER_CHARS = 32
UTCDateTime = sa.DateTime(timezone=True)  # service.store.tables.UTCDateTime keeps it as UTC

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "slack_reminders",
        sa.Column("user_id", sa.String(SLACK_USER_CHARS), primary_key=True),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("sent_on", sa.Date),
        sa.Column("changed_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("slack_reminders")
