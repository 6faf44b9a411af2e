"""The web UI: the chat page, a page per question, and the browse page.

Server-rendered with Jinja (autoescaped) and a little plain JavaScript from
service/static; nothing is fetched from another origin.  The pages call the
same use cases as the API (``service.usecases``) and show them through the
API's own models, so the UI shows exactly what the API returns.
``mount(app)`` is called by ``service.app``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from index.filters import Filters
from qbank import __version__
from service import usecases
from service.deps import StateDep
from service.render import code_css, render_markdown
from service.routes.questions import facets_public, question_detail
from service.schemas import hit_public, summary
from service.state import ServiceState

PACKAGE = Path(__file__).resolve().parent.parent
STATIC_DIR = PACKAGE / "static"
PAGE_SIZE = 50

templates = Jinja2Templates(directory=PACKAGE / "templates")
templates.env.globals["version"] = __version__
router = APIRouter(include_in_schema=False)


def mount(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")


def _page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def _not_ready(request: Request, state: ServiceState) -> HTMLResponse:
    detail = f"The index could not be loaded: {state.error}" if state.error else "The question bank is still loading."
    return _page(request, "error.html", {"title": "Not ready yet", "detail": detail, "refresh": True}, 503)


@router.get("/", response_class=HTMLResponse)
def chat_page(request: Request, state: StateDep) -> HTMLResponse:
    engine = state.engine
    examples = engine.composer.catalog.examples if engine is not None else ()
    return _page(request, "chat.html", {"examples": examples})


@router.get("/q/{record_id}", response_class=HTMLResponse)
def question_page(request: Request, record_id: str, state: StateDep) -> HTMLResponse:
    if state.engine is None:
        return _not_ready(request, state)
    try:
        q = question_detail(usecases.question(state.engine, record_id), state.settings.public_url)
    except usecases.NotFound:
        detail = "There is no question with that id. Search or browse the bank instead."
        return _page(request, "error.html", {"title": "Question not found", "detail": detail}, 404)
    context = {
        "q": q,
        "answer_html": render_markdown(q.answer_markdown) if q.answer_markdown else "",
        "insight_html": render_markdown(q.insight) if q.insight else "",
    }
    return _page(request, "question.html", context)


@router.get("/browse", response_class=HTMLResponse)
def browse_page(
    request: Request,
    state: StateDep,
    q: Annotated[str, Query(max_length=100_000)] = "",
    company: Annotated[str, Query(max_length=100)] = "",
    difficulty: Annotated[str, Query(max_length=20)] = "",
    tag: Annotated[str, Query(max_length=100)] = "",
    bank: Annotated[str, Query(max_length=200)] = "",
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> HTMLResponse:
    engine = state.engine
    if engine is None:
        return _not_ready(request, state)
    chosen = {"company": company, "difficulty": difficulty, "tag": tag, "bank": bank}
    filters = Filters(company or None, difficulty or None, tag or None, bank or None)
    base_url = state.settings.public_url
    context: dict[str, Any] = {"query": q, "chosen": chosen, "facets": facets_public(engine), "error": None}
    if q.strip():
        try:
            _, found = usecases.search(engine, q, state.settings.max_query_chars, PAGE_SIZE, filters=filters)
            hits = [hit_public(h, base_url) for h in found.hits]
            context |= {"hits": hits, "items": None, "total": len(hits)}
        except usecases.Invalid as exc:
            context |= {"hits": [], "items": None, "total": 0, "error": str(exc)}
    else:
        page = usecases.browse(engine, filters, None, PAGE_SIZE, offset)
        items = [summary(r, base_url) for r in page.items]
        context |= {"hits": None, "items": items, "total": page.total, "offset": offset, "limit": PAGE_SIZE}
    return _page(request, "browse.html", context)


@router.get("/code.css")
def code_stylesheet() -> Response:
    return Response(code_css(), media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})


@router.get("/favicon.ico")
def favicon() -> Response:
    return Response((STATIC_DIR / "favicon.svg").read_bytes(), media_type="image/svg+xml")
