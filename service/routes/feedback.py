"""Thumbs up / down on an answer, stored durably."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, HTTPException

from service import usecases
from service.deps import EngineDep, StateDep
from service.schemas import FeedbackRequest, FeedbackResponse

router = APIRouter(prefix="/api", tags=["feedback"])


@router.post("/feedback", response_model=FeedbackResponse, status_code=201, summary="Record feedback on an answer")
async def feedback(req: FeedbackRequest, engine: EngineDep, state: StateDep) -> FeedbackResponse:
    if req.message_id is None and req.query is None:
        raise HTTPException(status_code=422, detail="send message_id or query with the feedback")
    try:
        stored = await asyncio.to_thread(
            usecases.record_feedback,
            state,
            req.question_id,
            req.helpful,
            req.source,
            req.message_id,
            req.query,
            req.comment,
        )
    except usecases.Invalid as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    return FeedbackResponse(id=stored.id)
