"""Semantic search API: GET (query string) and POST (JSON, for long queries)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from index.filters import Filters
from index.search import Mode
from qbank.settings import Settings
from service import usecases
from service.deps import AskedDep, BaseUrlDep, EngineDep, SettingsDep
from service.querylog import Asked
from service.schemas import SearchRequest, SearchResponse, hit_public
from service.state import Engine

router = APIRouter(prefix="/api", tags=["search"])


def run_search(engine: Engine, settings: Settings, base_url: str, req: SearchRequest, asked: Asked) -> SearchResponse:
    filters = Filters(req.company, req.difficulty, req.tag, req.bank)
    try:
        q, result = usecases.search(engine, req.q, settings.max_query_chars, req.k, req.mode, filters, asked=asked)
    except usecases.Invalid as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    return SearchResponse(
        query=q,
        mode=req.mode,
        took_ms=round(result.took_ms, 3),
        answerable=result.answerable,
        hits=[hit_public(h, base_url) for h in result.hits],
        unasked_company=result.unasked,
    )


@router.get("/search", response_model=SearchResponse, summary="Search questions by free text")
async def search_get(
    engine: EngineDep,
    settings: SettingsDep,
    base_url: BaseUrlDep,
    asked: AskedDep,
    q: Annotated[str, Query(description="Free-text query.", max_length=100_000)],
    k: Annotated[int, Query(ge=1, le=50)] = 10,
    mode: Mode = "hybrid",
    company: Annotated[str | None, Query(max_length=100)] = None,
    difficulty: Annotated[str | None, Query(max_length=20)] = None,
    tag: Annotated[str | None, Query(max_length=100)] = None,
    bank: Annotated[str | None, Query(max_length=200)] = None,
) -> SearchResponse:
    try:
        req = SearchRequest(q=q, k=k, mode=mode, company=company, difficulty=difficulty, tag=tag, bank=bank)
    except ValidationError as exc:  # the model's own checks (a filter on one line): a 422 as for the query string
        errors = [{**e, "loc": ("query", *e["loc"])} for e in exc.errors(include_url=False, include_context=False)]
        raise RequestValidationError(errors) from None
    return await run_in_threadpool(run_search, engine, settings, base_url, req, asked)


@router.post("/search", response_model=SearchResponse, summary="Search questions (JSON body, for long queries)")
async def search_post(
    engine: EngineDep, settings: SettingsDep, base_url: BaseUrlDep, asked: AskedDep, req: SearchRequest
) -> SearchResponse:
    return await run_in_threadpool(run_search, engine, settings, base_url, req, asked)
