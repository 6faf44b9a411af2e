"""Practice with spaced repetition, and the learner's progress.

Thin: the learner (``LearnerDep``: header, cookie, or a new one), then one
call into ``service.practice``, then the API models.  The store is reached
in a worker thread, as feedback is.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Response

from index.filters import Filters
from service import plan, practice, usecases
from service.accuracy import Accuracy
from service.deps import BaseUrlDep, EngineDep, LearnerDep, StateDep
from service.practice_schemas import (
    CardPublic,
    DifficultyAccuracy,
    GradeRequest,
    GradeResponse,
    ImportResponse,
    KeyTermPublic,
    MockRequest,
    MockResponse,
    PlanDayPublic,
    PlanItemPublic,
    PracticeCard,
    PracticeNext,
    ProgressFile,
    ProgressResponse,
    ReviewPublic,
    SignalResult,
    StudyPlanResponse,
    TagAccuracy,
    WeakTopic,
)
from service.render import render_markdown
from service.schemas import ErrorResponse, summary
from service.store.practice import CardState, ReviewRecord


async def _private(response: Response) -> None:
    """Every answer here is one learner's (their signed id in the body, a cookie):
    no shared cache may keep it or hand it to someone else."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "Cookie, X-Learner"


router = APIRouter(prefix="/api", tags=["practice"], dependencies=[Depends(_private)])


def card_public(card: CardState) -> CardPublic:
    return CardPublic(
        question_id=card.question_id,
        state=practice.STATES[card.state],
        step=card.step,
        stability=card.stability,
        difficulty=card.difficulty,
        due=card.due,
        last_review=card.last_review,
        reviews=card.reviews,
        lapses=card.lapses,
        introduced_at=card.introduced_at,
    )


def _practice_card(item: practice.Item, base_url: str) -> PracticeCard:
    record, card = item.record, item.card
    return PracticeCard(
        question=summary(record, base_url),
        status="new" if card is None else practice.STATES[card.state],
        due=card.due if card else None,
        reviews=card.reviews if card else 0,
        answer_markdown=record.answer_markdown,
        answer_html=render_markdown(record.answer_markdown),
        insight_html=render_markdown(record.insight) if record.insight else None,
        next_due=item.previews,
    )


@router.get("/practice/next", response_model=PracticeNext, summary="The next card to practise in a scope")
async def next_card(
    engine: EngineDep,
    state: StateDep,
    learner: LearnerDep,
    base_url: BaseUrlDep,
    company: Annotated[str | None, Query(max_length=100)] = None,
    difficulty: Annotated[str | None, Query(max_length=20)] = None,
    tag: Annotated[str | None, Query(max_length=100)] = None,
    bank: Annotated[str | None, Query(max_length=200)] = None,
) -> PracticeNext:
    """Due cards first (the longest overdue first), then questions never graded,
    up to the daily limit of new cards.  The answer is in the response: a client
    shows the question first and reveals the answer when asked."""
    scope = Filters(company, difficulty, tag, bank)
    now = datetime.now(UTC)
    per_day = state.settings.practice_new_per_day
    found = await asyncio.to_thread(practice.next_card, engine, state.practice, learner.id, scope, now, per_day)
    return PracticeNext(
        learner=learner.token,
        card=_practice_card(found.item, base_url) if found.item else None,
        questions=found.questions,
        due=found.due,
        new_left=found.new_left,
        next_due=found.next_due,
        unseen=found.unseen,
        new_per_day=per_day,
    )


@router.post("/practice/grade", response_model=GradeResponse, summary="Grade a card: again, hard, good or easy")
async def grade(req: GradeRequest, engine: EngineDep, state: StateDep, learner: LearnerDep) -> GradeResponse:
    now = datetime.now(UTC)
    try:
        card = await asyncio.to_thread(
            practice.grade, engine, state.practice, learner.id, req.question_id, req.rating, now
        )
    except usecases.Invalid as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    return GradeResponse(learner=learner.token, rating=req.rating, card=card_public(card))


@router.post("/practice/mock", response_model=MockResponse, summary="Score a typed answer, as a mock interviewer")
async def mock(req: MockRequest, engine: EngineDep, base_url: BaseUrlDep) -> MockResponse:
    """Each of the question's strong-answer signals (its Interviewer's Insight
    box) hit or missed by the answer, the curated answer's key terms used or
    not, follow-up probes from its section headings, then the insight and the
    answer itself.  Stateless: needs no learner and stores nothing."""
    try:
        found = await asyncio.to_thread(practice.mock, engine, req.question_id, req.answer)
    except usecases.Invalid as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    record = found.question
    return MockResponse(
        question=summary(record, base_url),
        testing=found.testing,
        signals=[
            SignalResult(
                signal=s.signal.text, hit=s.hit, score=s.score, lexical=s.lexical, dense=s.dense, evidence=s.evidence
            )
            for s in found.signals
        ],
        hits=found.hits,
        threshold=found.threshold,
        dense_weight=found.dense_weight,
        key_terms=[KeyTermPublic(term=k.term, used=k.used) for k in found.key_terms],
        probes=list(found.probes),
        answer_markdown=record.answer_markdown,
        answer_html=render_markdown(record.answer_markdown),
        insight_html=render_markdown(record.insight) if record.insight else None,
    )


