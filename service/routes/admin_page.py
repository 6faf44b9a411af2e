"""The maintainer's insights page, behind a login form.

``GET /admin``: the insights, for a session (``service.admin``), else the
login form with 401.  ``POST /admin/login`` checks the token and sets the
session cookie; ``POST /admin/logout`` ends it.  Server-rendered like the
other pages (the chart is inline SVG laid out by ``service.chart``), so it
runs no script of its own and works without JavaScript.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service import admin
from service.chart import day_chart
from service.deps import StateDep
from service.feedback import REASONS
from service.routes.ui import CSP, templates

router = APIRouter(include_in_schema=False)
PERIODS = (7, 30, 90, 366)


def _page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Cache-Control"] = "no-store"
    return response


def _off(request: Request) -> HTMLResponse:
    detail = "Insights are off on this server: set QBANK_ADMIN_TOKEN to turn them on."
    return _page(request, "error.html", {"title": "Not found", "detail": detail}, 404)


def _login(request: Request, error: str | None = None) -> HTMLResponse:
    return _page(request, "admin_login.html", {"error": error}, 401)


@router.get("/admin", response_class=HTMLResponse)
def insights_page(request: Request, state: StateDep, days: Annotated[int, Query(ge=1, le=366)] = 30) -> HTMLResponse:
    if admin.admin_token(state) is None:
        return _off(request)
    if not admin.is_admin(request, state):
        return _login(request)
    engine = state.engine
    if engine is None:
        detail = "The question bank is still loading." if state.error is None else "The index could not be loaded."
        return _page(request, "error.html", {"title": "Not ready yet", "detail": detail, "refresh": True}, 503)
    found = state.insights.run(days, engine.searcher.records, engine.searcher.abstention.config.dense_floor)
    context = {
        "found": found,
        "chart": day_chart(found.per_day),
        "days": days,
        "periods": sorted({*PERIODS, days}),
        "query_log": state.settings.query_log,
        "retention_days": state.settings.query_log_days,
        "reasons": REASONS,
    }
    return _page(request, "admin.html", context)


async def _form_token(request: Request) -> str:
    """The ``token`` field of a urlencoded form (the body is already capped by the body limit)."""
    body = (await request.body()).decode("utf-8", errors="replace")
    fields = parse_qs(body, keep_blank_values=True, max_num_fields=10)
    return (fields.get("token") or [""])[0].strip()


@router.post("/admin/login", response_class=HTMLResponse)
async def login(request: Request, state: StateDep) -> Response:
    token = admin.admin_token(state)
    if token is None:
        return _off(request)
    try:
        sent = await _form_token(request)
    except ValueError:
        sent = ""
    if not sent:
        return _login(request, "Enter the admin token.")
    if not admin.token_matches(sent, token):
        return _login(request, "That is not the admin token.")
    response = RedirectResponse("/admin", status_code=303)
    admin.start_session(response, request, state, token)
    return response


@router.post("/admin/logout")
def logout(state: StateDep) -> Response:
    response = RedirectResponse("/admin", status_code=303)
    admin.end_session(response)
    return response
