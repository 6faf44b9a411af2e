"""The attack run of "Hardening round 2", re-run against one real ``qbank serve``
on loopback (Slack mounted, the chat rate-limited, reload enabled), each
attack bounded in size and time.  Every one used to stall the server, answer
500, or change state; each must now be refused cleanly while a normal client
keeps being served.  (The finer cases of each live beside their code:
test_server_limits, test_hostile_input, test_slack, test_proxy,
test_web_security.)"""

from __future__ import annotations

import json
import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from server_support import Server, free_port, qbank_server

from index.engine import IngestReport

pytestmark = pytest.mark.server

SETTINGS = {
    "QBANK_SLACK_BOT_TOKEN": "xoxb-attack-test",
    "QBANK_SLACK_SIGNING_SECRET": "attack-test-signing-secret",
    "QBANK_ADMIN_TOKEN": "s3cret",
    "QBANK_CHAT_RATE_LIMIT": "3",
    "QBANK_HEADER_TIMEOUT_S": "2",
}


@pytest.fixture(scope="module")
def index(built: IngestReport, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the session index that the reload attack may damage."""
    root = tmp_path_factory.mktemp("attack-index")
    shutil.copytree(built.path.resolve(), root / "index")
    return root / "index"


@pytest.fixture(scope="module")
def server(index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = SETTINGS | {"QBANK_SLACK_API_URL": f"http://127.0.0.1:{free_port()}/api/"}
    with qbank_server(index, tmp_path_factory.mktemp("attacks"), env=env) as srv:
        yield srv


def raw(server: Server, request: bytes) -> bytes:
    """What the server answers to ``request``; b"" when it cut the connection
    before the answer could be read (it closes on an oversized head, and a
    client still sending then sees a reset, not the 431)."""
    host, port = server.base_url.removeprefix("http://").split(":")
    chunks: list[bytes] = []
    with socket.create_connection((host, int(port)), timeout=15) as s:
        try:
            s.sendall(request)
            while data := s.recv(65536):
                chunks.append(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
    return b"".join(chunks)


def healthy(server: Server) -> float:
    """Seconds a normal client waits for /healthz (the server is not stalled)."""
    started = time.monotonic()
    assert httpx.get(f"{server.base_url}/healthz", timeout=10).status_code == 200
    return time.monotonic() - started


def test_20000_tiny_headers_to_the_slack_endpoint(server: Server) -> None:
    headers = b"".join(b"x-h%d: v\r\n" % i for i in range(20_000))
    started = time.monotonic()
    reply = raw(server, b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n" + headers + b"\r\n")
    assert reply in (b"",) or reply.startswith(b"HTTP/1.1 431 ")
    assert time.monotonic() - started < 5  # cut off at the size limit, not read to the end
    assert healthy(server) < 1


def test_one_huge_header(server: Server) -> None:
    started = time.monotonic()
    reply = raw(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 2_000_000 + b"\r\n\r\n")
    assert reply in (b"",) or reply.startswith(b"HTTP/1.1 431 ")
    assert time.monotonic() - started < 5
    assert healthy(server) < 1


def test_slowloris(server: Server) -> None:
    host, port = server.base_url.removeprefix("http://").split(":")
    slow = [socket.create_connection((host, int(port)), timeout=10) for _ in range(50)]
    try:
        for s in slow:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        assert healthy(server) < 1  # served meanwhile
        closed = [s.recv(4096).startswith(b"HTTP/1.1 408 ") for s in slow]  # within the 2 s deadline
    finally:
        for s in slow:
            s.close()
    assert all(closed)


def test_forged_x_forwarded_for_does_not_reset_the_chat_limit(server: Server) -> None:
    chat = {"messages": [{"role": "user", "content": "what is dropout"}]}
    statuses = [
        httpx.post(
            f"{server.base_url}/api/chat", json=chat, headers={"X-Forwarded-For": f"10.0.0.{i}"}, timeout=60
        ).status_code
        for i in range(4)
    ]
    assert statuses == [200, 200, 200, 429]


@pytest.mark.parametrize("path", ["/api/search", "/api/chat", "/api/feedback"])
def test_nan_in_a_json_body(server: Server, path: str) -> None:
    body = {"/api/search": '{"q": "x", "k": NaN}', "/api/chat": '{"messages": [], "stream": Infinity}'}
    content = body.get(path, '{"query": "x", "question_id": "x", "helpful": -Infinity}')
    # From another loopback address: the chat limit's budget of 127.0.0.1 is another test's.
    with httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.7")) as client:
        r = client.post(f"{server.base_url}{path}", content=content, headers={"content-type": "application/json"})
    assert r.status_code == 422 and "non-standard JSON number" in r.text


def test_slack_timestamp_abc_and_an_unsigned_60kb_body(server: Server) -> None:
    url = f"{server.base_url}/slack/events"
    bad = httpx.post(url, content="x", headers={"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=00"})
    assert bad.status_code == 401
    body = "payload=" + "Q" * 60_000
    assert httpx.post(url, content=body).status_code == 401
    log = server.log_text()
    assert "Traceback" not in log and "Q" * 300 not in log  # an excerpt at most, and no error


def test_pages_carry_security_headers_and_docs_load_no_cdn(server: Server) -> None:
    page = httpx.get(f"{server.base_url}/")
    assert page.headers["x-content-type-options"] == "nosniff" and "content-security-policy" in page.headers
    assert "cdn." not in httpx.get(f"{server.base_url}/docs").text
    listing = httpx.get(f"{server.base_url}/api/questions", params={"limit": 200}, headers={"Accept-Encoding": "gzip"})
    assert listing.headers.get("content-encoding") == "gzip"


def test_reload_of_a_manifest_with_wrong_types_changes_nothing(server: Server, index: Path) -> None:
    ready = httpx.get(f"{server.base_url}/readyz").json()
    manifest = json.loads((index / "manifest.json").read_text())
    manifest["counts"]["chunks"] = "lots"
    (index / "manifest.json").write_text(json.dumps(manifest))
    r = httpx.post(f"{server.base_url}/admin/reload", headers={"Authorization": "Bearer s3cret"})
    assert r.status_code == 409 and str(index.parent) not in r.text
    assert httpx.get(f"{server.base_url}/readyz").json() == ready
    assert 'qbank_index_reloads_total{outcome="failed"} 1.0' in httpx.get(f"{server.base_url}/metrics").text
