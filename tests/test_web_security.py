"""Every response's security headers, the API docs without a CDN, compression,
cache headers on content-hashed assets, and error bodies without filesystem
paths.  The app through its lifespan over the shipped bank indexed with
``HashEmbedder`` (what is checked does not depend on meaning)."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes import HashEmbedder
from fastapi.testclient import TestClient
from service_support import service_settings

from index.engine import IngestReport
from service.app import create_app
from service.headers import public_message

SECURITY = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "strict-origin-when-cross-origin",
}


@pytest.fixture(scope="module")
def client(
    fake_embedder: HashEmbedder, fake_built: IngestReport, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    settings = service_settings(fake_built.path, tmp_path_factory.mktemp("web-security"))
    with TestClient(create_app(settings, background_load=False, embedder=fake_embedder)) as c:
        yield c


@pytest.mark.parametrize("path", ["/", "/healthz", "/api/search?q=dropout", "/docs", "/q/nope", "/static/app.css"])
def test_every_response_carries_the_security_headers(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert {k: r.headers.get(k) for k in SECURITY} == SECURITY


def test_pages_carry_a_content_security_policy_without_inline_script_or_other_origins(client: TestClient) -> None:
    csp = client.get("/").headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp


def test_the_api_docs_load_nothing_from_another_origin(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    urls = re.findall(r"""(?:src|href|url)\s*[:=]\s*["']([^"']+)["']""", page.text)
    assert urls and all(u.startswith("/") for u in urls), urls
    for asset in ("/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css"):
        assert client.get(asset).status_code == 200
    assert client.get("/docs/assets/../../etc/passwd").status_code == 404
    assert client.get("/docs/assets/index.html").status_code == 404  # only the files the page needs


def test_json_and_pages_are_compressed_but_streams_are_not(client: TestClient) -> None:
    r = client.get("/api/questions", params={"limit": 200}, headers={"Accept-Encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip" and r.json()["total"] > 0
    raw = client.get("/api/questions", params={"limit": 200}, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in raw.headers
    stream = client.post(
        "/api/chat/stream",
        json={"messages": [{"role": "user", "content": "dropout"}]},
        headers={"Accept-Encoding": "gzip"},
    )
    assert "content-encoding" not in stream.headers and stream.text.startswith("event: sources")
    assert len(gzip.compress(raw.content)) < len(raw.content)


def test_assets_are_linked_by_content_hash_and_cached_for_a_year(client: TestClient) -> None:
    page = client.get("/").text
    links = re.findall(r'/static/(app\.css|chat\.js|ui\.js|favicon\.svg)\?v=([0-9a-f]{12})"', page)
    assert {name for name, _ in links} >= {"app.css", "chat.js", "ui.js"}
    for name, version in links:
        r = client.get(f"/static/{name}", params={"v": version})
        assert r.status_code == 200
        assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert client.get("/static/app.css").headers["cache-control"] == "no-cache"


def test_errors_sent_to_clients_carry_no_filesystem_paths(fake_embedder: HashEmbedder, tmp_path: Path) -> None:
    missing = tmp_path / "deep" / "secret-dir" / "index"
    (missing / "manifest.json").parent.mkdir(parents=True)
    (missing / "manifest.json").write_text("{not json")
    settings = service_settings(missing, tmp_path)
    with TestClient(create_app(settings, background_load=False, embedder=fake_embedder)) as c:
        for path in ("/readyz", "/api/search?q=dropout"):
            body = c.get(path)
            assert body.status_code == 503
            assert str(tmp_path) not in body.text and "secret-dir" not in body.text, body.text
        page = c.get("/browse")
        assert page.status_code == 503 and str(tmp_path) not in page.text


def test_public_message_keeps_the_last_part_of_a_path() -> None:
    assert public_message("no index at /srv/app/.qbank/index: rebuild") == "no index at …/index: rebuild"
    assert public_message("see https://example.com/a/b") == "see https://example.com/a/b"
