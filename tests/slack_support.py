"""Helpers shared by the Slack tests (not fixtures: each module owns its apps).

Slack's servers cannot be reached from here, so ``FakeSlack`` plays them on
loopback: the Web API methods the bot calls (``auth.test``,
``chat.postMessage``, ``chat.postEphemeral``, ``conversations.replies``,
``conversations.open``, ``views.publish``, ``views.open``,
``apps.connections.open``), answered the way Slack answers them (bearer token
checked, Block Kit limits enforced with ``invalid_blocks``, a modal's with
``invalid_arguments``, a trigger id good for one ``views.open``, threads kept
so ``conversations.replies`` returns what was posted, ``not_in_channel`` where
the bot is not a member),
the ``response_url`` endpoint, and the Socket Mode WebSocket handshake.  A test
queues the failures real Slack gives (``fake.fail``): HTTP 429 with
``Retry-After``, ``{"ok": false, "error": ...}``, a dropped connection.  The bot's
``WebClient`` is pointed at it with ``QBANK_SLACK_API_URL``.  Requests are
signed with slack-sdk's ``SignatureVerifier`` and the test signing secret
(``sign``; ``command_body``, ``event_body`` and ``action_body`` build what
Slack sends).

Lazy answers are awaited by polling the fake with a deadline; "nothing was
posted" is asserted after the bot's job pool is idle (``settle``: every lazy
job a request starts is submitted before its HTTP response returns).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient
from service_support import service_settings
from slack_sdk.signature import SignatureVerifier

from index.engine import IngestReport
from qbank.settings import Settings
from service.slack import SlackBot

SECRET = "test-secret"
TOKEN = "xoxb-test"
APP_TOKEN = "xapp-1-test"
PUBLIC_URL = "https://qbank.example.com"
BOT_USER, BOT_ID, TEAM = "UQBANK0001", "BQBANK0001", "T0000TEST"
DROPOUT_TITLE = "What is Dropout and Why Does It Work?"
DROPOUT_ID = "machine-learning--what-is-dropout-and-why-does-it-work"
ABSTAIN_START = "I couldn't find that in the question banks"

# Slack's Block Kit limits (https://docs.slack.dev/reference/block-kit/blocks).
LIMITS = {"blocks": 50, "section": 3000, "header": 150, "context": 3000, "button_text": 75, "value": 2000, "url": 3000}
_SLACK_ANGLE = re.compile(r"<(?:https?://|mailto:|@|#|!)[^<>]*>")


def block_problems(blocks: list[dict[str, Any]]) -> list[str]:
    """Where ``blocks`` break Slack's limits or its escaping rules (empty if none)."""
    problems = []
    if not blocks or len(blocks) > LIMITS["blocks"]:
        problems.append(f"{len(blocks)} blocks")
    texts: list[tuple[str, int]] = []
    for b in blocks:
        if b["type"] == "section":
            texts.append((b["text"]["text"], LIMITS["section"]))
        elif b["type"] == "header":
            texts.append((b["text"]["text"], LIMITS["header"]))
            if b["text"]["type"] != "plain_text":
                problems.append("header text must be plain_text")
        elif b["type"] == "context":
            if not 1 <= len(b["elements"]) <= 10:
                problems.append("context elements")
            texts.extend((e["text"], LIMITS["context"]) for e in b["elements"])
        elif b["type"] == "actions":
            for e in b["elements"]:
                texts.append((e["text"]["text"], LIMITS["button_text"]))
                if len(e.get("value", "")) > LIMITS["value"] or len(e.get("url", "")) > LIMITS["url"]:
                    problems.append(f"button {e['action_id']} value/url too long")
        else:
            problems.append(f"unexpected block type {b['type']}")
    for text, limit in texts:
        if not text.strip() or len(text) > limit:
            problems.append(f"text of {len(text)} characters (limit {limit}): {text[:60]!r}")
    return problems


def _plain(text: Any, limit: int) -> bool:
    return isinstance(text, dict) and text.get("type") == "plain_text" and 0 < len(text.get("text", "")) <= limit


