"""Helpers shared by the service tests (not fixtures: each module owns its apps).

- ``service_settings``: hermetic ``Settings`` for a test app (no ``.env``,
  no LLM or Slack unless asked for).
- ``FakeOpenAI``: a small local HTTP server that speaks the OpenAI
  chat-completions streaming format, with the failure modes a real endpoint
  has (HTTP 500, a malformed chunk, an empty stream, a hang).
- ``PracticeSite``: a small local HTTP server standing in for the sites the
  banks' practice links point at: fixture pages, and every way a page can
  fail to be one (404, 500, a hang, a PDF, too large, binary, script only,
  disallowed by robots.txt, a redirect).
- ``parse_sse``: strict Server-Sent Events framing as the chat routes write it.
- ``metric``: one sample from a Prometheus text exposition.

A real ``qbank serve`` and free ports come from ``server_support``.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from qbank.settings import Settings
from service.feedback import FeedbackRecord, FeedbackStore
from service.store import Store

REPO = Path(__file__).resolve().parent.parent
CONTENT = REPO / "content"

ENSEMBLE_ID = "machine-learning--what-is-ensemble-learning-explain-bagging-boosting-and-stacking"
ENSEMBLE_TITLE = "What is Ensemble Learning? Explain Bagging, Boosting, and Stacking"
L1_L2_ID = "machine-learning--explain-l1-lasso-vs-l2-ridge-regularization"

HIT_KEYS = {
    "id",
    "title",
    "bank",
    "kind",
    "score",
    "difficulty",
    "companies",
    "tags",
    "section",
    "snippet",
    "generated",
    "code",
    "practice_url",
    "url",
}
CHAT_KEYS = {"kind", "answer", "abstained", "sources", "suggestions", "rewritten_query", "message_id", "generated_by"}
FALLBACK_NOTE = "_(The generator was unavailable; showing the curated answer instead.)_"

OFF_TOPIC = ("what's the best pizza in naples?", "who won the 2018 world cup?", "how do I bake sourdough bread")


def service_settings(index_dir: Path, tmp: Path, **overrides: Any) -> Settings:
    """Settings for an app over ``index_dir`` with its store (a SQLite file) in ``tmp``."""
    values: dict[str, Any] = {
        "index_dir": index_dir,
        "content_dir": CONTENT,
        "database_url": f"sqlite:///{tmp / 'qbank.sqlite3'}",
        "feedback_path": tmp / "feedback.sqlite3",
        "llm_base_url": None,
        "llm_model": None,
        "slack_bot_token": None,
        "slack_signing_secret": None,
        "admin_token": None,
        "chat_rate_limit": 0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def feedback_rows(settings: Settings) -> list[FeedbackRecord]:
    """Every feedback vote in the store ``settings`` name, read through a store of its own."""
    store = Store(settings.store_url).open()
    try:
        return FeedbackStore(store).all()
    finally:
        store.close()


# -- Server-Sent Events ---------------------------------------------------------


@dataclass(frozen=True)
class SSEvent:
    event: str
    data: Any


def parse_sse(text: str) -> list[SSEvent]:
    """Parse a whole SSE body, failing on any frame that is not exactly
    ``event: NAME\\ndata: JSON\\n\\n``."""
    assert text.endswith("\n\n"), f"stream does not end with a blank line: {text[-80:]!r}"
    events = []
    for frame in text[:-2].split("\n\n"):
        lines = frame.split("\n")
        assert len(lines) == 2, f"frame is not one event line and one data line: {frame!r}"
        event, data = lines
        assert event.startswith("event: ") and data.startswith("data: "), f"bad frame: {frame!r}"
        events.append(SSEvent(event.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    return events


def deltas_text(events: list[SSEvent]) -> str:
    """The answer as a client rebuilds it: the deltas after the last reset."""
    resets = [i for i, e in enumerate(events) if e.event == "reset"]
    start = resets[-1] + 1 if resets else 0
    return "".join(e.data["text"] for e in events[start:] if e.event == "delta")


# -- Prometheus -----------------------------------------------------------------


def metric(text: str, name: str, **labels: str) -> float:
    """The value of the sample ``name`` with exactly ``labels`` (0.0 when absent,
    as a counter that was never incremented reads)."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return 0.0


