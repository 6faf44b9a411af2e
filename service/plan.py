"""A company study plan: "prepare me for Netflix in 10 days".

Computed from the bank on each request, nothing stored: the company's
questions (those with a curated answer whose "Asked by" names it, aliases
read as in search), Easy → Hard, spread evenly over the days.  The
learner's grades re-order each difficulty: questions whose last grade was
Again or Hard first, then the ones never graded, then those last graded
Good or Easy, so the weak spots come early and what is known is left for
the end of its level.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from index.filters import Filters
from ingest.companies import canonical_company
from ingest.models import DIFFICULTY_LEVEL, Question
from service.practice import Standing, deck, standings
from service.state import Engine
from service.store.practice import PracticeStore
from service.usecases import Invalid, NotFound

MAX_DAYS = 60
_ORDER: dict[Standing, int] = {"weak": 0, "new": 1, "known": 2}


@dataclass(frozen=True, slots=True)
class PlanItem:
    record: Question
    standing: Standing  # from the learner's last grade of it


@dataclass(frozen=True, slots=True)
class PlanDay:
    day: int  # 1-based
    date: date
    items: tuple[PlanItem, ...]


@dataclass(frozen=True, slots=True)
class StudyPlan:
    company: str  # as the bank writes it
    days: tuple[PlanDay, ...]

    @property
    def questions(self) -> int:
        return sum(len(d.items) for d in self.days)


def study_plan(engine: Engine, store: PracticeStore, learner: str, company: str, days: int, start: date) -> StudyPlan:
    if not 1 <= days <= MAX_DAYS:
        raise Invalid(f"days must be between 1 and {MAX_DAYS}, not {days}")
    questions = deck(engine, Filters(company=company))
    if not questions:
        raise NotFound(f"no question in the banks is asked by {company!r}; /api/facets lists the companies")
    key = canonical_company(company).lower()
    named = next(c for q in questions for c in q.companies if canonical_company(c).lower() == key)
    known = standings(store, learner)
    order = {q.id: i for i, q in enumerate(questions)}  # deck order: bank order within a difficulty
    items = sorted(
        (PlanItem(q, known.get(q.id, "new")) for q in questions),
        key=lambda it: (
            DIFFICULTY_LEVEL.get((it.record.difficulty or "").lower(), 1),
            _ORDER[it.standing],
            order[it.record.id],
        ),
    )
    n = len(items)
    # Day i ends after ceil(i * n / days) questions: days differ by at most one question, the
    # larger days come first, and with fewer questions than days the plan starts on day 1.
    bounds = [-(-i * n // days) for i in range(days + 1)]
    return StudyPlan(
        company=named,
        days=tuple(
            PlanDay(i + 1, start + timedelta(days=i), tuple(items[bounds[i] : bounds[i + 1]])) for i in range(days)
        ),
    )