def modal_problems(view: dict[str, Any]) -> list[str]:
    """Where a modal breaks Slack's limits (https://docs.slack.dev/reference/views/modal-views); empty if none."""
    problems = []
    if view.get("type") != "modal" or not _plain(view.get("title"), 24):
        problems.append("a modal needs type modal and a plain_text title of at most 24 characters")
    for key in ("submit", "close"):
        if key in view and not _plain(view[key], 24):
            problems.append(f"{key}: plain_text of at most 24 characters")
    if len(view.get("callback_id", "")) > 255 or len(view.get("private_metadata", "")) > 3000:
        problems.append("callback_id over 255 or private_metadata over 3000 characters")
    blocks = view.get("blocks") or []
    if not 1 <= len(blocks) <= 100 or len({b.get("block_id") for b in blocks}) != len(blocks):
        problems.append("1 to 100 blocks, each its own block_id")
    for b in blocks:
        if b.get("type") != "input":
            problems.extend(block_problems([b]))
            continue
        element = b.get("element") or {}
        if not _plain(b.get("label"), 2000):
            problems.append(f"input {b.get('block_id')}: label")
        if element.get("type") == "static_select":
            options = element.get("options") or []
            bad = [o for o in options if not _plain(o.get("text"), 75) or len(o.get("value", "")) > 150]
            if not 1 <= len(options) <= 100 or bad:
                problems.append(f"input {b.get('block_id')}: options")
            if "initial_option" in element and element["initial_option"] not in options:
                problems.append(f"input {b.get('block_id')}: initial_option is not one of the options")
        elif element.get("type") == "plain_text_input":
            if not 0 < element.get("max_length", 3000) <= 3000:
                problems.append(f"input {b.get('block_id')}: max_length")
        else:
            problems.append(f"input {b.get('block_id')}: unexpected element {element.get('type')}")
    return problems


def unescaped(blocks: list[dict[str, Any]]) -> list[str]:
    """mrkdwn texts with a raw ``<`` or ``>`` outside Slack's own <link>/<@mention> syntax."""
    out = []
    for b in blocks:
        items = [b.get("text") or {}, *b.get("elements", [])] if b["type"] in ("section", "context") else []
        for item in items:
            if item.get("type") == "mrkdwn":
                rest = _SLACK_ANGLE.sub("", item["text"]).replace("\n>", "\n").removeprefix(">")
                if "<" in rest or re.search(r"(?<!^)(?<!\n)>", rest):
                    out.append(item["text"][:80])
    return out


# -- the fake Slack ---------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    method: str  # Web API method, or "response_url"
    payload: dict[str, Any]
    at: float
    failure: str | None = None  # the error a queued Failure answered it with


@dataclass(frozen=True)
class Failure:
    """One failed answer to a Web API call, as Slack gives it; ``body=None``
    drops the connection without an answer."""

    status: int = 200
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def error(self) -> str:
        return "dropped" if self.body is None else str(self.body.get("error"))


def rate_limited(retry_after: int) -> Failure:
    return Failure(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)})


def api_error(error: str, **extra: Any) -> Failure:
    return Failure(200, {"ok": False, "error": error, **extra})


