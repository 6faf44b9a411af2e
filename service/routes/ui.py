"""The web UI: the chat page, a page per question, the browse page, and practice.

Server-rendered with Jinja (autoescaped) and a little plain JavaScript from
service/static; nothing is fetched from another origin.  The pages call the
same use cases as the API (``service.usecases``) and show them through the
API's own models, so the UI shows exactly what the API returns.
``mount(app)`` is called by ``service.app``.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from index.filters import Filters
from ingest.companies import canonical_company
from qbank import __version__
from qbank.answer import Answer, to_markdown
from qbank.answer.markdown import heading_label
from qbank.answer.model import unasked_line
from service import share, usecases
from service.deps import StateDep, asked_on, base_url
from service.headers import public_message
from service.ratelimit import limit_chat
from service.render import answer_html, code_css, render_markdown
from service.routes.questions import facets_public, question_detail
from service.schemas import CONTROL_CHARS, chat_response, hit_public, summary
from service.state import ServiceState

PACKAGE = Path(__file__).resolve().parent.parent
STATIC_DIR = PACKAGE / "static"
PAGE_SIZE = 50

templates = Jinja2Templates(directory=PACKAGE / "templates")
templates.env.globals["version"] = __version__
templates.env.filters["label"] = heading_label


def _echoed_text(value: str) -> str:
    """A value typed into an address, as a page shows it back (in a box, a menu, a chip, the
    title): without control characters, which went into the page as they were (a NUL)."""
    return CONTROL_CHARS.sub("", value)


def _echoed(values: dict[str, str]) -> dict[str, str]:
    return {name: _echoed_text(value) for name, value in values.items()}


router = APIRouter(include_in_schema=False)


class HashedStaticFiles(StaticFiles):
    """The page assets.  Pages link them as ``/static/<name>?v=<content hash>``
    (``asset_url``), so a changed file gets a new URL: those responses may be
    cached for a year; any other request for them must revalidate."""

    def file_response(self, full_path: Any, stat_result: Any, scope: Any, status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        versioned = b"v=" in (scope.get("query_string") or b"")
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable" if versioned else "no-cache"
        return response


@cache
def asset_url(name: str) -> str:
    """``/static/<name>?v=<first 12 hex of its sha256>`` (computed once per file)."""
    digest = hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:12]
    return f"/static/{name}?v={digest}"


templates.env.globals["asset"] = asset_url


def mount(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/static", HashedStaticFiles(directory=STATIC_DIR), name="static")


# Everything the pages load comes from here: no inline script or style, nothing from elsewhere.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def _page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    response.headers["Content-Security-Policy"] = CSP
    return response


def _not_ready(request: Request, state: ServiceState) -> HTMLResponse:
    error = public_message(state.error) if state.error else None
    detail = f"The index could not be loaded: {error}" if error else "The question bank is still loading."
    return _page(request, "error.html", {"title": "Not ready yet", "detail": detail, "refresh": True}, 503)


@router.get("/", response_class=HTMLResponse)
def chat_page(
    request: Request,
    state: StateDep,
    q: Annotated[str, Query(max_length=100_000)] = "",
    ask: Annotated[str, Query(max_length=100_000)] = "",
    c: Annotated[str, Query(max_length=100_000)] = "",
    company: Annotated[str, Query(max_length=100)] = "",
    difficulty: Annotated[str, Query(max_length=20)] = "",
    tag: Annotated[str, Query(max_length=100)] = "",
    bank: Annotated[str, Query(max_length=200)] = "",
) -> HTMLResponse:
    """The chat.  Empty, or the conversation in ``c`` (a shared link) plus the
    question in ``ask`` or ``q`` (the form, posted without JavaScript),
    answered here and rendered as the page would have streamed it."""
    given = {"company": company, "difficulty": difficulty, "tag": tag, "bank": bank}
    chosen = _echoed(given)  # as shown back; the turn is checked as given
    question = (ask or q).strip()
    if not c and not question:
        return _chat(request, state, [], chosen)
    if state.engine is None:
        return _not_ready(request, state)
    try:
        turns = share.decode(c) if c else []
    except share.Invalid as exc:
        return _bad_link(request, str(exc), 400)
    error = None
    if question:
        try:
            turns.append(share.new_turn(question, given, state.settings.max_query_chars))
        except share.Invalid as exc:  # the conversation so far is shown, with the question to correct
            error = str(exc)
    try:
        limit_chat(request)
    except HTTPException as exc:
        return _page(request, "error.html", {"title": "Too many questions", "detail": exc.detail}, exc.status_code)
    turns = turns[-share.MAX_TURNS :]
    try:
        asked = asked_on(request, state, "web") if question and error is None else None  # only a new turn is logged
        answers = usecases.conversation(
            state.engine, [(t.q, t.filters) for t in turns], state.settings.max_query_chars, asked
        )
    except usecases.Invalid as exc:
        return _bad_link(request, str(exc), 422)
    links = base_url(request, state.settings)
    shown = [_turn(t, a, links) for t, a in zip(turns, answers, strict=True)]
    last = turns[-1].f.model_dump(exclude_none=True) if turns and turns[-1].f else {}
    return _chat(request, state, shown, chosen if error else last, share.encode(turns), error, _echoed_text(question))


def bad_address(request: Request, errors: list[Any]) -> HTMLResponse:
    """A page's address with a value it cannot use ("/browse?offset=-5"): a page that says which,
    not the API's JSON 422."""
    problems = []
    for error in errors:
        if isinstance(error, dict):
            name = str(error.get("loc", ["", "value"])[-1])
            problems.append(f"{name}: {error.get('msg', 'not a value this page takes')}")
    detail = "; ".join(problems) or "a value in the address is not one this page takes"
    context = {"title": "This address has a value the page cannot use", "detail": detail}
    return _page(request, "error.html", context, 400)


