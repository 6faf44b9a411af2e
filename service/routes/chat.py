"""Chat: the answer to a conversation, as JSON or Server-Sent Events.

The composer's typed ``Answer`` is rendered here for the API: ``answer`` is its
markdown, ``sources`` its best hits.  With an LLM configured, the writing step
(``qbank.answer.generate``) may replace the text, and falls back to the
curated one on failure.

SSE framing: ``event: sources`` (the hits), then ``event: delta`` pieces of
the markdown answer (``event: reset`` if generation failed: drop what came
so far), then ``event: done`` with the whole ``ChatResponse`` plus
``answer_html`` (the answer as the web UI shows it).
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import StreamingResponse

from index.filters import Filters
from qbank.answer import Answer, to_markdown
from qbank.answer.generate import Written
from service import usecases
from service.deps import ChatRateLimit, EngineDep, StateDep
from service.render import answer_html
from service.schemas import ChatRequest, ChatResponse, hit_public
from service.state import Engine, ServiceState

router = APIRouter(prefix="/api", tags=["chat"])

_SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {"text/event-stream": {}}},
    429: {"description": "Rate limited"},
}


def _answer(engine: Engine, state: ServiceState, req: ChatRequest) -> Answer:
    f = req.filters
    filters = Filters(f.company, f.difficulty, f.tag, f.bank) if f else None
    messages = [(m.role, m.content) for m in req.messages]
    try:
        return usecases.answer(engine, messages, state.settings.max_query_chars, filters)
    except usecases.Invalid as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc


def _response(answer: Answer, state: ServiceState, written: Written) -> ChatResponse:
    return ChatResponse(
        kind=answer.kind,
        answer=written.text,
        abstained=answer.abstained,
        sources=[hit_public(h, state.settings.public_url) for h in answer.sources],
        suggestions=list(answer.suggestions),
        rewritten_query=answer.rewritten_query,
        message_id=uuid.uuid4().hex,
        generated_by=written.generated_by,
    )


def _sse(event: str, data: object) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _pieces(text: str) -> list[str]:
    """Split markdown into small pieces at line / word boundaries for streaming."""
    return [p for p in re.split(r"(?<=\n)|(?<= )(?=\S)", text) if p] if text else []


async def _stream(state: ServiceState, answer: Answer, request: Request) -> AsyncIterator[str]:
    sources = [hit_public(h, state.settings.public_url).model_dump() for h in answer.sources]
    yield _sse("sources", {"sources": sources, "rewritten_query": answer.rewritten_query})
    written = Written()
    async for event, text in state.writer.write(answer, to_markdown(answer), written):
        yield _sse(event, {"text": text} if event == "delta" else {"reason": text})
    if written.unstreamed:
        for piece in _pieces(written.unstreamed):
            if await request.is_disconnected():
                return
            yield _sse("delta", {"text": piece})
            await asyncio.sleep(0)
    final = _response(answer, state, written)
    html = await asyncio.to_thread(answer_html, answer, written.text, written.generated_by)
    yield _sse("done", final.model_dump() | {"answer_html": html})


@router.post(
    "/chat",
    response_model=ChatResponse,
    responses=_RESPONSES,
    summary="Answer a conversation from the curated bank (set stream=true for SSE)",
)
async def chat(
    req: ChatRequest, request: Request, engine: EngineDep, state: StateDep, _: ChatRateLimit
) -> ChatResponse | StreamingResponse:
    answer = await asyncio.to_thread(_answer, engine, state, req)
    if req.stream:
        return StreamingResponse(_stream(state, answer, request), media_type="text/event-stream", headers=_SSE_HEADERS)
    written = Written()
    async for _event in state.writer.write(answer, to_markdown(answer), written):
        pass
    return _response(answer, state, written)


@router.post(
    "/chat/stream",
    responses=_RESPONSES,
    summary="The chat answer as Server-Sent Events",
    response_class=StreamingResponse,
)
async def chat_stream(
    req: ChatRequest, request: Request, engine: EngineDep, state: StateDep, _: ChatRateLimit
) -> StreamingResponse:
    answer = await asyncio.to_thread(_answer, engine, state, req)
    return StreamingResponse(_stream(state, answer, request), media_type="text/event-stream", headers=_SSE_HEADERS)