DROPPED = Failure(body=None)
NEEDS_MEMBER = ("chat.postMessage", "chat.postEphemeral", "conversations.replies")  # in a channel the bot is not in
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class FakeSlack:
    def __init__(self, token: str) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.channels: dict[str, list[dict[str, Any]]] = {}
        self.outside: set[str] = set()  # channels the bot is not a member of
        self.failures: dict[str, list[Failure]] = {}
        self.socket_refusals = 0  # WebSocket handshakes to refuse before accepting one
        self.triggers_used: set[str] = set()  # a trigger_id opens one view
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                if url.path == "/link/":
                    fake._websocket(self)
                    return
                fake._api(self, url.path, dict(urllib.parse.parse_qsl(url.query)))

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                url = urllib.parse.urlsplit(self.path)
                if "json" in (self.headers.get("Content-Type") or ""):
                    payload = json.loads(raw or "{}")
                else:
                    payload = dict(urllib.parse.parse_qsl(raw))
                    payload |= dict(urllib.parse.parse_qsl(url.query))
                if isinstance(payload.get("blocks"), str):
                    payload["blocks"] = json.loads(payload["blocks"])
                if url.path.startswith("/response_url/"):
                    fake._response_url(self, payload)
                else:
                    fake._api(self, url.path, payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # -- what tests use

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return f"{self.base}/api/"

    def response_url(self, name: str) -> str:
        return f"{self.base}/response_url/{name}"

    def posts(self, method: str) -> list[dict[str, Any]]:
        """The calls of ``method`` that no queued failure refused."""
        with self.lock:
            return [c.payload for c in self.calls if c.method == method and c.failure is None]

    def answers(self) -> list[Call]:
        """Everything the bot said: messages and response_url posts (not the
        attempts a queued failure refused)."""
        with self.lock:
            return [
                c
                for c in self.calls
                if c.method in ("chat.postMessage", "chat.postEphemeral", "response_url") and c.failure is None
            ]

    def attempts(self, method: str) -> list[Call]:
        """Every call of ``method``, failed or not."""
        with self.lock:
            return [c for c in self.calls if c.method == method]

    def fail(self, method: str, *failures: Failure) -> None:
        """Answer the next calls of ``method`` with ``failures``, in order."""
        with self.lock:
            self.failures.setdefault(method, []).extend(failures)

    def wait_for(self, method: str, count: int = 1, timeout_s: float = 30.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = self.posts(method)
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise AssertionError(f"{count} {method} call(s) expected within {timeout_s}s; got {self.posts(method)}")

    def add_message(self, channel: str, **message: Any) -> None:
        with self.lock:
            self.channels.setdefault(channel, []).append({"type": "message", **message})

    def forget_calls(self) -> None:
        """Forget the calls made so far (and queued failures); the messages posted stay, as in Slack."""
        with self.lock:
            self.calls.clear()
            self.failures.clear()

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()
            self.channels.clear()
            self.outside.clear()
            self.failures.clear()
            self.socket_refusals = 0
            self.triggers_used.clear()

    # -- Slack's side

    def _next_ts(self) -> str:
        """On the test messages' clock (``new_ts``), as Slack's is one: a reply sorts after its
        question and before the next one.  (A clock of its own put every reply of a thread after
        every question of it, and a thread's history in the wrong order.)"""
        return new_ts()

    def _reply(self, handler: BaseHTTPRequestHandler, status: int, body: dict[str, Any] | str) -> None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "text/plain" if isinstance(body, str) else "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _response_url(self, handler: BaseHTTPRequestHandler, payload: dict[str, Any]) -> None:
        if payload.get("blocks") and block_problems(payload["blocks"]):
            self._reply(handler, 400, "invalid_blocks")
            return
        with self.lock:
            self.calls.append(Call("response_url", payload | {"_path": handler.path}, time.monotonic()))
        self._reply(handler, 200, "ok")

    def _fail(self, handler: BaseHTTPRequestHandler, failure: Failure) -> None:
        if failure.body is None:
            handler.close_connection = True  # no status line: the client sees the connection dropped
            return
        data = json.dumps(failure.body).encode()
        handler.send_response(failure.status)
        for name, value in failure.headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _websocket(self, handler: BaseHTTPRequestHandler) -> None:
        """Socket Mode's WebSocket: the handshake accepted (or refused while
        ``socket_refusals`` lasts), then the connection held open, silent."""
        with self.lock:
            self.calls.append(Call("websocket", {}, time.monotonic()))
            refuse = self.socket_refusals > 0
            self.socket_refusals -= refuse
        if refuse:
            self._reply(handler, 400, "refused")
            return
        key = handler.headers.get("Sec-WebSocket-Key", "")
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        handler.send_response(101)
        for name, value in (("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Accept", accept)):
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.flush()
        handler.close_connection = True
        try:
            while handler.rfile.read1(4096):  # type: ignore[attr-defined]
                pass  # the client's pings, until it closes
        except OSError:
            pass

    def _api(self, handler: BaseHTTPRequestHandler, path: str, payload: dict[str, Any]) -> None:
        method = path.removeprefix("/api/")
        with self.lock:
            queued = self.failures.get(method)
            failure = queued.pop(0) if queued else None
            if failure is None and payload.get("channel") in self.outside and method in NEEDS_MEMBER:
                failure = api_error("not_in_channel")
            self.calls.append(Call(method, payload, time.monotonic(), failure.error if failure else None))
        if failure is not None:
            self._fail(handler, failure)
            return
        if method == "apps.connections.open":
            if handler.headers.get("Authorization") != f"Bearer {APP_TOKEN}":
                self._reply(handler, 200, {"ok": False, "error": "invalid_auth"})
                return
            self._reply(handler, 200, {"ok": True, "url": f"ws://127.0.0.1:{self.server.server_address[1]}/link/"})
            return
        if handler.headers.get("Authorization") != f"Bearer {self.token}":
            self._reply(handler, 200, {"ok": False, "error": "invalid_auth"})
            return
        if method == "auth.test":
            body = {"ok": True, "url": "https://test.slack.com/", "team": "Test", "user": "qbank"}
            self._reply(handler, 200, body | {"team_id": TEAM, "user_id": BOT_USER, "bot_id": BOT_ID})
        elif method in ("chat.postMessage", "chat.postEphemeral"):
            if payload.get("blocks") and block_problems(payload["blocks"]):
                self._reply(handler, 200, {"ok": False, "error": "invalid_blocks"})
                return
            ts = self._next_ts()
            message = {"user": BOT_USER, "bot_id": BOT_ID, "text": payload.get("text", ""), "ts": ts}
            message |= {k: payload[k] for k in ("blocks", "thread_ts") if payload.get(k)}
            if method == "chat.postMessage":
                self.add_message(payload["channel"], **message)
                self._reply(handler, 200, {"ok": True, "channel": payload["channel"], "ts": ts, "message": message})
            else:
                self._reply(handler, 200, {"ok": True, "message_ts": ts})
        elif method == "views.publish":
            view = payload.get("view") or {}
            blocks = view.get("blocks") or []
            if view.get("type") != "home" or not payload.get("user_id") or len(blocks) > 100 or block_problems(blocks):
                self._reply(handler, 200, {"ok": False, "error": "invalid_arguments"})
                return
            self._reply(handler, 200, {"ok": True, "view": view | {"id": "V0000HOME"}})
        elif method == "views.open":
            view = payload.get("view") or {}
            trigger = str(payload.get("trigger_id") or "")
            with self.lock:
                used = trigger in self.triggers_used
                self.triggers_used.add(trigger)
            if not trigger or modal_problems(view):
                self._reply(handler, 200, {"ok": False, "error": "invalid_arguments"})
            elif used:
                self._reply(handler, 200, {"ok": False, "error": "expired_trigger_id"})
            else:
                self._reply(handler, 200, {"ok": True, "view": view | {"id": "V0000FORM", "state": {"values": {}}}})
        elif method == "conversations.replies":
            with self.lock:
                thread = [
                    m
                    for m in self.channels.get(payload.get("channel", ""), [])
                    if payload.get("ts") in (m["ts"], m.get("thread_ts"))
                ]
            if not thread:
                self._reply(handler, 200, {"ok": False, "error": "thread_not_found"})
                return
            thread.sort(key=lambda m: float(m["ts"]))
            self._reply(handler, 200, {"ok": True, "messages": thread, "has_more": False})
        elif method == "conversations.open":
            users = str(payload.get("users", "")).split(",")
            if len(users) != 1 or not users[0].startswith("U"):
                self._reply(handler, 200, {"ok": False, "error": "user_not_found"})
                return
            self._reply(handler, 200, {"ok": True, "channel": {"id": "D" + users[0][1:]}})
        else:
            self._reply(handler, 200, {"ok": False, "error": "unknown_method"})


# -- signed requests ----------------------------------------------------------------------


@contextmanager
def running_fake(token: str = TOKEN) -> Iterator[FakeSlack]:
    """A fake Slack Web API on a local port for the duration (a module's tests)."""
    slack = FakeSlack(token)
    slack.thread.start()
    try:
        yield slack
    finally:
        slack.server.shutdown()
        slack.server.server_close()


def sign(body: str, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}


TRIGGERS = itertools.count(1)


def command_body(text: str, response_url: str, channel: str = "C0000ASK", user: str = "U0000USER") -> tuple[str, str]:
    fields = {
        "token": "legacy-verification-token",
        "team_id": TEAM,
        "channel_id": channel,
        "channel_name": "interview-prep",
        "user_id": user,
        "user_name": "ada",
        "command": "/ask",
        "text": text,
        "api_app_id": "A0000QBANK",
        "response_url": response_url,
        "trigger_id": f"1.2.{next(TRIGGERS)}",  # unique per invocation, as Slack's are
    }
    return urllib.parse.urlencode(fields), "application/x-www-form-urlencoded"


def event_body(event: dict[str, Any], event_id: str) -> tuple[str, str]:
    body = {
        "token": "legacy-verification-token",
        "team_id": TEAM,
        "api_app_id": "A0000QBANK",
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True, "is_enterprise_install": False}],
    }
    return json.dumps(body), "application/json"


