"""Chat: the curated answer for a conversation, as JSON or Server-Sent Events.

SSE framing: ``event: sources`` (the hits), then ``event: delta`` pieces of
the markdown answer, then ``event: done`` with the whole ``ChatResponse``
plus ``answer_html`` (the answer rendered as the web UI shows it).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from collections.abc import AsyncIterator

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import StreamingResponse

from index.search import Filters
from service.compose import ComposedAnswer
from service.deps import EngineDep, StateDep
from service.llm import LLMError
from service.ratelimit import check_rate
from service.render import render_markdown
from service.schemas import ChatRequest, ChatResponse, clean_text, hit_public
from service.state import Engine, ServiceState

router = APIRouter(prefix="/api", tags=["chat"])
log = logging.getLogger(__name__)


def _compose(engine: Engine, state: ServiceState, req: ChatRequest) -> ComposedAnswer:
    try:
        # Only user turns are searched, so only they are held to the query limit.
        messages = [
            (
                m.role,
                clean_text(m.content, state.settings.max_query_chars, "message") if m.role == "user" else m.content,
            )
            for m in req.messages
        ]
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    f = req.filters
    filters = Filters(f.company, f.difficulty, f.tag, f.bank) if f else None
    return engine.composer.compose(messages, filters=filters)


def _response(
    composed: ComposedAnswer, state: ServiceState, answer: str | None = None, llm: bool = False
) -> ChatResponse:
    return ChatResponse(
        answer=answer if answer is not None else composed.answer,
        abstained=composed.abstained,
        sources=[]
        if composed.abstained
        else [hit_public(h, state.settings.public_url) for h in composed.result.hits[:4]],
        suggestions=list(composed.suggestions),
        rewritten_query=composed.rewritten_query,
        message_id=uuid.uuid4().hex,
        generated_by="llm" if llm else "extractive",
    )


def _sse(event: str, data: object) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _pieces(text: str) -> list[str]:
    """Split markdown into small pieces at line / word boundaries for streaming."""
    return [p for p in re.split(r"(?<=\n)|(?<= )(?=\S)", text) if p] if text else []


async def _llm_text(state: ServiceState, composed: ComposedAnswer) -> AsyncIterator[str]:
    assert state.llm is not None
    sources = [(h.record.title, h.snippet) for h in composed.result.hits[:4]]
    sections = "\n\n".join(s.markdown for s in composed.sections)
    if sections and sources:
        sources[0] = (sources[0][0], sections[:4000])
    async for piece in state.llm.stream(composed.rewritten_query, sources):
        yield piece


async def _stream(state: ServiceState, composed: ComposedAnswer, request: Request) -> AsyncIterator[str]:
    base = _response(composed, state)
    yield _sse("sources", {"sources": [s.model_dump() for s in base.sources], "rewritten_query": base.rewritten_query})
    text, llm_used = composed.answer, False
    if state.llm is not None and not composed.abstained:
        generated: list[str] = []
        try:
            async for piece in _llm_text(state, composed):
                generated.append(piece)
                yield _sse("delta", {"text": piece})
            text, llm_used = "".join(generated), True
        except LLMError as exc:
            log.warning("LLM failed, falling back to the extractive answer: %s", exc)
            note = "\n\n_(The generator was unavailable; showing the curated answer instead.)_\n\n"
            yield _sse("reset", {"reason": str(exc)})
            text = note + composed.answer
    if not llm_used:
        for piece in _pieces(text):
            if await request.is_disconnected():
                return
            yield _sse("delta", {"text": piece})
            await asyncio.sleep(0)
    final = base.model_copy(update={"answer": text, "generated_by": "llm" if llm_used else "extractive"})
    yield _sse("done", final.model_dump() | {"answer_html": await asyncio.to_thread(render_markdown, text)})


async def _answer(state: ServiceState, composed: ComposedAnswer) -> ChatResponse:
    if state.llm is None or composed.abstained:
        return _response(composed, state)
    try:
        text = "".join([p async for p in _llm_text(state, composed)])
        return _response(composed, state, answer=text, llm=True)
    except LLMError as exc:
        log.warning("LLM failed, falling back to the extractive answer: %s", exc)
        note = "_(The generator was unavailable; showing the curated answer instead.)_\n\n"
        return _response(composed, state, answer=note + composed.answer)


@router.post(
    "/chat",
    response_model=ChatResponse,
    responses={200: {"content": {"text/event-stream": {}}}, 429: {"description": "Rate limited"}},
    summary="Answer a conversation from the curated bank (set stream=true for SSE)",
)
async def chat(
    req: ChatRequest, request: Request, engine: EngineDep, state: StateDep
) -> ChatResponse | StreamingResponse:
    check_rate(request, state)
    composed = await asyncio.to_thread(_compose, engine, state, req)
    if req.stream:
        return StreamingResponse(
            _stream(state, composed, request), media_type="text/event-stream", headers=_SSE_HEADERS
        )
    return await _answer(state, composed)


_SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


@router.post(
    "/chat/stream",
    responses={200: {"content": {"text/event-stream": {}}}, 429: {"description": "Rate limited"}},
    summary="The chat answer as Server-Sent Events",
    response_class=StreamingResponse,
)
async def chat_stream(req: ChatRequest, request: Request, engine: EngineDep, state: StateDep) -> StreamingResponse:
    check_rate(request, state)
    composed = await asyncio.to_thread(_compose, engine, state, req)
    return StreamingResponse(_stream(state, composed, request), media_type="text/event-stream", headers=_SSE_HEADERS)
