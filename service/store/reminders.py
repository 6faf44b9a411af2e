"""Slack practice reminders in the store: who opted in, and which day each
was last reminded.

Several replicas on one database may look for reminders to send at the same
moment; each sends only the reminders it *claims*: ``claim`` moves a user's
``sent_on`` to today with one conditional ``UPDATE … WHERE sent_on < today``,
which exactly one transaction wins (PostgreSQL re-checks the condition once
the winner commits; SQLite runs one writer at a time).  A send that fails for
a reason that may pass (Slack unreachable, rate-limited) gives the day back
(``release``) so a later look tries again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from service.store import Store
from service.store.tables import SlackReminderRow


@dataclass(frozen=True, slots=True)
class Claim:
    """A day's reminder claimed for ``user_id``; ``previous`` is the day it had before (to give it back)."""

    user_id: str
    day: date
    previous: date | None


class ReminderStore:
    def __init__(self, store: Store) -> None:
        self.store = store

    def set(self, user_id: str, enabled: bool, now: datetime) -> None:
        """Turn ``user_id``'s reminders on or off (the day last sent is kept either way)."""

        def put(session: Session) -> None:
            row = session.get(SlackReminderRow, user_id, with_for_update=True)
            if row is None:
                session.add(SlackReminderRow(user_id=user_id, enabled=enabled, sent_on=None, changed_at=now))
                session.flush()
            else:
                row.enabled, row.changed_at = enabled, now

        self.store.run(put)

    def enabled(self, user_id: str) -> bool:
        with self.store.reading() as session:
            row = session.get(SlackReminderRow, user_id)
            return bool(row is not None and row.enabled)

    def unsent(self, day: date) -> list[str]:
        """The users who want reminders and have not had ``day``'s yet, in id order."""
        with self.store.reading() as session:
            rows = session.scalars(
                select(SlackReminderRow.user_id)
                .where(SlackReminderRow.enabled, _before(day))
                .order_by(SlackReminderRow.user_id)
            )
            return list(rows)

    def claim(self, user_id: str, day: date) -> Claim | None:
        """``day``'s reminder for ``user_id``, if nobody (no other replica) has it
        and they still want it; None otherwise."""
        with self.store.transaction() as session:
            previous = session.scalar(select(SlackReminderRow.sent_on).where(SlackReminderRow.user_id == user_id))
            result = session.execute(
                update(SlackReminderRow)
                .where(SlackReminderRow.user_id == user_id, SlackReminderRow.enabled, _before(day))
                .values(sent_on=day)
            )
            won = int(getattr(result, "rowcount", 0) or 0) == 1
        return Claim(user_id, day, previous) if won else None

    def release(self, claim: Claim) -> None:
        """Give a claimed day back: its reminder was not sent."""
        with self.store.transaction() as session:
            session.execute(
                update(SlackReminderRow)
                .where(SlackReminderRow.user_id == claim.user_id, SlackReminderRow.sent_on == claim.day)
                .values(sent_on=claim.previous)
            )

    def sent_on(self, user_id: str) -> date | None:
        with self.store.reading() as session:
            return session.scalar(select(SlackReminderRow.sent_on).where(SlackReminderRow.user_id == user_id))


def _before(day: date) -> ColumnElement[bool]:
    """Not reminded on ``day`` yet."""
    return or_(SlackReminderRow.sent_on.is_(None), SlackReminderRow.sent_on < day)
