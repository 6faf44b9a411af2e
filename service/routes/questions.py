"""Browse questions, read one in full, and list the filter facets."""

from __future__ import annotations

from collections import Counter
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from starlette.concurrency import run_in_threadpool

from index.filters import Filters
from ingest.models import Question
from service import usecases
from service.deps import BaseUrlDep, EngineDep
from service.schemas import (
    CodePublic,
    FacetCount,
    Facets,
    QuestionDetail,
    QuestionsPage,
    SectionPublic,
    expansion_public,
    quick_ref_public,
    summary,
)
from service.state import Engine

router = APIRouter(prefix="/api", tags=["questions"])


@router.get("/questions", response_model=QuestionsPage, summary="Browse questions with filters")
async def list_questions(
    engine: EngineDep,
    base_url: BaseUrlDep,
    company: Annotated[str | None, Query(max_length=100)] = None,
    difficulty: Annotated[str | None, Query(max_length=20)] = None,
    tag: Annotated[str | None, Query(max_length=100)] = None,
    bank: Annotated[str | None, Query(max_length=200)] = None,
    kind: Annotated[str | None, Query(pattern="^(question|quick_reference)$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> QuestionsPage:
    def listed() -> QuestionsPage:
        page = usecases.browse(engine, Filters(company, difficulty, tag, bank), kind, limit, offset)
        items = [summary(r, base_url) for r in page.items]
        return QuestionsPage(total=page.total, limit=limit, offset=offset, items=items)

    return await run_in_threadpool(listed)


def question_detail(view: usecases.QuestionView, base_url: str) -> QuestionDetail:
    record = view.record
    base = summary(record, base_url).model_dump()
    related = [summary(r, base_url) for r in view.related]
    rows = [quick_ref_public(r) for r in view.quick_refs]
    if isinstance(record, Question):
        return QuestionDetail(
            **base,
            answer_markdown=record.answer_markdown,
            sections=[
                SectionPublic(
                    heading=s.heading,
                    markdown=s.markdown,
                    code=[CodePublic(language=c.language, code=c.code) for c in s.code_blocks],
                )
                for s in record.sections
            ],
            code=[CodePublic(language=c.language, code=c.code) for c in record.code_blocks],
            formulas=list(record.formulas),
            insight=record.insight,
            quick_reference=rows,
            linked_question_id=None,
            related=related,
        )
    return QuestionDetail(
        **base,
        answer_markdown=None,
        sections=[],
        code=[],
        formulas=[],
        insight=None,
        quick_reference=rows,
        linked_question_id=record.question_id,
        related=related,
        expansion=expansion_public(record),
    )


@router.get(
    "/questions/{record_id}",
    response_model=QuestionDetail,
    responses={404: {"description": "Unknown question id"}},
    summary="One question (or quick-reference row) in full",
)
async def get_question(record_id: str, engine: EngineDep, base_url: BaseUrlDep) -> QuestionDetail:
    def detail() -> QuestionDetail:
        try:
            view = usecases.question(engine, record_id)  # searches for the related questions
        except usecases.NotFound as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from exc
        return question_detail(view, base_url)

    return await run_in_threadpool(detail)


def facets_public(engine: Engine, practisable: bool = False) -> Facets:
    counts = usecases.facets(engine, practisable)

    def counted(values: Counter[str]) -> list[FacetCount]:
        return [FacetCount(value=v, count=n) for v, n in sorted(values.items(), key=lambda x: (-x[1], x[0]))]

    titles = {r.bank_slug: r.bank for r in engine.searcher.records.values()}
    banks = [f.model_copy(update={"label": titles.get(f.value)}) for f in counted(counts.banks)]
    return Facets(
        companies=counted(counts.companies),
        difficulties=counted(counts.difficulties),
        tags=counted(counts.tags),
        banks=banks,
    )


@router.get(
    "/facets",
    response_model=Facets,
    response_model_exclude_none=True,
    summary="Companies, difficulties, tags and banks with counts (a bank with its title as `label`)",
)
async def facets(engine: EngineDep) -> Facets:
    return await run_in_threadpool(facets_public, engine)
