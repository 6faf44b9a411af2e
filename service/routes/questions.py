"""Browse questions, read one in full, and list the filter facets."""

from __future__ import annotations

from collections import Counter
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from index.search import Filters
from ingest.models import Question, QuickRef
from service.deps import EngineDep, SettingsDep
from service.schemas import (
    CodePublic,
    FacetCount,
    Facets,
    QuestionDetail,
    QuestionsPage,
    SectionPublic,
    quick_ref_public,
    summary,
)

router = APIRouter(prefix="/api", tags=["questions"])


@router.get("/questions", response_model=QuestionsPage, summary="Browse questions with filters")
def list_questions(
    engine: EngineDep,
    settings: SettingsDep,
    company: Annotated[str | None, Query(max_length=100)] = None,
    difficulty: Annotated[str | None, Query(max_length=20)] = None,
    tag: Annotated[str | None, Query(max_length=100)] = None,
    bank: Annotated[str | None, Query(max_length=200)] = None,
    kind: Annotated[str | None, Query(pattern="^(question|quick_reference)$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> QuestionsPage:
    f = Filters(company, difficulty, tag, bank)
    art = engine.artifact
    records: list[Question | QuickRef] = [*art.questions, *(r for r in art.quick_refs if r.question_id is None)]
    matched = [r for r in records if f.matches(r) and (kind is None or r.kind == kind)]
    return QuestionsPage(
        total=len(matched),
        limit=limit,
        offset=offset,
        items=[summary(r, settings.public_url) for r in matched[offset : offset + limit]],
    )


@router.get(
    "/questions/{record_id}",
    response_model=QuestionDetail,
    responses={404: {"description": "Unknown question id"}},
    summary="One question (or quick-reference row) in full",
)
def get_question(record_id: str, engine: EngineDep, settings: SettingsDep) -> QuestionDetail:
    record = engine.searcher.records.get(record_id)
    if record is None:
        raise HTTPException(
            status_code=404, detail=f"no question with id {record_id!r}; search or browse /api/questions"
        )
    base = summary(record, settings.public_url).model_dump()
    related_hits = engine.searcher.search(record.title, k=6).hits
    related = [summary(h.record, settings.public_url) for h in related_hits if h.record.id != record.id][:5]
    if isinstance(record, Question):
        refs = [r for r in engine.artifact.quick_refs if r.id in record.quick_ref_ids]
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
            quick_reference=[quick_ref_public(r) for r in refs],
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
        quick_reference=[quick_ref_public(record)],
        linked_question_id=record.question_id,
        related=related,
    )


@router.get("/facets", response_model=Facets, summary="Companies, difficulties, tags and banks with counts")
def facets(engine: EngineDep) -> Facets:
    art = engine.artifact
    records: list[Question | QuickRef] = [*art.questions, *(r for r in art.quick_refs if r.question_id is None)]

    def counted(values: Counter[str]) -> list[FacetCount]:
        return [FacetCount(value=v, count=n) for v, n in sorted(values.items(), key=lambda x: (-x[1], x[0]))]

    return Facets(
        companies=counted(Counter(c for r in records for c in r.companies)),
        difficulties=counted(Counter(r.difficulty for r in records if r.difficulty)),
        tags=counted(Counter(t for r in records for t in r.tags)),
        banks=counted(Counter(r.bank_slug for r in records)),
    )
