"""Chat: the answer to a conversation, as JSON or Server-Sent Events.

The composer's typed ``Answer`` is rendered here for the API: ``answer`` is its
markdown, ``sources`` its best hits.  With an LLM configured, the writing step
(``qbank.answer.generate``) streams a checked synthesis above the curated
text, and falls back to the curated text alone on failure.

SSE framing: ``event: sources`` (the hits), then the answer, then ``event:
done`` with the whole ``ChatResponse`` plus ``answer_html`` (the answer as the
web UI shows it).  The answer comes as the request's ``render`` asks:

- ``markdown`` (the default): ``event: delta`` pieces of the markdown;
- ``html`` (the web page): ``event: block`` / ``event: tail``, its blocks
  rendered as HTML as they are finished (``service.live``).

``event: reset`` (generation failed) means: drop what came so far.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import StreamingResponse

from index.filters import Filters
from qbank.answer import Answer, to_markdown
from qbank.answer.generate import Written
from service import usecases
from service.deps import AskedDep, BaseUrlDep, ChatRateLimit, EngineDep, StateDep
from service.live import Block, LiveBlocks, LiveEvent
from service.querylog import Asked
from service.render import answer_blocks, answer_html
from service.schemas import ChatRequest, ChatResponse, chat_response, hit_public
from service.state import Engine, ServiceState

router = APIRouter(prefix="/api", tags=["chat"])

_SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {"text/event-stream": {}}},
    429: {"description": "Rate limited"},
}


def _answer(engine: Engine, state: ServiceState, req: ChatRequest, asked: Asked) -> Answer:
    f = req.filters
    filters = Filters(f.company, f.difficulty, f.tag, f.bank) if f else None
    messages = [(m.role, m.content) for m in req.messages]
    try:
        return usecases.answer(engine, messages, state.settings.max_query_chars, filters, asked)
    except usecases.Invalid as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc


def _sse(event: str, data: object) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


FRAME_CHARS = 48  # a delta frame: about eight words, or up to a line's end


def _pieces(text: str) -> list[str]:
    """Split markdown at line and word boundaries into pieces of about ``FRAME_CHARS``
    for streaming: a line ends a piece; a word never is split.  One frame per word made a
    long answer hundreds of frames, each a turn of the event loop: seconds for one answer
    while the server was busy, and twice the bytes."""
    pieces: list[str] = []
    current = ""
    for word in (w for w in re.split(r"(?<=\n)|(?<= )(?=\S)", text) if w):
        current += word
        if len(current) >= FRAME_CHARS or current.endswith("\n"):
            pieces.append(current)
            current = ""
    return [*pieces, current] if current else pieces


def _live(event: LiveEvent) -> str:
    name = "block" if isinstance(event, Block) else "tail"
    return _sse(name, {"index": event.index, "html": event.html})


async def _stream(
    state: ServiceState, answer: Answer, request: Request, render: str, base_url: str
) -> AsyncIterator[str]:
    sources = [hit_public(h, base_url).model_dump() for h in answer.sources]
    yield _sse("sources", {"sources": sources, "rewritten_query": answer.rewritten_query})
    written = Written()
    live = LiveBlocks() if render == "html" else None
    async for event, text in state.writer.write(answer, to_markdown(answer), written):
        if event == "reset":
            yield _sse("reset", {"reason": text})
            if live is not None:
                live.reset()
        elif live is None:
            yield _sse("delta", {"text": text})
        else:
            for update in await asyncio.to_thread(live.feed, text):
                yield _live(update)
    frames: list[str]
    if written.generated_by == "llm":  # the synthesis has streamed; the rule and the curated answer follow
        if live is None:
            frames = [_sse("delta", {"text": piece}) for piece in _pieces(written.unstreamed)]
        else:
            updates = await asyncio.to_thread(live.feed, written.unstreamed)
            frames = [_live(u) for u in [*updates, *await asyncio.to_thread(live.finish)]]
        html = await asyncio.to_thread(answer_html, answer, written.text, written.generated_by)
    else:  # the curated text, all known now: streamed in pieces or block by block
        blocks = await asyncio.to_thread(answer_blocks, answer, written.text, written.generated_by)
        html = "".join(blocks)
        if live is None:
            frames = [_sse("delta", {"text": piece}) for piece in _pieces(written.text)]
        else:
            frames = [_live(Block(i, block)) for i, block in enumerate(blocks)]
    for frame in frames:
        if await request.is_disconnected():
            return
        yield frame
        await asyncio.sleep(0)
    final = chat_response(answer, written.text, written.generated_by, base_url)
    yield _sse("done", final.model_dump() | {"answer_html": html})


@router.post(
    "/chat",
    response_model=ChatResponse,
    responses=_RESPONSES,
    summary="Answer a conversation from the curated bank (set stream=true for SSE)",
)
async def chat(
    req: ChatRequest,
    request: Request,
    engine: EngineDep,
    state: StateDep,
    base_url: BaseUrlDep,
    asked: AskedDep,
    _: ChatRateLimit,
) -> ChatResponse | StreamingResponse:
    answer = await asyncio.to_thread(_answer, engine, state, req, asked)
    if req.stream:
        events = _stream(state, answer, request, req.render, base_url)
        return StreamingResponse(events, media_type="text/event-stream", headers=_SSE_HEADERS)
    written = Written()
    async for _event in state.writer.write(answer, to_markdown(answer), written):
        pass
    return chat_response(answer, written.text, written.generated_by, base_url)


@router.post(
    "/chat/stream",
    responses=_RESPONSES,
    summary="The chat answer as Server-Sent Events",
    response_class=StreamingResponse,
)
async def chat_stream(
    req: ChatRequest,
    request: Request,
    engine: EngineDep,
    state: StateDep,
    base_url: BaseUrlDep,
    asked: AskedDep,
    _: ChatRateLimit,
) -> StreamingResponse:
    answer = await asyncio.to_thread(_answer, engine, state, req, asked)
    events = _stream(state, answer, request, req.render, base_url)
    return StreamingResponse(events, media_type="text/event-stream", headers=_SSE_HEADERS)
