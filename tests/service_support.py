"""Helpers shared by the service tests (not fixtures: each module owns its apps).

- ``service_settings``: hermetic ``Settings`` for a test app (no ``.env``,
  no LLM or Slack unless asked for).
- ``FakeOpenAI``: a small local HTTP server that speaks the OpenAI
  chat-completions streaming format, with the failure modes a real endpoint
  has (HTTP 500, a malformed chunk, an empty stream, a hang).
- ``parse_sse``: strict Server-Sent Events framing as the chat routes write it.
- ``metric``: one sample from a Prometheus text exposition.

A real ``qbank serve`` and free ports come from ``server_support``.
"""

from __future__ import annotations

import json
import threading
import time
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
    Every request is recorded in ``requests``.
    """

    mode: str = "ok"
    pieces: tuple[str, ...] = FAKE_PIECES
    hang_s: float = 2.0
    delay_s: float = 0.0
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
                content = "".join(fake.pieces) if mode == "ok" else ""
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