def _bad_link(request: Request, detail: str, status_code: int) -> HTMLResponse:
    context = {"title": "This link does not open a conversation", "detail": detail}
    return _page(request, "error.html", context, status_code)


def _turn(turn: share.SharedTurn, answer: Answer, base_url: str) -> dict[str, Any]:
    """One turn as the page shows it, in the shape the chat script keeps it
    (``chat.js``): the question, its filters and the ``done`` event's fields."""
    text = to_markdown(answer)
    final = chat_response(answer, text, "extractive", base_url).model_dump(include=_FINAL_FIELDS)
    final["sources"] = [{k: s[k] for k in _SOURCE_FIELDS} for s in final["sources"]]
    final["answer_html"] = answer_html(answer, text)
    return {"question": turn.q, "filters": turn.f.model_dump(exclude_none=True) if turn.f else {}, "final": final}


_FINAL_FIELDS = {"kind", "answer", "abstained", "sources", "rewritten_query", "message_id", "generated_by"}
_SOURCE_FIELDS = ("id", "title", "kind", "difficulty", "companies")


def _chat(
    request: Request,
    state: ServiceState,
    turns: list[dict[str, Any]],
    chosen: dict[str, str],
    link: str = "",
    error: str | None = None,
    draft: str = "",
) -> HTMLResponse:
    engine = state.engine
    context = {
        "examples": engine.composer.catalog.examples if engine is not None else (),
        "facets": facets_public(state.engine) if state.engine is not None else None,
        "chosen": chosen,
        "turns": turns,
        "link": link,
        "error": error,
        "draft": draft if error else "",
    }
    return _page(request, "chat.html", context, 422 if error else 200)


@router.get("/q/{record_id}", response_class=HTMLResponse)
def question_page(request: Request, record_id: str, state: StateDep) -> HTMLResponse:
    if state.engine is None:
        return _not_ready(request, state)
    try:
        q = question_detail(usecases.question(state.engine, record_id), base_url(request, state.settings))
    except usecases.NotFound:
        detail = "There is no question with that id. Search or browse the bank instead."
        return _page(request, "error.html", {"title": "Question not found", "detail": detail}, 404)
    context = {
        "q": q,
        "answer_html": render_markdown(q.answer_markdown) if q.answer_markdown else "",
        "insight_html": render_markdown(q.insight) if q.insight else "",
    }
    return _page(request, "question.html", context)


