"""The interactive API docs (Swagger UI) from this server's own files.

FastAPI's default ``/docs`` page loads Swagger UI 5 from a CDN; here its
assets come from the ``swagger-ui-py`` package (Swagger UI 5, which reads the
OpenAPI 3.1 document FastAPI writes; the ``swagger-ui-bundle`` package's
Swagger UI 3 could not, and showed only an error), served under
``/docs/assets``, so the docs work offline and load nothing from another
origin.  The package's folder is found without importing it (its module
imports jinja2 and a loader for other frameworks, none of it needed here).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, Response

router = APIRouter(include_in_schema=False)
_SPEC = importlib.util.find_spec("swagger_ui")
if _SPEC is None or not _SPEC.submodule_search_locations:  # an assert would vanish under python -O
    raise ModuleNotFoundError("the /docs page needs swagger-ui-py (a dependency in pyproject.toml): pip install .")
ASSETS = Path(next(iter(_SPEC.submodule_search_locations))) / "static"
SERVED = frozenset(["swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"])


@router.get("/docs", response_class=HTMLResponse)
def docs(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url or "/openapi.json",
        title="qbank API",
        swagger_js_url="/docs/assets/swagger-ui-bundle.js",
        swagger_css_url="/docs/assets/swagger-ui.css",
        swagger_favicon_url="/docs/assets/favicon-32x32.png",
    )


@router.get("/docs/assets/{name}")
def docs_asset(name: str) -> Response:
    if name not in SERVED:
        return Response("not found", status_code=404, media_type="text/plain")
    return FileResponse(ASSETS / name, headers={"Cache-Control": "public, max-age=86400"})
