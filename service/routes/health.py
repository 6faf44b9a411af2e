"""Liveness, readiness, Prometheus metrics, and the token-protected reload."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from index.store import IndexLoadError
from service.deps import StateDep
from service.headers import public_message

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Process is alive")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Index loaded (503 until then)", responses={503: {"description": "Not ready"}})
def readyz(state: StateDep) -> JSONResponse:
    if state.engine is None:
        detail = public_message(state.error) if state.error else "index is loading"
        body = {"status": "error" if state.error else "loading", "detail": detail}
        return JSONResponse(body, status_code=503)
    return JSONResponse({"status": "ready", "counts": state.engine.artifact.manifest.counts})


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(state: StateDep) -> Response:
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)


@router.post("/admin/reload", summary="Swap in the index now on disk (Bearer QBANK_ADMIN_TOKEN)")
async def reload(state: StateDep, authorization: Annotated[str | None, Header()] = None) -> dict[str, object]:
    token = state.settings.admin_token
    if token is None:
        raise HTTPException(status_code=404, detail="reload is disabled: set QBANK_ADMIN_TOKEN to enable it")
    expected = f"Bearer {token.get_secret_value()}"
    if authorization is None or not hmac.compare_digest(authorization.encode(), expected.encode()):
        raise HTTPException(status_code=401, detail="missing or wrong bearer token")
    try:
        return await state.reload()
    except IndexLoadError as exc:
        detail = f"reload refused, still serving the previous index: {public_message(str(exc))}"
        raise HTTPException(status_code=409, detail=detail) from exc
