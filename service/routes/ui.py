"""The web UI: the chat page, a page per question, and the browse page.

Server-rendered with Jinja (autoescaped) and a little plain JavaScript from
service/static; nothing is fetched from another origin.  The question and
browse pages reuse the API's own route functions, so the UI shows exactly
what the API returns.  ``mount(app)`` is called by ``service.app``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from qbank import __version__
from service.compose import EXAMPLE_QUESTIONS
from service.deps import StateDep
from service.render import code_css, render_markdown
from service.routes.questions import facets, get_question, list_questions
from service.routes.search import run_search
from service.schemas import SearchRequest
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
def chat_page(request: Request) -> HTMLResponse:
    return _page(request, "chat.html", {"examples": EXAMPLE_QUESTIONS})


@router.get("/q/{record_id}", response_class=HTMLResponse)
def question_page(request: Request, record_id: str, state: StateDep) -> HTMLResponse:
    if state.engine is None:
        return _not_ready(request, state)
    try:
        q = get_question(record_id, state.engine, state.settings)
    except HTTPException as exc:
        if exc.status_code != 404:
            raise
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
    filters = {k: v or None for k, v in chosen.items()}
    context: dict[str, Any] = {"query": q, "chosen": chosen, "facets": facets(engine), "error": None}
    if q.strip():
        try:
            found = run_search(
                engine, state.settings, SearchRequest.model_validate({"q": q, "k": PAGE_SIZE, **filters})
            )
            context |= {"hits": found.hits, "items": None, "total": len(found.hits)}
        except HTTPException as exc:
            context |= {"hits": [], "items": None, "total": 0, "error": exc.detail}
    else:
        page = list_questions(engine, state.settings, **filters, kind=None, limit=PAGE_SIZE, offset=offset)
        context |= {"hits": None, "items": page.items, "total": page.total, "offset": offset, "limit": PAGE_SIZE}
    return _page(request, "browse.html", context)


@router.get("/code.css")
def code_stylesheet() -> Response:
    return Response(code_css(), media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})


@router.get("/favicon.ico")
def favicon() -> Response:
    return Response((STATIC_DIR / "favicon.svg").read_bytes(), media_type="image/svg+xml")
