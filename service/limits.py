"""Connection-level limits the HTTP server itself does not set.

uvicorn (with httptools) reads request headers without a size limit and
without a deadline: one 48 MB header stalled every client for seconds and
grew the process by 100 MB, and 400 slowloris connections dribbling headers
stayed open indefinitely.  ``GuardedHttpToolsProtocol`` is uvicorn's own
protocol with two guards on the request head (the request line and headers):

* more than ``max_header_bytes`` before the blank line that ends it: answer
  ``431 Request Header Fields Too Large`` and close;
* not complete within ``header_timeout_s`` of the connection opening (or of
  the previous response): answer ``408 Request Timeout`` and close;

and one on its body: not all sent within ``body_timeout_s`` of the head
(a ``Content-Length`` of 100 and 9 bytes sent held the connection, and the
app's task waiting for the rest, for good; 500 of them locked every client
out): answer ``408`` and close (or only close, when the app has begun its
answer already).

``qbank serve`` passes it to uvicorn (``http=``), with ``limit_concurrency``
as the cap on connections and tasks and ``KEEP_ALIVE_S`` as the idle time
after which a kept-alive connection is closed; README's operations section
lists them.

A client that pools connections must drop an idle one *before* the server
does: a request sent on a connection the server is closing at that moment
is answered with a reset, and the client cannot tell whether it was handled.
With both sides at 5 s (httpx's default expiry and uvicorn's default), one
request in about 10,000 of the load test got that reset (``ReadError``) on a
busy machine. ``CLIENT_KEEPALIVE_S`` is what our own load clients use.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from qbank.settings import get_settings

MAX_HEAD_BYTES = 64 * 1024  # defaults; QBANK_MAX_HEADER_BYTES and QBANK_HEADER_TIMEOUT_S set them
HEAD_TIMEOUT_S = 10.0
BODY_TIMEOUT_S = 30.0  # QBANK_BODY_TIMEOUT_S sets it
KEEP_ALIVE_S = 5  # seconds; uvicorn's default, set explicitly so the clients below can stay under it
CLIENT_KEEPALIVE_S = KEEP_ALIVE_S / 2  # the load clients' (tests, bench) idle expiry: well before the server's
_END_OF_HEAD = b"\r\n\r\n"


def _response(status: str, text: str) -> bytes:
    body = text.encode()
    head = f"HTTP/1.1 {status}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {len(body)}\r\n"
    return head.encode() + b"connection: close\r\n\r\n" + body


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` with a size limit and a deadline on each request head, and a
    deadline on each request body."""

    max_head_bytes: int = MAX_HEAD_BYTES
    head_timeout_s: float = HEAD_TIMEOUT_S
    body_timeout_s: float = BODY_TIMEOUT_S

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        settings = get_settings()  # cached per process: uvicorn's workers build their own protocols
        self.max_head_bytes, self.head_timeout_s = settings.max_header_bytes, settings.header_timeout_s
        self.body_timeout_s = settings.body_timeout_s
        self._head_bytes = 0
        self._tail = b""
        self._in_head = True
        self._deadline: asyncio.TimerHandle | None = None
        self._arm()

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.head_timeout_s, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _refuse(self, response: bytes) -> None:
        self._disarm()
        if not self.transport.is_closing():
            self.transport.write(response)
            self.transport.close()

    def _too_slow(self) -> None:
        self._deadline = None
        if self._in_head:
            self._refuse(_response("408 Request Timeout", "request headers were not sent in time"))

    def _body_too_slow(self) -> None:
        self._deadline = None
        if self.pipeline:
            # A pipelined request waits, unread, for the answer before it (uvicorn pauses reading):
            # its body cannot arrive yet, and a 408 now would land inside that answer.
            self._deadline = self.loop.call_later(self.body_timeout_s, self._body_too_slow)
            return
        cycle = self.cycle
        if cycle is not None and cycle.response_started:  # the app answered already: no second answer
            self.transport.close()
        else:
            self._refuse(_response("408 Request Timeout", "the request body was not sent in time"))

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            seen = self._tail + data
            end = seen.find(_END_OF_HEAD)
            counted = len(data) if end < 0 else max(0, end + len(_END_OF_HEAD) - len(self._tail))
            self._head_bytes += counted
            self._tail = seen[-(len(_END_OF_HEAD) - 1) :]
            if self._head_bytes > self.max_head_bytes:
                self._refuse(_response("431 Request Header Fields Too Large", "request headers are too large"))
                return
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._disarm()
        super().on_headers_complete()
        # until on_message_complete (at once for a request without a body)
        self._deadline = self.loop.call_later(self.body_timeout_s, self._body_too_slow)

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if not self._in_head:
            # The next request on a kept-alive connection gets its own budget and deadline.  Not
            # at the end of the previous response: the app may answer (a 413, say) before that
            # request's body has all arrived, and its bytes are not the next request's head.
            self._in_head, self._head_bytes, self._tail = True, 0, b""
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)
