"""The store's tables as SQLAlchemy 2 models.

The schema itself is made by the Alembic revisions in ``migrations/versions``;
these classes describe it for queries, and a test checks the two agree.
"""

from __future__ import annotations

from sqlalchemy import Float, Index, Integer, Text, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class FeedbackRow(Base):
    """A vote on an answer; with a user id (Slack's), one per user and message."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[float] = mapped_column(Float, nullable=False)
    source: Mapped[str] = mapped_column(Text, nullable=False)
    message_id: Mapped[str | None] = mapped_column(Text)
    query: Mapped[str | None] = mapped_column(Text)
    question_id: Mapped[str] = mapped_column(Text, nullable=False)
    helpful: Mapped[bool] = mapped_column(nullable=False)
    comment: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index(
            "feedback_one_vote_per_user",
            "source",
            "message_id",
            "user_id",
            unique=True,
            sqlite_where=text("user_id IS NOT NULL AND message_id IS NOT NULL"),
            postgresql_where=text("user_id IS NOT NULL AND message_id IS NOT NULL"),
        ),
    )