# -- A fake OpenAI-compatible endpoint ------------------------------------------

FAKE_PIECES = (
    "Bagging trains models ",
    "in parallel on bootstrap samples [1]; ",
    "boosting trains them in sequence [1].",
)


# What a model writes when asked to use markdown: a heading, emphasis, a list,
# a link, code and a quote, for the tests that stream it token by token.
FAKE_MARKDOWN = (
    "### Bagging and boosting\n\n"
    "**Bagging** trains models *in parallel* on bootstrap samples [1]; **boosting** trains them in sequence [1].\n\n"
    "- **Bagging** lowers variance\n"
    f"- **Boosting** lowers bias: see [the full answer](/q/{ENSEMBLE_ID})\n\n"
    "```python\nfrom sklearn.ensemble import BaggingClassifier\nmodel = BaggingClassifier(n_estimators=50)\n```\n\n"
    "> **Insight:** say *why* each one helps.\n"
)
MARKDOWN_MARKS = ("###", "**", "```", "](")  # never to be seen as text on the page


def in_pieces(text: str, size: int = 3) -> tuple[str, ...]:
    """``text`` as a model streams it: a few characters at a time."""
    return tuple(text[i : i + size] for i in range(0, len(text), size))


@dataclass
class FakeOpenAI:
    """``POST /v1/chat/completions`` answered the way the OpenAI API does:
    streamed, or one ``chat.completion`` object when the request says
    ``"stream": false``.

    ``mode``: ``ok`` (the ``pieces`` as content deltas), ``http500``,
    ``malformed`` (one good chunk, then a chunk that is not JSON), ``empty``
    (a well-formed stream without content), ``hang`` (no answer for
    ``hang_s`` seconds).  ``delay_s`` paces the pieces, as a model writes.
    ``reply``, when set, writes a non-streamed ``ok`` answer from the
    request's messages (a model answers what it is asked), instead of the
    pieces.  Every request is recorded in ``requests``.
    """

    mode: str = "ok"
    pieces: tuple[str, ...] = FAKE_PIECES
    hang_s: float = 2.0
    delay_s: float = 0.0
    reply: Callable[[list[dict[str, str]]], str] | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def reset(self, mode: str = "ok") -> None:
        self.mode = mode
        self.requests.clear()

    def __enter__(self) -> FakeOpenAI:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
                pass

            def do_POST(self) -> None:  # noqa: N802 - the base class's name
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                fake.requests.append(
                    {"path": self.path, "headers": dict(self.headers.items()), "json": json.loads(body or b"null")}
                )
                try:
                    if self.path != "/v1/chat/completions":
                        self._json(
                            404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error"}}
                        )
                    elif fake.mode == "http500":
                        self._json(500, {"error": {"message": "The server had an error", "type": "server_error"}})
                    elif fake.mode == "hang":
                        time.sleep(fake.hang_s)
                        self._json(500, {"error": {"message": "too late", "type": "server_error"}})
                    elif (fake.requests[-1]["json"] or {}).get("stream") is False:
                        self._completion(fake.mode)
                    else:
                        self._stream(fake.mode)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (the timeout case)

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _chunk(self, data: bytes) -> None:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

            def _event(self, delta: dict[str, str], finish: str | None = None) -> None:
                chunk = {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion.chunk",
                    "created": 1700000000,
                    "model": "fake-model",
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                }
                self._chunk(f"data: {json.dumps(chunk)}\n\n".encode())

            def _completion(self, mode: str) -> None:
                """A non-streamed ``chat.completion`` object, as the API answers ``"stream": false``."""
                if mode == "malformed":
                    data = b'{"choices": [{"message": {"content": "trunc'
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                messages = (fake.requests[-1]["json"] or {}).get("messages", [])
                content = "" if mode != "ok" else fake.reply(messages) if fake.reply else "".join(fake.pieces)
                self._json(
                    200,
                    {
                        "id": "chatcmpl-fake",
                        "object": "chat.completion",
                        "model": "fake-model",
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": content},
                                "finish_reason": "stop",
                            }
                        ],
                    },
                )

            def _stream(self, mode: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                self._event({"role": "assistant", "content": ""})
                if mode == "ok":
                    for piece in fake.pieces:
                        time.sleep(fake.delay_s)
                        self._event({"content": piece})
                elif mode == "malformed":
                    self._event({"content": fake.pieces[0]})
                    self._chunk(b'data: {"choices": [{"delta": {"content": "trunc\n\n')
                self._event({}, finish="stop")
                self._chunk(b"data: [DONE]\n\n")
                self._chunk(b"")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="fake-openai", daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()


# -- A fake web site behind the practice links ------------------------------------

PRACTICE_PAGES = Path(__file__).resolve().parent / "fixtures" / "practice-site"
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n"


@dataclass
class PracticeSite:
    """Serves ``tests/fixtures/practice-site/*.html`` under ``/articles/`` and,
    for the failure kinds: ``/missing.html`` (404), ``/broken.html`` (500),
    ``/slow.html`` (headers after ``slow_s``), ``/paper.pdf`` (a PDF),
    ``/huge.html`` (a Content-Length of ``huge_bytes``), ``/endless.html``
    (chunked, ``huge_bytes`` without a length), ``/binary.html`` (text/html
    holding NUL bytes), ``/moved`` (302 to the gradient article), and
    ``/private/*`` (disallowed by ``/robots.txt``).  Every request's path is
    recorded in ``requests`` with its User-Agent in ``agents``."""

    slow_s: float = 3.0
    huge_bytes: int = 3_000_000
    requests: list[str] = field(default_factory=list)
    agents: list[str] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def pages(self) -> list[str]:
        """The paths requested, robots.txt aside."""
        return [p for p in self.requests if p != "/robots.txt"]

    def __enter__(self) -> PracticeSite:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
                pass

            def do_GET(self) -> None:  # noqa: N802 - the base class's name
                site.requests.append(self.path)
                site.agents.append(self.headers.get("User-Agent", ""))
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up (a limit)
                    self._answer(self.path.split("?", 1)[0])

            def _send(self, status: int, body: bytes, content_type: str = "text/html; charset=utf-8") -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _answer(self, path: str) -> None:
                if path == "/robots.txt":
                    self._send(200, b"User-agent: *\nDisallow: /private/\n", "text/plain")
                elif path.startswith("/articles/") and (PRACTICE_PAGES / path.removeprefix("/articles/")).is_file():
                    self._send(200, (PRACTICE_PAGES / path.removeprefix("/articles/")).read_bytes())
                elif path == "/private/secret.html":
                    self._send(200, (PRACTICE_PAGES / "gan.html").read_bytes())
                elif path == "/broken.html":
                    self._send(500, b"<h1>Internal Server Error</h1>")
                elif path == "/slow.html":
                    time.sleep(site.slow_s)
                    self._send(200, (PRACTICE_PAGES / "gan.html").read_bytes())
                elif path == "/paper.pdf":
                    self._send(200, PDF, "application/pdf")
                elif path == "/huge.html":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(site.huge_bytes))
                    self.end_headers()
                    self.wfile.write(b"<html><body>" + b"<p>filler text</p>" * 100)
                elif path == "/endless.html":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    piece = b"<p>" + b"endless filler words " * 500 + b"</p>"
                    for _ in range(site.huge_bytes // len(piece) + 1):
                        self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                    self.wfile.write(b"0\r\n\r\n")
                elif path == "/binary.html":
                    self._send(200, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8)
                elif path == "/moved":
                    self.send_response(302)
                    self.send_header("Location", "/articles/gradient.html")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                else:
                    self._send(404, b"<h1>Not Found</h1>")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="practice-site", daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()
