"""Dependencies the routes declare: the state, the ready engine, settings, the
base URL of links, the chat rate limit."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from qbank.settings import Settings
from service.headers import public_message
from service.ratelimit import limit_chat
from service.state import Engine, ServiceState


def get_state(request: Request) -> ServiceState:
    state: ServiceState = request.app.state.qbank
    return state


def get_engine(state: Annotated[ServiceState, Depends(get_state)]) -> Engine:
    engine = state.engine
    if engine is None:
        detail = (
            f"index not ready: {public_message(state.error)}"
            if state.error
            else "index is still loading; retry shortly"
        )
        raise HTTPException(status_code=503, detail=detail)
    return engine


def get_settings_dep(state: Annotated[ServiceState, Depends(get_state)]) -> Settings:
    return state.settings


def base_url(request: Request, settings: Settings) -> str:
    """Where links to the web UI point, without a trailing slash: ``QBANK_PUBLIC_URL``
    when it is set, else the scheme, host and root path ``request`` came in on,
    as uvicorn reports them (``X-Forwarded-Proto`` applied only from a proxy it
    trusts).  The one place a surface learns its own address: a route passes
    it on, nothing reads it from the environment."""
    if settings.public_url_set:
        return settings.public_url.rstrip("/")
    return str(request.base_url).rstrip("/")


def get_base_url(request: Request, state: Annotated[ServiceState, Depends(get_state)]) -> str:
    return base_url(request, state.settings)


StateDep = Annotated[ServiceState, Depends(get_state)]
EngineDep = Annotated[Engine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
BaseUrlDep = Annotated[str, Depends(get_base_url)]
ChatRateLimit = Annotated[None, Depends(limit_chat)]
