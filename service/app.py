"""The FastAPI application: lifespan, middleware, routers.

Nothing heavy happens at import time: ``create_app()`` builds the app and the
lifespan loads the model and index (building it from content/ if missing) in
a background thread, so /healthz answers at once and /readyz says 503 until
the index is in.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from index.embed import Embedder
from index.store import IndexLoadError
from qbank import __version__
from qbank.settings import Settings, get_settings
from service import preload
from service.headers import GZipUnlessRefused, SecurityHeadersMiddleware
from service.metrics import Metrics
from service.ratelimit import RateLimiter
from service.routes import admin, chat, docs, feedback, health, practice, questions, search
from service.schemas import ErrorResponse
from service.state import ServiceState
from service.store import StoreError

log = logging.getLogger(__name__)


class BodyLimitMiddleware:
    """Reject request bodies over ``max_bytes`` with 413, by header or as they stream.

    The body (at most ``max_bytes``) is read before the app runs and replayed
    to it, so a streamed body that overruns is answered here, not as an error
    raised inside the app's body parsing (which FastAPI turns into a bare 400).
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        too_big = JSONResponse(
            {"detail": f"request body is over the {limit}-byte limit; send a shorter request"}, status_code=413
        )
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await too_big(scope, receive, send)
            return
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before sending the whole body
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > limit:
                await too_big(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay_receive() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay_receive, send)


class ObserveMiddleware:
    """Count requests and time them per route template and status.

    Plain ASGI rather than ``@app.middleware("http")``, whose per-request task
    and stream plumbing cost more than the search itself on a cached query.
    The time runs to the end of the response body (a whole SSE stream)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            path = getattr(scope.get("route"), "path", "unmatched")
            method = scope["method"]
            self.metrics.requests.labels(method, path, str(status)).inc()
            self.metrics.latency.labels(method, path).observe(time.perf_counter() - start)


class _AsciiJSONResponse(JSONResponse):
    """JSON with non-ASCII escaped: a validation error echoes the input, which may
    hold an unpaired surrogate (a legal JSON escape) that UTF-8 cannot encode."""

    def render(self, content: object) -> bytes:
        return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")


def _has_non_finite(value: object) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_has_non_finite(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_non_finite(v) for v in value)
    return False


ECHO_LIMIT = 200  # characters of a refused value a 422 repeats back


def _short_input(value: object) -> object:
    """A refused value as a 422 repeats it: whole when short, else its start and its size
    (a 30,000-character message or a 500-item list is not sent back to its sender)."""
    if isinstance(value, str):
        return value if len(value) <= ECHO_LIMIT else f"{value[:ECHO_LIMIT]}... ({len(value):,} characters)"
    text = json.dumps(value, ensure_ascii=False, default=str)
    if len(text) <= ECHO_LIMIT:
        return value
    size = f"{len(value):,} items, " if isinstance(value, list | tuple | dict) else ""
    return f"{text[:ECHO_LIMIT]}... ({size}{len(text):,} characters as JSON)"


def create_app(
    settings: Settings | None = None, background_load: bool = True, embedder: Embedder | None = None
) -> FastAPI:
    """The app over ``settings``.  ``embedder`` is the seam for the encoder: by
    default the model that ``settings.model`` names, loaded in the lifespan;
    tests pass one already loaded (or a deterministic fake) to share it."""
    settings = settings or get_settings()
    state = ServiceState(settings, embedder)

    async def load() -> None:
        try:
            await asyncio.to_thread(state.load)
        except (IndexLoadError, StoreError, FileNotFoundError, ValueError, OSError) as exc:
            state.error = str(exc)
            state.metrics.ready.set(0)
            log.error("not loaded (index or store), the service stays unready: %s", exc)
        except Exception as exc:  # noqa: BLE001 - anything else must reach /readyz too, never "loading" forever
            state.error = f"{type(exc).__name__}: {exc}"
            state.metrics.ready.set(0)
            log.exception("not loaded (unexpected error), the service stays unready")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(load()) if background_load else None
        if task is None:
            await load()
        app.state.load_task = task
        try:
            yield
        finally:
            if task is not None and not task.done():
                task.cancel()
            state.close()

    app = FastAPI(
        title="qbank",
        version=__version__,
        description="Search and chat over curated interview question banks.",
        lifespan=lifespan,
        docs_url=None,  # served by service.routes.docs with local assets, not from a CDN
        redoc_url=None,
    )
    app.state.qbank = state
    app.state.chat_limiter = RateLimiter(settings.chat_rate_limit)
    routers = (health, search, questions, chat, feedback, practice, admin, docs)
    for router in (r.router for r in routers):
        app.include_router(router)
    _mount_optional(app, settings)
    _document_plain_422(app)

    app.add_middleware(ObserveMiddleware, metrics=state.metrics)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = jsonable_encoder(exc.errors())
        if _wants_page(request):  # "/browse?offset=-5" in a browser: a page, not JSON
            from service.routes.ui import bad_address

            return bad_address(request, errors)
        if _has_non_finite(errors):
            # Python's JSON parser accepts NaN and Infinity; JSON does not, and they cannot be echoed back.
            detail = "the request has a non-standard JSON number (NaN or Infinity); send a finite number"
            return _AsciiJSONResponse({"detail": detail}, status_code=422)
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if not content_type.endswith("json") and any(
            isinstance(e, dict) and e.get("loc") == ["body"] and e.get("type") == "model_attributes_type"
            for e in errors
        ):
            # A body that is not JSON (no content-type, a form, text): say what to send, not "Input should be a
            # valid dictionary or object to extract fields from".
            sent = content_type or "no content-type"
            detail = f"send the body as a JSON object with the header content-type: application/json (got {sent})"
            return _AsciiJSONResponse({"detail": detail}, status_code=422)
        for error in errors:
            if isinstance(error, dict) and "input" in error:
                error["input"] = _short_input(error["input"])
        return _AsciiJSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400 and exc.detail == UNPARSED_BODY:
            # FastAPI's words for a body json could not read at all; say why, as the 422s do
            cause = exc.__cause__
            if isinstance(cause, UnicodeDecodeError):
                detail = "the body is not UTF-8: send the JSON encoded as UTF-8"
            elif isinstance(cause, RecursionError):
                detail = "the JSON is nested too deeply to read: send a flat JSON object"
            else:
                detail = "the body could not be read as JSON: send a JSON object encoded as UTF-8"
            return _AsciiJSONResponse({"detail": detail}, status_code=400)
        return await http_exception_handler(request, exc)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": "internal error; it has been logged"}, status_code=500)

    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    # Compressed when the client accepts it (Server-Sent Events are left alone, so they still stream).
    app.add_middleware(GZipUnlessRefused, minimum_size=1024)
    app.add_middleware(SecurityHeadersMiddleware)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"], allow_headers=["*"]
        )
    return app


def _document_plain_422(app: FastAPI) -> None:
    """Besides FastAPI's list of field errors, routes answer 422 with a plain
    ``{"detail": message}`` (an empty or over-long query, say): the OpenAPI
    schema says so, so that clients and schema checks expect both."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            for operation in (op for path in build().get("paths", {}).values() for op in path.values()):
                body = operation.get("responses", {}).get("422", {}).get("content", {}).get("application/json", {})
                if "schema" in body:
                    body["schema"] = {"anyOf": [body["schema"], ErrorResponse.model_json_schema()]}
        return app.openapi_schema or build()

    app.openapi = openapi  # type: ignore[method-assign]