@router.get(
    "/practice/plan",
    response_model=StudyPlanResponse,
    summary="A company study plan over some days",
    responses={404: {"model": ErrorResponse, "description": "No question in the banks is asked by that company"}},
)
async def study_plan(
    engine: EngineDep,
    state: StateDep,
    learner: LearnerDep,
    base_url: BaseUrlDep,
    company: Annotated[str, Query(min_length=1, max_length=100, description="e.g. Netflix")],
    days: Annotated[int, Query(ge=1, le=plan.MAX_DAYS, description="Days until the interview.")] = 7,
) -> StudyPlanResponse:
    """Prepare me for Netflix in 10 days: the company's questions Easy → Hard,
    spread evenly over the days, each difficulty re-ordered by the learner's
    grades (weak first, known last).  Computed on each call; nothing stored."""
    today = datetime.now(UTC).date()
    try:
        found = await asyncio.to_thread(plan.study_plan, engine, state.practice, learner.id, company, days, today)
    except usecases.NotFound as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    except usecases.Invalid as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    return StudyPlanResponse(
        learner=learner.token,
        company=found.company,
        days=days,
        questions=found.questions,
        plan=[
            PlanDayPublic(
                day=d.day,
                date=d.date,
                questions=[PlanItemPublic(question=summary(i.record, base_url), standing=i.standing) for i in d.items],
            )
            for d in found.days
        ],
        practice_url=practice_url(base_url, company=found.company),
    )


def practice_url(base_url: str, **scope: str) -> str:
    """The Practice page scoped to ``scope`` (company, difficulty, tag, bank)."""
    return f"{base_url}/practice?{urlencode(scope)}"


def progress_public(found: practice.Progress, learner_token: str, base_url: str) -> ProgressResponse:
    """The API's model of a learner's progress, which the Progress page shows too."""

    def counts(a: Accuracy) -> dict[str, int | float]:
        return {
            "questions": a.questions,
            "reviews": a.reviews,
            "recalled": a.recalled,
            "accuracy": a.accuracy,
            "lapses": a.lapses,
            "weak": a.weak,
        }

    return ProgressResponse(
        learner=learner_token,
        cards=found.cards,
        due=found.due,
        states=found.states,
        reviews=found.reviews,
        reviews_today=found.reviews_today,
        recalled=found.recalled,
        new_today=found.new_today,
        new_left_today=found.new_left_today,
        streak_days=found.streak_days,
        next_due=found.next_due,
        accuracy_by_tag=[TagAccuracy(tag=a.name or "", **counts(a)) for a in found.by_tag],
        accuracy_by_difficulty=[DifficultyAccuracy(difficulty=a.name, **counts(a)) for a in found.by_difficulty],
        weakest_topics=[
            WeakTopic(tag=a.name or "", practice_url=practice_url(base_url, tag=a.name or ""), **counts(a))
            for a in found.weakest
        ],
    )


@router.get("/progress", response_model=ProgressResponse, summary="The learner's cards and reviews, counted")
async def progress(engine: EngineDep, state: StateDep, learner: LearnerDep, base_url: BaseUrlDep) -> ProgressResponse:
    """Counts, the streak, accuracy by tag and by difficulty, and the weakest topics, each with a
    link to practise it.  The Progress page (`/progress`) shows the same for the browser's learner."""
    now = datetime.now(UTC)
    found = await asyncio.to_thread(
        practice.progress, engine, state.practice, learner.id, now, state.settings.practice_new_per_day
    )
    return progress_public(found, learner.token, base_url)


@router.get("/progress/export", response_model=ProgressFile, summary="The learner's progress as a JSON file")
async def export(engine: EngineDep, state: StateDep, learner: LearnerDep) -> ProgressFile:
    cards, reviews = await asyncio.to_thread(practice.export, state.practice, learner.id)
    return ProgressFile(
        cards=[card_public(c) for c in cards],
        reviews=[
            ReviewPublic(question_id=r.question_id, rating=practice.RATING_NAMES[r.rating], reviewed_at=r.reviewed_at)
            for r in reviews
        ],
    )


@router.post("/progress/import", response_model=ImportResponse, summary="Merge an exported progress file")
async def import_(body: ProgressFile, engine: EngineDep, state: StateDep, learner: LearnerDep) -> ImportResponse:
    """Into this learner's progress: a card is taken where it was reviewed later
    than theirs, a review unless it is already there.  Importing the same file
    twice changes nothing the second time."""
    cards = [
        CardState(
            question_id=c.question_id,
            state=practice.STATE_IDS[c.state],
            step=c.step,
            stability=c.stability,
            difficulty=c.difficulty,
            due=c.due.astimezone(UTC),
            last_review=c.last_review.astimezone(UTC) if c.last_review else None,
            reviews=c.reviews,
            lapses=c.lapses,
            introduced_at=c.introduced_at.astimezone(UTC),
        )
        for c in body.cards
    ]
    reviews = [
        ReviewRecord(r.question_id, int(practice.RATINGS[r.rating]), r.reviewed_at.astimezone(UTC))
        for r in body.reviews
    ]
    taken, added, left_out = await asyncio.to_thread(
        practice.import_, engine, state.practice, learner.id, cards, reviews
    )
    return ImportResponse(learner=learner.token, cards_taken=taken, reviews_added=added, left_out=left_out)
