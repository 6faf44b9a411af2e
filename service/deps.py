"""Dependencies the routes declare: the state, the ready engine, settings, the chat rate limit."""

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


StateDep = Annotated[ServiceState, Depends(get_state)]
EngineDep = Annotated[Engine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
ChatRateLimit = Annotated[None, Depends(limit_chat)]
