"""The request-body deadline of ``GuardedHttpToolsProtocol`` on a real uvicorn (in a thread, a
stub app, raw sockets): a pipelined request, queued unread behind a long answer, is not cut off
by it, and the long answer before it is not broken by a 408 written into it."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from server_support import free_port, read_all

from service.limits import GuardedHttpToolsProtocol

DEADLINE_S = 0.5


class ShortDeadline(GuardedHttpToolsProtocol):
    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self.body_timeout_s = DEADLINE_S


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if scope["path"] == "/slow":  # a long answer, as a chat stream is: four times the deadline
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        for i in range(8):
            await send({"type": "http.response.body", "body": b"tick %d\n" % i, "more_body": True})
            await asyncio.sleep(DEADLINE_S / 2)
        await send({"type": "http.response.body", "body": b"done\n"})
    else:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"%d" % len(body))]})
        await send({"type": "http.response.body", "body": body})


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    free = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free, http=ShortDeadline, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    yield free
    server.should_exit = True
    thread.join(timeout=5)


def test_a_pipelined_request_waits_for_the_answer_before_it(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.1)
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\n")
        time.sleep(0.05)
        s.sendall(b"hello")
        reply = read_all(s)
    assert b"408" not in reply, reply[-300:]
    assert b"done\n" in reply and reply.endswith(b"hello"), reply[-300:]


def test_a_body_that_never_comes_is_still_refused(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhe")
        started = time.monotonic()
        reply = read_all(s)
    assert reply.startswith(b"HTTP/1.1 408 ") and time.monotonic() - started < 5
