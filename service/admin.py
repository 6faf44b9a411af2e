"""Who may see the maintainer's insights: whoever holds ``QBANK_ADMIN_TOKEN``.

An API client sends it as ``Authorization: Bearer <token>``.  Unset, every
admin route answers 404 (the feature is off), never 200.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from service.deps import StateDep

DISABLED = "the admin routes are disabled: set QBANK_ADMIN_TOKEN to enable them"
UNAUTHORIZED = "send the admin token as `Authorization: Bearer <QBANK_ADMIN_TOKEN>`"


def bearer_matches(request: Request, token: str) -> bool:
    sent = request.headers.get("authorization", "")
    return hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())


def require_admin(request: Request, state: StateDep) -> None:
    """404 while no admin token is set; 401 without it."""
    token = state.settings.admin_token
    if token is None:
        raise HTTPException(status_code=404, detail=DISABLED)
    if not bearer_matches(request, token.get_secret_value()):
        raise HTTPException(status_code=401, detail=UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"})


AdminDep = Annotated[None, Depends(require_admin)]