def action_body(
    action_id: str,
    value: str,
    response_url: str,
    message_ts: str = "1700000001.000100",
    blocks: list[dict[str, Any]] | None = None,
    ephemeral: bool = False,
    user: str = "U0000USER",
    channel: str = "C0000ASK",
    block_id: str = "qbank_actions",
) -> tuple[str, str]:
    """A button click on one of our messages; an ephemeral message (an /ask
    answer) comes without the message, as Slack sends it."""
    message = {"type": "message", "ts": message_ts, "user": BOT_USER, "bot_id": BOT_ID, "blocks": blocks or []}
    container = {"type": "message", "message_ts": message_ts, "channel_id": channel, "is_ephemeral": ephemeral}
    payload = {
        "type": "block_actions",
        "user": {"id": user, "team_id": TEAM},
        "api_app_id": "A0000QBANK",
        "team": {"id": TEAM},
        "channel": {"id": channel},
        "container": container,
        **({} if ephemeral else {"message": message}),
        "response_url": response_url,
        "trigger_id": f"1.2.{next(TRIGGERS)}",
        "actions": [{"action_id": action_id, "block_id": block_id, "value": value, "type": "button"}],
    }
    return urllib.parse.urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"


def view_submission_body(view: dict[str, Any], values: dict[str, Any], user: str = "U0000USER") -> tuple[str, str]:
    """The submission of a modal ``view`` (as the bot opened it) with the inputs' ``values``
    (``{block_id: {action_id: {...}}}``), as Slack sends it."""
    shown = view | {"id": "V0000FORM", "team_id": TEAM, "state": {"values": values}, "hash": "1.abc"}
    payload = {
        "type": "view_submission",
        "team": {"id": TEAM},
        "user": {"id": user, "team_id": TEAM},
        "api_app_id": "A0000QBANK",
        "token": "legacy-verification-token",
        "trigger_id": f"1.2.{next(TRIGGERS)}",
        "view": shown,
        "response_urls": [],
    }
    return urllib.parse.urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"


