"""The Progress page: the browser's learner's cards due, streak and totals,
their accuracy by topic and by difficulty (bars drawn as inline SVG laid out
by ``service.chart``, each beside its numbers) and their weakest topics, each
a link to the Practice page scoped to it.

Server-rendered from the API's own model (``GET /api/progress``), so it runs
no script of its own and works without JavaScript.  The learner is the
``qbank_learner`` cookie the Practice page set; a browser without one (or
with one this server did not sign) sees the empty state, and no cookie is
made here: a learner begins with a first grade.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from service import learner, practice
from service.chart import share_bars
from service.deps import StateDep, base_url
from service.headers import public_message
from service.routes.practice import progress_public
from service.routes.ui import CSP, templates

router = APIRouter(include_in_schema=False)
TOPICS_SHOWN = 8  # the most practised topics charted; the others in a table under them


def _page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Cache-Control"] = "no-store"  # one learner's: no shared cache may keep it
    response.headers["Vary"] = "Cookie"
    return response


@router.get("/progress", response_class=HTMLResponse)
def progress_page(request: Request, state: StateDep) -> HTMLResponse:
    engine = state.engine
    if engine is None:
        error = public_message(state.error) if state.error else None
        detail = f"The index could not be loaded: {error}" if error else "The question bank is still loading."
        return _page(request, "error.html", {"title": "Not ready yet", "detail": detail, "refresh": True}, 503)
    token = request.cookies.get(learner.COOKIE, "")
    key = state.learner_key
    learner_id = learner.verify(token, key) if token and key is not None else None
    if learner_id is None:
        return _page(request, "progress.html", {"p": None})
    now = datetime.now(UTC)
    found = practice.progress(engine, state.practice, learner_id, now, state.settings.practice_new_per_day)
    shown = progress_public(found, token, base_url(request, state.settings))
    context = {
        "p": shown if shown.reviews else None,
        "next_due_in": practice.in_words(shown.next_due - now) if shown.next_due else None,
        "difficulty_bars": share_bars(shown.accuracy_by_difficulty),
        "topic_bars": share_bars(shown.accuracy_by_tag),
        "topics_shown": TOPICS_SHOWN,
    }
    return _page(request, "progress.html", context)