def _filter_params(filters: Filters) -> list[tuple[str, str]]:
    fields = (
        ("company", filters.company),
        ("difficulty", filters.difficulty),
        ("tag", filters.tag),
        ("bank", filters.bank),
    )
    return [(name, value) for name, value in fields if value]


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
) -> Response:
    engine = state.engine
    if engine is None:
        return _not_ready(request, state)
    chosen = _echoed({"company": company, "difficulty": difficulty, "tag": tag, "bank": bank})
    filters = Filters(company or None, difficulty or None, tag or None, bank or None)
    links = base_url(request, state.settings)
    # shown back without control characters (a NUL went into the <title> and the search box as is);
    # the search below refuses the query and says why
    shown = _echoed_text(q)
    context: dict[str, Any] = {"query": shown, "chosen": chosen, "facets": facets_public(engine), "error": None}
    resolver = engine.composer.resolver
    named = resolver.list_asked(q) if q.strip() and len(q) <= 200 else None
    # (a company filter set to another company keeps the search: "google" typed with Amazon chosen)
    if named is not None and (not company or canonical_company(company) == named.company):
        listed = resolver.list_asked(q, filters) or named
        # "google", "amazon hard questions": the company's whole list, paged, as its filters give it
        # (the search would rank it and stop at a page), and as the chat answers the same words
        return RedirectResponse("/browse?" + urlencode(_filter_params(listed)), status_code=303)
    if q.strip():
        try:
            _, found = usecases.search(
                engine,
                q,
                state.settings.max_query_chars,
                PAGE_SIZE,
                filters=filters,
                matches_only=True,
                asked=asked_on(request, state, "web"),
            )
            hits = [hit_public(h, links) for h in found.hits]
            unasked = unasked_line(found.unasked) if found.unasked and hits else None
            answerable = found.answerable
            if not hits and not answerable and not filters.is_empty():
                # Refused within the filters ("dropout" among Uber's questions): the bank may still
                # answer it, and the page says so rather than "no question in the bank matches".
                _, wider = usecases.search(engine, q, state.settings.max_query_chars, 1)
                answerable = wider.answerable
            context |= {
                "hits": hits,
                "items": None,
                "total": len(hits),
                "answerable": answerable,
                "unasked": unasked,
            }
        except usecases.Invalid as exc:
            context |= {"hits": [], "items": None, "total": 0, "error": str(exc)}
    else:
        page = usecases.browse(engine, filters, None, PAGE_SIZE, offset)
        if page.total and offset >= page.total:  # past the end ("?offset=500" of 102): the last page
            last = (page.total - 1) // PAGE_SIZE * PAGE_SIZE
            return RedirectResponse("/browse?" + urlencode([*_filter_params(filters), ("offset", last)]), 303)
        items = [summary(r, links) for r in page.items]
        context |= {"hits": None, "items": items, "total": page.total, "offset": offset, "limit": PAGE_SIZE}
    return _page(request, "browse.html", context)


@router.get("/practice", response_class=HTMLResponse)
def practice_page(
    request: Request,
    state: StateDep,
    company: Annotated[str, Query(max_length=100)] = "",
    difficulty: Annotated[str, Query(max_length=20)] = "",
    tag: Annotated[str, Query(max_length=100)] = "",
    bank: Annotated[str, Query(max_length=200)] = "",
    mode: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    """The scope form; ``static/practice.js`` fetches and grades the cards through the practice API
    (``mode=mock``: the candidate types an answer and it is scored before the reveal)."""
    if state.engine is None:
        return _not_ready(request, state)
    chosen = _echoed({"company": company, "difficulty": difficulty, "tag": tag, "bank": bank})
    # the menus count what practice can deal: a topic of quick-reference rows only would lead nowhere
    context = {"chosen": chosen, "facets": facets_public(state.engine, practisable=True), "mock": mode == "mock"}
    return _page(request, "practice.html", context)


@router.get("/code.css")
def code_stylesheet() -> Response:
    return Response(code_css(), media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})


@router.get("/favicon.ico")
def favicon() -> Response:
    return Response((STATIC_DIR / "favicon.svg").read_bytes(), media_type="image/svg+xml")