def _mount_optional(app: FastAPI, settings: Settings) -> None:
    """The web UI (with the Progress and admin pages) and the Slack bot, when their modules are present/configured."""
    try:
        from service.routes import ui
    except ImportError:
        ui = None  # type: ignore[assignment]
    if ui is not None:
        from service.routes import admin_page, progress_page

        ui.mount(app)
        app.include_router(progress_page.router)
        app.include_router(admin_page.router)
    if settings.slack_enabled:
        from service.slack import mount as mount_slack

        mount_slack(app, settings)


def app_factory() -> FastAPI:
    """uvicorn --factory entry point.

    With ``--workers N`` each worker is a fresh process that does not inherit
    the CLI's logging setup, so set it up here (a no-op where it already is):
    otherwise a worker's index-build progress and load errors are never logged.
    """
    settings = get_settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return create_app(settings, embedder=preload.claim())  # qbank serve's head start, if it made one


def _wants_page(request: Request) -> bool:
    """A browser asking for one of the pages (not the API, Slack or the admin's data)."""
    path = request.url.path
    api = path.startswith(("/api/", "/slack/", "/admin/")) or path in ("/healthz", "/readyz", "/metrics")
    return request.method == "GET" and not api and "text/html" in request.headers.get("accept", "")


UNPARSED_BODY = "There was an error parsing the body"  # FastAPI's detail for a body json cannot read
