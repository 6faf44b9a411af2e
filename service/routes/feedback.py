"""Thumbs up / down on an answer, stored durably."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, HTTPException, Request, Response

from service import usecases
from service.deps import EngineDep, StateDep, get_learner, voting_learner
from service.schemas import FeedbackRequest, FeedbackResponse

router = APIRouter(prefix="/api", tags=["feedback"])


@router.post("/feedback", response_model=FeedbackResponse, status_code=201, summary="Record feedback on an answer")
async def feedback(
    req: FeedbackRequest, request: Request, response: Response, engine: EngineDep, state: StateDep
) -> FeedbackResponse:
    """A vote is the learner's (the ``X-Learner`` header, else the cookie; the
    chat page gets a learner cookie with its first vote): their second vote on
    the same ``message_id`` replaces the first, and votes count toward the
    feedback boost once per learner.  A vote with no learner is kept but moves
    no ranking."""
    if req.message_id is None and req.query is None:
        raise HTTPException(status_code=422, detail="send message_id or query with the feedback")
    if req.source == "slack":  # a Slack user's vote comes from the Slack app itself, never over HTTP
        raise HTTPException(status_code=422, detail="source slack is the Slack app's own; send web or api")
    if req.source == "web":
        learner_id: str | None = (await get_learner(request, response, engine, state)).id
    else:
        learner_id = voting_learner(request, state)
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
            learner_id,
            req.reason,
        )
    except usecases.Invalid as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    return FeedbackResponse(id=stored.id, replaced=stored.previous is not None)
