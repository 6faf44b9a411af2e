"""The maintainer's insights as JSON, and the gaps as a to-do to export
(CSV or JSON, all of them or one).  Behind ``QBANK_ADMIN_TOKEN``
(``service.admin``); computed in a worker thread (it reads the store and
embeds new gap texts)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response

from service.admin import AdminDep
from service.deps import EngineDep, StateDep
from service.gaps import Gap
from service.insights_schemas import GapPublic, InsightsResponse, gap_public, gaps_csv, insights_public
from service.schemas import ErrorResponse
from service.state import ServiceState

router = APIRouter(prefix="/api/admin", tags=["admin"])

NO_STORE = {"Cache-Control": "no-store"}
_RESPONSES: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorResponse, "description": "No admin token, or the wrong one"},
    404: {"model": ErrorResponse, "description": "QBANK_ADMIN_TOKEN is not set (or, for one gap, no such gap)"},
}
Days = Annotated[int, Query(ge=1, le=366, description="The last this many days (UTC), today included.")]
GapId = Annotated[str | None, Query(max_length=64, description="Only this gap (its `id`).")]


@router.get("/insights", response_model=InsightsResponse, responses=_RESPONSES, summary="The maintainer's insights")
async def insights(
    _: AdminDep, engine: EngineDep, state: StateDep, response: Response, days: Days = 30
) -> InsightsResponse:
    """Gaps (questions without an answer, grouped by meaning), weak answers, votes per
    question, the most asked questions and companies, volume and abstain rate per day."""
    floor = engine.searcher.abstention.config.dense_floor
    found = await asyncio.to_thread(state.insights.run, days, engine.searcher.records, floor)
    response.headers.update(NO_STORE)
    return insights_public(found, state.settings.query_log, state.settings.query_log_days)


async def _gaps(state: ServiceState, days: int, gap_id: str | None) -> tuple[Gap, ...]:
    gaps = await asyncio.to_thread(state.insights.gaps, days)
    if gap_id is None:
        return gaps
    chosen = tuple(g for g in gaps if g.id == gap_id)
    if not chosen:
        raise HTTPException(status_code=404, detail=f"no gap {gap_id!r} in the last {days} days")
    return chosen


@router.get("/insights/gaps.json", response_model=list[GapPublic], responses=_RESPONSES, summary="The gaps as JSON")
async def gaps_json(
    _: AdminDep, engine: EngineDep, state: StateDep, response: Response, days: Days = 30, id: GapId = None
) -> list[GapPublic]:
    gaps = await _gaps(state, days, id)
    response.headers.update(NO_STORE)
    return [gap_public(g) for g in gaps]


@router.get(
    "/insights/gaps.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "One row per gap"}, **_RESPONSES},
    summary="The gaps as CSV",
)
async def gaps_csv_file(_: AdminDep, engine: EngineDep, state: StateDep, days: Days = 30, id: GapId = None) -> Response:
    gaps = await _gaps(state, days, id)
    name = f"qbank-gap-{id}.csv" if id else f"qbank-gaps-{days}d.csv"
    headers = NO_STORE | {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(gaps_csv(gaps), media_type="text/csv; charset=utf-8", headers=headers)
