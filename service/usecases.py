"""What the surfaces do with the bank, in one place: search, browse, facets, a
question with its related questions, a chat answer, a whole conversation's
answers, and feedback.  The API
routes, the web UI and the Slack bot all call these; they return internal
records, and each surface serialises them its own way.

Errors are raised as ``NotFound`` (an unknown id) and ``Invalid`` (input that
cannot be used, with the message to show); surfaces map them to 404/422, a
page, or a Slack message.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from index.filters import Filters
from index.results import SearchResult
from ingest.companies import canonical_companies
from ingest.models import Question, QuickRef
from qbank.answer import Answer
from service.feedback import REASONS, Stored
from service.querylog import Asked
from service.schemas import clean_text
from service.state import Engine, ServiceState

Record = Question | QuickRef
RELATED = 5


class NotFound(LookupError):
    pass


class Invalid(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Page:
    total: int
    items: tuple[Record, ...]


@dataclass(frozen=True, slots=True)
class FacetCounts:
    companies: Counter[str]
    difficulties: Counter[str]
    tags: Counter[str]
    banks: Counter[str]


@dataclass(frozen=True, slots=True)
class QuestionView:
    record: Record
    related: tuple[Record, ...]
    quick_refs: tuple[QuickRef, ...]  # a question's rows; a row itself


def _browsable(engine: Engine) -> list[Record]:
    """Questions and the quick-reference rows no question answers."""
    art = engine.artifact
    return [*art.questions, *(r for r in art.quick_refs if r.question_id is None)]


def search(
    engine: Engine,
    query: str,
    max_chars: int,
    k: int = 10,
    mode: str = "hybrid",
    filters: Filters | None = None,
    matches_only: bool = False,
    asked: Asked | None = None,
) -> tuple[str, SearchResult]:
    """The cleaned query and what it finds: the ``k`` best records, or with
    ``matches_only`` those of them the query is about (none for nonsense).
    With ``asked``, the search goes into the query log."""
    try:
        q = clean_text(query, max_chars)
    except ValueError as exc:
        raise Invalid(str(exc)) from exc
    result = engine.searcher.search(q, k=k, mode=mode, filters=filters, matches_only=matches_only)
    if asked is not None:
        asked.searched(q, result)
    return q, result


def browse(engine: Engine, filters: Filters, kind: str | None, limit: int, offset: int) -> Page:
    allows = engine.searcher.filter.allows
    matched = [r for r in _browsable(engine) if allows(filters, r.id) and (kind is None or r.kind == kind)]
    return Page(total=len(matched), items=tuple(matched[offset : offset + limit]))


def facets(engine: Engine, practisable: bool = False) -> FacetCounts:
    """Counts of what browse lists, or, ``practisable``, of what practice can deal (the
    questions with a curated answer: a quick-reference row has nothing to reveal)."""
    records = engine.artifact.questions if practisable else _browsable(engine)
    return FacetCounts(
        companies=Counter(c for r in records for c in canonical_companies(r.companies)),
        difficulties=Counter(r.difficulty for r in records if r.difficulty),
        tags=Counter(t for r in records for t in r.tags),
        banks=Counter(r.bank_slug for r in records),
    )


def related(engine: Engine, record: Record, n: int = RELATED) -> tuple[Record, ...]:
    """The records that search ranks nearest to ``record``'s title, itself left out."""
    hits = engine.searcher.search(record.title, k=n + 1, rerank=False).hits
    return tuple(h.record for h in hits if h.record.id != record.id)[:n]


def question(engine: Engine, record_id: str) -> QuestionView:
    record = engine.searcher.records.get(record_id)
    if record is None:
        raise NotFound(f"no question with id {record_id!r}; search or browse /api/questions")
    if isinstance(record, Question):
        rows = tuple(r for r in engine.artifact.quick_refs if r.id in record.quick_ref_ids)
    else:
        rows = (record,)
    return QuestionView(record=record, related=related(engine, record), quick_refs=rows)


def answer(
    engine: Engine,
    messages: Sequence[tuple[str, str]],
    max_chars: int,
    filters: Filters | None = None,
    asked: Asked | None = None,
) -> Answer:
    """The answer to a conversation whose last message is the user's question.
    Only user turns are searched, so only they are held to the query limit.
    With ``asked``, the turn goes into the query log."""
    try:
        cleaned = [
            (role, clean_text(text, max_chars, "message") if role == "user" else text) for role, text in messages
        ]
    except ValueError as exc:
        raise Invalid(str(exc)) from exc
    start = time.perf_counter()
    composed = engine.composer.compose(cleaned, filters=filters)
    if asked is not None:
        question = next((text for role, text in reversed(cleaned) if role == "user"), "")
        asked.answered(question, composed, filters, (time.perf_counter() - start) * 1000)
    return composed


def conversation(
    engine: Engine, turns: Sequence[tuple[str, Filters | None]], max_chars: int, asked: Asked | None = None
) -> tuple[Answer, ...]:
    """Each turn's answer as the chat gave it: the questions up to that turn,
    with that turn's filters.  What the page without JavaScript and a shared
    link show.  With ``asked``, the last turn (the one just asked) goes into
    the query log; the earlier ones were logged when they were asked."""
    history: list[tuple[str, str]] = []
    answers = []
    for i, (question, filters) in enumerate(turns):
        history.append(("user", question))
        answers.append(answer(engine, history, max_chars, filters, asked if i == len(turns) - 1 else None))
    return tuple(answers)


def record_feedback(
    state: ServiceState,
    question_id: str,
    helpful: bool,
    source: str,
    message_id: str | None = None,
    query: str | None = None,
    comment: str | None = None,
    user_id: str | None = None,
    reason: str | None = None,
) -> Stored:
    """Store one vote (on a question the index knows; a user's second vote on
    a message replaces their first, so a 👎's reason can follow the 👎) and
    count it, unless it repeats their vote."""
    engine = state.engine
    if engine is None or question_id not in engine.searcher.records:
        raise Invalid(f"unknown question_id {question_id!r}")
    if reason is not None:
        if reason not in REASONS:
            raise Invalid(f"reason must be one of {', '.join(REASONS)}, not {reason!r}")
        if helpful:
            raise Invalid("a reason goes with a 👎 (helpful: false) only")
    stored = state.feedback.add(question_id, helpful, source, message_id, query, comment, user_id, reason)
    if stored.previous != helpful:
        state.metrics.feedback.labels(source, str(helpful).lower()).inc()
    if state.boost is not None:
        state.boost.voted()
    return stored
