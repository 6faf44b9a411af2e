"""The FastAPI application: lifespan, middleware, routers.

Nothing heavy happens at import time: ``create_app()`` builds the app and the
lifespan loads the model and index (building it from content/ if missing) in
a background thread, so /healthz answers at once and /readyz says 503 until
the index is in.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from index.store import IndexLoadError
from qbank import __version__
from qbank.settings import Settings, get_settings
from service.ratelimit import RateLimiter
from service.routes import chat, feedback, health, questions, search
from service.state import ServiceState

log = logging.getLogger(__name__)


class BodyLimitMiddleware:
    """Reject request bodies over ``max_bytes`` with 413, by header or as they stream."""

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
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _BodyTooLarge:
            await too_big(scope, receive, send)


class _BodyTooLarge(Exception):
    pass


def create_app(settings: Settings | None = None, background_load: bool = True) -> FastAPI:
    settings = settings or get_settings()
    state = ServiceState(settings)

    async def load() -> None:
        try:
            await asyncio.to_thread(state.load)
        except (IndexLoadError, FileNotFoundError, ValueError, OSError) as exc:
            state.error = str(exc)
            state.metrics.ready.set(0)
            log.error("index not loaded, the service stays unready: %s", exc)

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
    )
    app.state.qbank = state
    app.state.chat_limiter = RateLimiter(settings.chat_rate_limit)
    for router in (health.router, search.router, questions.router, chat.router, feedback.router):
        app.include_router(router)
    _mount_optional(app, settings)

    @app.middleware("http")
    async def observe(request: Request, call_next):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = request.scope.get("route")
            path = getattr(route, "path", "unmatched")
            state.metrics.requests.labels(request.method, path, str(status)).inc()
            state.metrics.latency.labels(request.method, path).observe(time.perf_counter() - start)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": "internal error; it has been logged"}, status_code=500)

    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"], allow_headers=["*"]
        )
    return app


def _mount_optional(app: FastAPI, settings: Settings) -> None:
    """The web UI and the Slack bot, when their modules are present/configured."""
    try:
        from service.routes import ui
    except ImportError:
        ui = None  # type: ignore[assignment]
    if ui is not None:
        ui.mount(app)
    if settings.slack_enabled:
        from service.slack import mount as mount_slack

        mount_slack(app, settings)


def app_factory() -> FastAPI:
    """uvicorn --factory entry point."""
    return create_app()
