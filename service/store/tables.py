"""The store's tables as SQLAlchemy 2 models.

The schema itself is made by the Alembic revisions in ``migrations/versions``;
these classes describe it for queries, and a test checks the two agree.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Float, Index, Integer, SmallInteger, String, Text, text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

QUESTION_ID_CHARS = 300  # a question id: bank slug, "--", title slug
LEARNER_CHARS = 64
COMPANY_CHARS = 100
REASON_CHARS = 16  # a 👎's reason: wrong_question, incomplete, outdated, other
SLACK_USER_CHARS = 32  # a Slack user id: U… or W…, 9 to 11 characters today


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime in, the same out, on both databases (SQLite keeps no zone: stored as naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("the store keeps aware datetimes only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class FeedbackRow(Base):
    """A vote on an answer; with a user id (Slack's, or a learner's), one per user and message."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[float] = mapped_column(Float, nullable=False)
    source: Mapped[str] = mapped_column(Text, nullable=False)
    message_id: Mapped[str | None] = mapped_column(Text)
    query: Mapped[str | None] = mapped_column(Text)
    question_id: Mapped[str] = mapped_column(Text, nullable=False)
    helpful: Mapped[bool] = mapped_column(nullable=False)
    comment: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[str | None] = mapped_column(Text)  # Slack's user id, or the web/API learner id
    reason: Mapped[str | None] = mapped_column(String(REASON_CHARS))  # why a 👎: see service.feedback.REASONS

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


class CardRow(Base):
    """A learner's card for one question: FSRS's memory state and when it is due."""

    __tablename__ = "practice_cards"

    learner_id: Mapped[str] = mapped_column(String(LEARNER_CHARS), primary_key=True)
    question_id: Mapped[str] = mapped_column(String(QUESTION_ID_CHARS), primary_key=True)
    state: Mapped[int] = mapped_column(SmallInteger, nullable=False)  # fsrs.State: 1 learning, 2 review, 3 relearning
    step: Mapped[int | None] = mapped_column(Integer)
    stability: Mapped[float | None] = mapped_column(Float)
    difficulty: Mapped[float | None] = mapped_column(Float)
    due: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_review: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviews: Mapped[int] = mapped_column(Integer, nullable=False)
    lapses: Mapped[int] = mapped_column(Integer, nullable=False)
    introduced_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)  # its first grade

    __table_args__ = (Index("practice_cards_due", "learner_id", "due"),)


class ReviewRow(Base):
    """One grade a learner gave a card."""

    __tablename__ = "practice_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    learner_id: Mapped[str] = mapped_column(String(LEARNER_CHARS), nullable=False)
    question_id: Mapped[str] = mapped_column(String(QUESTION_ID_CHARS), nullable=False)
    rating: Mapped[int] = mapped_column(SmallInteger, nullable=False)  # fsrs.Rating: 1 again … 4 easy
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    __table_args__ = (Index("practice_reviews_learner", "learner_id", "reviewed_at"),)


class SecretRow(Base):
    """Keys the service makes for itself once and every replica shares (the learner-id signing key)."""

    __tablename__ = "store_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text, nullable=False)


class QueryRow(Base):
    """One search or chat turn, for the maintainer's insights (``service.querylog``):
    what was asked and searched, what answered, and nothing about who beyond
    the anonymous learner id.  Deleted after ``QBANK_QUERY_LOG_DAYS``."""

    __tablename__ = "query_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    surface: Mapped[str] = mapped_column(String(8), nullable=False)  # web, api, slack
    action: Mapped[str] = mapped_column(String(8), nullable=False)  # search, chat
    query: Mapped[str] = mapped_column(Text, nullable=False)  # the user's words
    searched: Mapped[str] = mapped_column(Text, nullable=False)  # what was searched (a chat turn's rewritten query)
    kind: Mapped[str | None] = mapped_column(String(16))  # a chat answer's kind
    abstained: Mapped[bool] = mapped_column(Boolean, nullable=False)
    top_id: Mapped[str | None] = mapped_column(String(QUESTION_ID_CHARS))
    top_dense: Mapped[float | None] = mapped_column(Float)  # the best record's cosine: low means a weak answer
    hits: Mapped[list[Any]] = mapped_column(JSON, nullable=False)  # [[record id, score], ...] best first
    company: Mapped[str | None] = mapped_column(String(COMPANY_CHARS))
    latency_ms: Mapped[float] = mapped_column(Float, nullable=False)
    learner_id: Mapped[str | None] = mapped_column(String(LEARNER_CHARS))

    __table_args__ = (Index("query_log_created", "created_at"),)


class SlackReminderRow(Base):
    """Whether a Slack user wants the daily "N cards due" direct message
    (``/ask practice remind on``), and the UTC day it last went out: a replica
    sends a day's reminder only after moving ``sent_on`` to that day itself."""

    __tablename__ = "slack_reminders"

    user_id: Mapped[str] = mapped_column(String(SLACK_USER_CHARS), primary_key=True)  # Slack's
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False)
    sent_on: Mapped[date | None] = mapped_column(Date)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)  # turned on or off
