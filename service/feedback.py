"""Feedback votes, in the store (``service.store``) shared by the web UI, the
API and the Slack bot.  Each vote is its own transaction, so a restart keeps
everything that was acknowledged.

A vote with a ``user_id`` (Slack's) is one per user and message: the same user
voting again on the same message changes their vote (a unique index holds
it, so two clicks at once still leave one vote).  Votes without one (the web
UI, the API) are a row per click.  Votes kept in the SQLite file of before
the store are copied in when the store is created (migration 0002).

A 👎 can say why (``REASONS``), with a comment; the reason comes with the
vote or after it, as the same user's vote again on the same message.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.store import Store
from service.store.tables import FeedbackRow

# Why an answer was not helpful: the choices the web UI and Slack offer after a 👎.
REASONS: dict[str, str] = {
    "wrong_question": "Answered a different question",
    "incomplete": "Incomplete",
    "outdated": "Outdated or wrong",
    "other": "Something else",
}


@dataclass(frozen=True, slots=True)
class FeedbackRecord:
    id: int
    created_at: float
    source: str
    message_id: str | None
    query: str | None
    question_id: str
    helpful: bool
    comment: str | None
    user_id: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Stored:
    """A stored vote's row, and the vote it replaced (the same user's on the same message), if any."""

    id: int
    previous: bool | None = None


class FeedbackStore:
    def __init__(self, store: Store) -> None:
        self.store = store

    def add(
        self,
        question_id: str,
        helpful: bool,
        source: str = "api",
        message_id: str | None = None,
        query: str | None = None,
        comment: str | None = None,
        user_id: str | None = None,
        reason: str | None = None,
    ) -> Stored:
        """Store a vote; with ``user_id`` and ``message_id``, replace that user's
        earlier vote on that message instead of adding one (also when it went in
        at the same moment as this one: ``Store.run`` runs this again)."""

        def vote(session: Session) -> Stored:
            earlier = None
            if user_id is not None and message_id is not None:
                earlier = session.scalars(
                    select(FeedbackRow)
                    .where(
                        FeedbackRow.source == source,
                        FeedbackRow.message_id == message_id,
                        FeedbackRow.user_id == user_id,
                    )
                    .with_for_update()
                ).one_or_none()
            if earlier is not None:
                previous = earlier.helpful
                earlier.created_at = time.time()  # when the vote that stands was given
                earlier.helpful, earlier.question_id, earlier.query, earlier.comment, earlier.reason = (
                    helpful,
                    question_id,
                    query,
                    comment,
                    reason,
                )
                return Stored(earlier.id, previous)
            row = FeedbackRow(
                created_at=time.time(),
                source=source,
                message_id=message_id,
                query=query,
                question_id=question_id,
                helpful=helpful,
                comment=comment,
                user_id=user_id,
                reason=reason,
            )
            session.add(row)
            session.flush()
            return Stored(row.id)

        return self.store.run(vote)

    def current(self, source: str, message_id: str, user_id: str) -> bool | None:
        """The user's vote that stands on a message: helpful or not, None when they have none."""
        with self.store.reading() as session:
            return session.scalars(
                select(FeedbackRow.helpful).where(
                    FeedbackRow.source == source, FeedbackRow.message_id == message_id, FeedbackRow.user_id == user_id
                )
            ).one_or_none()

    def all(self, since: float | None = None) -> list[FeedbackRecord]:
        """Every vote (given at or after ``since``, a Unix time), oldest first."""
        query = select(FeedbackRow).order_by(FeedbackRow.id)
        if since is not None:
            query = query.where(FeedbackRow.created_at >= since)
        with self.store.reading() as session:
            return [
                FeedbackRecord(
                    id=r.id,
                    created_at=r.created_at,
                    source=r.source,
                    message_id=r.message_id,
                    query=r.query,
                    question_id=r.question_id,
                    helpful=r.helpful,
                    comment=r.comment,
                    user_id=r.user_id,
                    reason=r.reason,
                )
                for r in session.scalars(query).all()
            ]

    def counts(self) -> dict[tuple[str, bool], int]:
        with self.store.reading() as session:
            rows = session.execute(
                select(FeedbackRow.source, FeedbackRow.helpful, func.count()).group_by(
                    FeedbackRow.source, FeedbackRow.helpful
                )
            ).all()
        return {(s, bool(h)): n for s, h, n in rows}
