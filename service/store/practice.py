"""Practice progress in the store: each learner's cards and reviews.

The scheduler is not here: ``grade`` takes the function that turns a card (or
``None``, a question never graded) into its next state, and runs it on the
card as locked inside the transaction that also records the review, so two
grades of one card at once are applied one after the other, never over each
other, and no review is lost.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.store import Store
from service.store.tables import CardRow, ReviewRow, SecretRow


@dataclass(frozen=True, slots=True)
class CardState:
    """A learner's card: FSRS's fields (``state``: 1 learning, 2 review, 3 relearning) and counts."""

    question_id: str
    state: int
    step: int | None
    stability: float | None
    difficulty: float | None
    due: datetime
    last_review: datetime | None
    reviews: int
    lapses: int
    introduced_at: datetime


@dataclass(frozen=True, slots=True)
class ReviewRecord:
    question_id: str
    rating: int
    reviewed_at: datetime


def _state(row: CardRow) -> CardState:
    return CardState(
        question_id=row.question_id,
        state=row.state,
        step=row.step,
        stability=row.stability,
        difficulty=row.difficulty,
        due=row.due,
        last_review=row.last_review,
        reviews=row.reviews,
        lapses=row.lapses,
        introduced_at=row.introduced_at,
    )


def _write(row: CardRow, card: CardState) -> None:
    row.state, row.step, row.stability, row.difficulty = card.state, card.step, card.stability, card.difficulty
    row.due, row.last_review, row.reviews, row.lapses = card.due, card.last_review, card.reviews, card.lapses
    row.introduced_at = card.introduced_at


class PracticeStore:
    def __init__(self, store: Store) -> None:
        self.store = store

    def cards(self, learner: str) -> list[CardState]:
        with self.store.reading() as session:
            rows = session.scalars(select(CardRow).where(CardRow.learner_id == learner)).all()
            return [_state(r) for r in rows]

    def reviews(self, learner: str) -> list[ReviewRecord]:
        with self.store.reading() as session:
            rows = session.scalars(
                select(ReviewRow).where(ReviewRow.learner_id == learner).order_by(ReviewRow.reviewed_at, ReviewRow.id)
            ).all()
            return [ReviewRecord(r.question_id, r.rating, r.reviewed_at) for r in rows]

    def grade(
        self,
        learner: str,
        question_id: str,
        rating: int,
        now: datetime,
        schedule: Callable[[CardState | None], CardState],
    ) -> CardState:
        """Record a review of ``question_id`` at ``now`` and store the card ``schedule`` makes of the current one
        (locked meanwhile; a first grade that raced another is run again on the card the other made)."""

        def review(session: Session) -> CardState:
            row = session.scalars(
                select(CardRow)
                .where(CardRow.learner_id == learner, CardRow.question_id == question_id)
                .with_for_update()
            ).one_or_none()
            card = schedule(_state(row) if row is not None else None)
            if row is None:
                row = CardRow(learner_id=learner, question_id=question_id)
                session.add(row)
            _write(row, card)
            session.add(ReviewRow(learner_id=learner, question_id=question_id, rating=rating, reviewed_at=now))
            session.flush()
            return card

        return self.store.run(review)

    def introduced_since(self, learner: str, since: datetime) -> int:
        """How many of the learner's cards had their first grade at or after ``since``."""
        with self.store.reading() as session:
            count = session.scalar(
                select(func.count())
                .select_from(CardRow)
                .where(CardRow.learner_id == learner, CardRow.introduced_at >= since)
            )
            return int(count or 0)

    def merge(self, learner: str, cards: Sequence[CardState], reviews: Iterable[ReviewRecord]) -> tuple[int, int]:
        """Bring exported progress in: a card replaces the learner's own only if
        it was reviewed later; a review is added unless the same one is there.
        Returns (cards taken, reviews added).  Run through ``Store.run``: an
        import racing a first grade of the same card is retried, not a 500."""

        def work(session: Session) -> tuple[int, int]:
            mine = {
                r.question_id: r
                for r in session.scalars(select(CardRow).where(CardRow.learner_id == learner).with_for_update()).all()
            }
            taken = 0
            for card in cards:
                row = mine.get(card.question_id)
                if row is not None and not _later(card.last_review, row.last_review):
                    continue
                if row is None:
                    row = mine[card.question_id] = CardRow(learner_id=learner, question_id=card.question_id)
                    session.add(row)
                _write(row, card)
                taken += 1
            added = self._add_reviews(session, learner, reviews)
            return taken, added

        reviews = list(reviews)  # read twice when the first try is retried
        return self.store.run(work)

    @staticmethod
    def _add_reviews(session: Session, learner: str, reviews: Iterable[ReviewRecord]) -> int:
        seen = {
            (q, r, t)
            for q, r, t in session.execute(
                select(ReviewRow.question_id, ReviewRow.rating, ReviewRow.reviewed_at).where(
                    ReviewRow.learner_id == learner
                )
            ).all()
        }
        added = 0
        for review in reviews:
            key = (review.question_id, review.rating, review.reviewed_at)
            if key in seen:
                continue
            seen.add(key)
            session.add(
                ReviewRow(
                    learner_id=learner,
                    question_id=review.question_id,
                    rating=review.rating,
                    reviewed_at=review.reviewed_at,
                )
            )
            added += 1
        return added

    def secret(self, name: str) -> str:
        """The store's secret ``name``, made (random, 32 bytes) the first time anyone asks;
        when two processes make it at once, the one that went in first is everyone's."""

        def get_or_make(session: Session) -> str:
            row = session.get(SecretRow, name)
            if row is None:
                row = SecretRow(name=name, value=secrets.token_urlsafe(32))
                session.add(row)
                session.flush()
            return row.value

        return self.store.run(get_or_make)


def _later(a: datetime | None, b: datetime | None) -> bool:
    return a is not None and (b is None or a > b)