_ts_counter = iter(range(1, 1_000_000))


def new_ts() -> str:
    return f"1710000000.{next(_ts_counter):06d}"


def mention(text: str, channel: str = "C0000CHAN", **extra: Any) -> dict[str, Any]:
    ts = new_ts()
    return {"type": "app_mention", "user": "U0000USER", "text": f"<@{BOT_USER}> {text}", "ts": ts, "channel": channel,
            "event_ts": ts} | extra  # fmt: skip


def message(text: str, channel: str = "D0000DM", channel_type: str = "im", **extra: Any) -> dict[str, Any]:
    ts = new_ts()
    return {"type": "message", "user": "U0000USER", "text": text, "ts": ts, "channel": channel,
            "channel_type": channel_type, "event_ts": ts} | extra  # fmt: skip


def slack_settings(built: IngestReport, fake: FakeSlack, tmp: Path, **extra: Any) -> Settings:
    return service_settings(
        built.path,
        tmp,
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_api_url=fake.api_url,
        public_url=PUBLIC_URL,
        **extra,
    )


def send(client: TestClient, body: tuple[str, str], headers: dict[str, str] | None = None) -> httpx.Response:
    content, content_type = body
    headers = sign(content) if headers is None else headers
    return client.post("/slack/events", content=content, headers=headers | {"Content-Type": content_type})


def settle(bot: SlackBot) -> None:
    assert bot.pool.wait_idle(30), "the bot's lazy jobs did not finish"


def only_answer(fake: FakeSlack, bot: SlackBot, method: str) -> dict[str, Any]:
    fake.wait_for(method)
    settle(bot)
    answers = fake.answers()
    assert [c.method for c in answers] == [method], answers
    return answers[0].payload


def blocks_of(type_: str, blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [b for b in blocks if b["type"] == type_]


def button(blocks: list[dict[str, Any]], action_id: str) -> dict[str, Any]:
    (actions,) = blocks_of("actions", blocks)
    (found,) = [e for e in actions["elements"] if e["action_id"] == action_id]
    return found
