"""Who may see the maintainer's insights: whoever holds ``QBANK_ADMIN_TOKEN``.

An API client sends it as ``Authorization: Bearer <token>``.  A browser logs
in once at ``/admin`` with it and gets a session cookie instead: HttpOnly,
SameSite=Strict, 12 hours, ``<expiry>.<signature>``, the signature an
HMAC-SHA256 of the expiry under a key made from the server's secret (the one
that signs learner ids) and the admin token, so changing either ends every
session.  Unset, every admin route answers 404 (the feature is off).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response

from service.deps import StateDep
from service.state import ServiceState

COOKIE = "qbank_admin"
SESSION_S = 12 * 3600
DISABLED = "the admin routes are disabled: set QBANK_ADMIN_TOKEN to enable them"
UNAUTHORIZED = "send the admin token as `Authorization: Bearer <QBANK_ADMIN_TOKEN>`, or log in at /admin"


def _key(state: ServiceState, token: str) -> bytes | None:
    secret = state.learner_key  # set once the store is open
    if secret is None:
        return None
    return hmac.new(secret, b"qbank-admin-session:" + token.encode(), hashlib.sha256).digest()


def _signature(key: bytes, expires: int) -> str:
    digest = hmac.new(key, f"admin:{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def token_matches(sent: str, token: str) -> bool:
    return hmac.compare_digest(sent.encode(), token.encode())


def bearer_matches(request: Request, token: str) -> bool:
    return token_matches(request.headers.get("authorization", ""), f"Bearer {token}")


def session_valid(request: Request, state: ServiceState, token: str, now: float | None = None) -> bool:
    """Whether the request carries an unexpired session cookie this server signed for this token."""
    value = request.cookies.get(COOKIE, "")
    expires, _, signature = value.partition(".")
    key = _key(state, token)
    # ASCII digits that int() takes, and an ASCII signature: "¹²" and 4,400 digits were 500s
    if key is None or not (expires.isascii() and expires.isdigit()) or len(expires) > 12 or not signature.isascii():
        return False
    if int(expires) <= (now or time.time()):
        return False
    return hmac.compare_digest(signature, _signature(key, int(expires)))


def start_session(response: Response, request: Request, state: ServiceState, token: str) -> None:
    key = _key(state, token)
    if key is None:
        raise HTTPException(status_code=503, detail="the store is still opening; retry shortly")
    expires = int(time.time()) + SESSION_S
    response.set_cookie(
        COOKIE,
        f"{expires}.{_signature(key, expires)}",
        max_age=SESSION_S,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def end_session(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")


def admin_token(state: ServiceState) -> str | None:
    token = state.settings.admin_token
    return token.get_secret_value() if token is not None else None


def is_admin(request: Request, state: ServiceState) -> bool:
    token = admin_token(state)
    return token is not None and (bearer_matches(request, token) or session_valid(request, state, token))


async def require_admin(request: Request, state: StateDep) -> None:
    """404 while no admin token is set; 401 without the token or a session."""
    if admin_token(state) is None:
        raise HTTPException(status_code=404, detail=DISABLED)
    if not is_admin(request, state):
        raise HTTPException(status_code=401, detail=UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"})


AdminDep = Annotated[None, Depends(require_admin)]
