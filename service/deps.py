"""Dependencies the routes declare: the state, the ready engine, settings, the
base URL of links, the chat rate limit, the learner, and where a query was
asked (for the query log).

Every one is an ``async def`` although none awaits anything: FastAPI runs a
plain ``def`` dependency on a worker thread, one hop there and back per
dependency per request, which cost a cached search more CPU than the search
(BENCHMARKS.md).  None of them may block: no file, database or network."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response

from qbank.settings import Settings
from service import learner
from service.headers import public_message
from service.querylog import Asked, Surface
from service.ratelimit import limit_chat
from service.state import Engine, ServiceState

log = logging.getLogger(__name__)


async def get_state(request: Request) -> ServiceState:
    state: ServiceState = request.app.state.qbank
    return state


async def get_engine(state: Annotated[ServiceState, Depends(get_state)]) -> Engine:
    engine = state.engine
    if engine is None:
        detail = (
            f"index not ready: {public_message(state.error)}"
            if state.error
            else "index is still loading; retry shortly"
        )
        raise HTTPException(status_code=503, detail=detail)
    return engine


async def get_settings_dep(state: Annotated[ServiceState, Depends(get_state)]) -> Settings:
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


async def get_base_url(request: Request, state: Annotated[ServiceState, Depends(get_state)]) -> str:
    return base_url(request, state.settings)


StateDep = Annotated[ServiceState, Depends(get_state)]
EngineDep = Annotated[Engine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
BaseUrlDep = Annotated[str, Depends(get_base_url)]


async def chat_rate_limit(request: Request) -> None:
    """``limit_chat`` as a dependency (the pages call it directly)."""
    limit_chat(request)


ChatRateLimit = Annotated[None, Depends(chat_rate_limit)]


@dataclass(frozen=True, slots=True)
class Learner:
    id: str
    token: str


async def get_learner(request: Request, response: Response, engine: EngineDep, state: StateDep) -> Learner:
    """The learner a request is from: the ``X-Learner`` header (an API client),
    else the ``qbank_learner`` cookie (the page), else a new learner, whose
    token goes back as that cookie.  A header this server did not sign is a
    400; a cookie it did not sign (its key changed) is replaced by a new one."""
    key = state.learner_key
    assert key is not None  # set when the store opened, before the engine exists
    header = request.headers.get(learner.HEADER)
    if header is not None:
        return Learner(_signed_header(header, key), header.strip())
    cookie = request.cookies.get(learner.COOKIE)
    learner_id = learner.verify(cookie, key) if cookie else None
    if learner_id is not None and cookie is not None:
        return Learner(learner_id, cookie)
    if cookie:
        log.info("a learner cookie this server did not sign was replaced by a new learner")
    learner_id, token = learner.new_learner(key)
    response.set_cookie(
        learner.COOKIE,
        token,
        max_age=learner.COOKIE_MAX_AGE_S,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return Learner(learner_id, token)


LearnerDep = Annotated[Learner, Depends(get_learner)]


# The chat page sends this with its requests, so that the log counts them as the web's, not the API's.
SURFACE_HEADER = "X-Qbank-Surface"


def _signed_header(header: str, key: bytes) -> str:
    """The learner an ``X-Learner`` header names; a 400 when this server did not sign it."""
    learner_id = learner.verify(header.strip(), key)
    if learner_id is None:
        raise HTTPException(
            status_code=400,
            detail=f"{learner.HEADER} is not a learner token this server gave out; send the `learner` value "
            "of an earlier practice response, or no header to start as a new learner",
        )
    return learner_id


def voting_learner(request: Request, state: ServiceState) -> str | None:
    """The learner an API vote is from: ``known_learner``, except that an ``X-Learner``
    header this server did not sign is a 400, as in practice (the vote would otherwise be
    kept as no learner's, without a word)."""
    header = request.headers.get(learner.HEADER)
    if header is not None and state.learner_key is not None:
        return _signed_header(header, state.learner_key)
    return known_learner(request, state)


def known_learner(request: Request, state: ServiceState) -> str | None:
    """The learner a request names with a token this server signed (the
    ``X-Learner`` header, else the ``qbank_learner`` cookie); None otherwise.
    Never makes a learner: asking a question does not need one."""
    key = state.learner_key
    token = request.headers.get(learner.HEADER) or request.cookies.get(learner.COOKIE)
    if key is None or not token:
        return None
    return learner.verify(token.strip(), key)


def asked_on(request: Request, state: ServiceState, surface: Surface) -> Asked:
    return Asked(state.query_log, surface, known_learner(request, state))


async def get_asked(request: Request, state: StateDep) -> Asked:
    """An API request, or the chat page's own (it says so in ``X-Qbank-Surface: web``)."""
    web = request.headers.get(SURFACE_HEADER, "").strip().lower() == "web"
    return asked_on(request, state, "web" if web else "api")


AskedDep = Annotated[Asked, Depends(get_asked)]
