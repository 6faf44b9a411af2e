"""Feedback: why an answer was not helpful (a 👎's reason).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

REASON_CHARS = 16

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feedback") as table:  # batch: SQLite cannot add a column with a constraint in place
        table.add_column(sa.Column("reason", sa.String(REASON_CHARS)))


def downgrade() -> None:
    with op.batch_alter_table("feedback") as table:
        table.drop_column("reason")
