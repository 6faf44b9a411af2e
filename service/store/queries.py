"""The query log in the store: rows written in batches, deleted when they
are older than the retention, and read back counted for the insights.

What goes in a row, and when, is ``service.querylog``'s business; this is
only the table's repository.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, or_, select

from service.store import Store
from service.store.tables import COMPANY_CHARS, QUESTION_ID_CHARS, QueryRow

COMPANY_LIST = "company_list"


@dataclass(frozen=True, slots=True)
class LoggedQuery:
    """One search or chat turn as the log keeps it.  ``hits``: (record id,
    score) of the best records, best first; ``top_dense``: the best record's
    cosine; ``learner``: the anonymous learner id, when the request carried one."""

    created_at: datetime
    surface: str
    action: str
    query: str
    searched: str
    abstained: bool
    hits: tuple[tuple[str, float], ...]
    latency_ms: float
    kind: str | None = None
    top_dense: float | None = None
    company: str | None = None
    learner: str | None = None

    @property
    def top_id(self) -> str | None:
        return self.hits[0][0] if self.hits else None


@dataclass(frozen=True, slots=True)
class TextCount:
    """A text searched ``count`` times in a window, first and last at those times;
    with the record that ranked first and its mean cosine, for answered texts."""

    text: str
    count: int
    first_seen: datetime
    last_seen: datetime
    top_id: str | None = None
    top_dense: float | None = None


@dataclass(frozen=True, slots=True)
class Turn:
    """The few fields of a row that volume per day, per surface and learners are counted from."""

    created_at: datetime
    surface: str
    abstained: bool
    learner: str | None


def _row(entry: LoggedQuery) -> dict[str, Any]:
    top_id = entry.top_id
    return {
        "created_at": entry.created_at,
        "surface": entry.surface,
        "action": entry.action,
        "query": entry.query,
        "searched": entry.searched,
        "kind": entry.kind,
        "abstained": entry.abstained,
        "top_id": top_id[:QUESTION_ID_CHARS] if top_id else None,
        "top_dense": entry.top_dense,
        "hits": [[record_id, score] for record_id, score in entry.hits],
        "company": entry.company[:COMPANY_CHARS] if entry.company else None,
        "latency_ms": entry.latency_ms,
        "learner_id": entry.learner,
    }


class QueryLogStore:
    def __init__(self, store: Store) -> None:
        self.store = store

    def add(self, entries: Sequence[LoggedQuery]) -> None:
        """All of ``entries`` in one transaction: one bulk INSERT, no ORM objects (nothing is read back).
        ``render_nulls``: without it SQLAlchemy leaves a row's None columns out of its INSERT
        and starts another statement whenever the set of columns changes between rows."""
        if not entries:
            return
        with self.store.transaction() as session:
            session.execute(insert(QueryRow), [_row(e) for e in entries], execution_options={"render_nulls": True})

    def purge(self, before: datetime) -> int:
        """Delete the rows logged before ``before``; how many went."""
        with self.store.transaction() as session:
            result = session.execute(delete(QueryRow).where(QueryRow.created_at < before))
            return int(getattr(result, "rowcount", 0) or 0)

    def entries(self, since: datetime | None = None) -> list[LoggedQuery]:
        """Every row (since ``since``), oldest first: for tests and exports of the raw log."""
        query = select(QueryRow).order_by(QueryRow.id)
        if since is not None:
            query = query.where(QueryRow.created_at >= since)
        with self.store.reading() as session:
            return [
                LoggedQuery(
                    created_at=r.created_at,
                    surface=r.surface,
                    action=r.action,
                    query=r.query,
                    searched=r.searched,
                    abstained=r.abstained,
                    hits=tuple((str(i), float(s)) for i, s in r.hits),
                    latency_ms=r.latency_ms,
                    kind=r.kind,
                    top_dense=r.top_dense,
                    company=r.company,
                    learner=r.learner_id,
                )
                for r in session.scalars(query).all()
            ]

    def turns(self, since: datetime) -> list[Turn]:
        with self.store.reading() as session:
            rows = session.execute(
                select(QueryRow.created_at, QueryRow.surface, QueryRow.abstained, QueryRow.learner_id).where(
                    QueryRow.created_at >= since
                )
            ).all()
        return [Turn(*row) for row in rows]

    def abstained_texts(self, since: datetime, limit: int) -> list[TextCount]:
        """The texts searched without an answer, the most frequent first."""
        count = func.count().label("n")
        query = (
            select(QueryRow.searched, count, func.min(QueryRow.created_at), func.max(QueryRow.created_at))
            .where(QueryRow.created_at >= since, QueryRow.abstained.is_(True))
            .group_by(QueryRow.searched)
            .order_by(count.desc(), QueryRow.searched)
            .limit(limit)
        )
        with self.store.reading() as session:
            rows = session.execute(query).all()
        return [TextCount(text, n, first, last) for text, n, first, last in rows]

    def weak_texts(self, since: datetime, dense_below: float, limit: int) -> list[TextCount]:
        """Texts answered (not a company's list) with a best record whose cosine is below ``dense_below``."""
        count = func.count().label("n")
        query = (
            select(
                QueryRow.searched,
                QueryRow.top_id,
                count,
                func.min(QueryRow.created_at),
                func.max(QueryRow.created_at),
                func.avg(QueryRow.top_dense),
            )
            .where(
                QueryRow.created_at >= since,
                QueryRow.abstained.is_(False),
                or_(QueryRow.kind.is_(None), QueryRow.kind != COMPANY_LIST),
                QueryRow.top_dense < dense_below,
            )
            .group_by(QueryRow.searched, QueryRow.top_id)
            .order_by(count.desc(), QueryRow.searched)
            .limit(limit)
        )
        with self.store.reading() as session:
            rows = session.execute(query).all()
        return [TextCount(text, n, first, last, top, float(dense)) for text, top, n, first, last, dense in rows]

    def top_records(self, since: datetime, limit: int) -> list[tuple[str, int]]:
        """The records that answered most often (first-ranked, not abstained, not a company's list)."""
        count = func.count().label("n")
        query = (
            select(QueryRow.top_id, count)
            .where(
                QueryRow.created_at >= since,
                QueryRow.abstained.is_(False),
                QueryRow.top_id.is_not(None),
                or_(QueryRow.kind.is_(None), QueryRow.kind != COMPANY_LIST),
            )
            .group_by(QueryRow.top_id)
            .order_by(count.desc(), QueryRow.top_id)
            .limit(limit)
        )
        with self.store.reading() as session:
            return [(str(record_id), int(n)) for record_id, n in session.execute(query).all()]

    def companies(self, since: datetime, limit: int) -> list[tuple[str, int]]:
        """The companies asked about (named in the query or chosen as a filter), the most asked first."""
        count = func.count().label("n")
        query = (
            select(QueryRow.company, count)
            .where(QueryRow.created_at >= since, QueryRow.company.is_not(None))
            .group_by(QueryRow.company)
            .order_by(count.desc(), QueryRow.company)
            .limit(limit)
        )
        with self.store.reading() as session:
            return [(str(company), int(n)) for company, n in session.execute(query).all()]
