"""Headers every response carries, and error text fit to send.

``SecurityHeadersMiddleware`` adds ``X-Content-Type-Options: nosniff``,
``X-Frame-Options: DENY`` and a ``Referrer-Policy`` to every response (the
pages add their own Content-Security-Policy, ``service/routes/ui.py``).
``public_message`` takes absolute filesystem paths out of a message before
it goes into a 503 or 409 body: the log keeps the full text.
"""

from __future__ import annotations

import re

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
)
_ABSOLUTE_PATH = re.compile(r"(?<![\w:/.])/(?:[\w.@+-]+/)*[\w.@+-]+/?")


def public_message(message: str) -> str:
    """``message`` with each absolute path shortened to ``…/`` and its last part."""
    return _ABSOLUTE_PATH.sub(lambda m: "…/" + m.group(0).rstrip("/").rsplit("/", 1)[-1], message)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in HEADERS if n not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)


class GZipUnlessRefused(GZipMiddleware):
    """Starlette's gzip, which compresses whenever "gzip" appears in Accept-Encoding, also for
    "gzip;q=0" (the client refuses it): such a request is passed through uncompressed."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and refuses_gzip(Headers(scope=scope).get("accept-encoding", "")):

            async def varied(message: Message) -> None:  # a cache must still tell the two apart
                if message["type"] == "http.response.start":
                    headers = MutableHeaders(scope=message)
                    if "accept-encoding" not in headers.get("vary", "").lower():
                        headers.add_vary_header("Accept-Encoding")
                await send(message)

            await self.app(scope, receive, varied)
            return
        await super().__call__(scope, receive, send)


def refuses_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding value gives gzip a quality of 0 ("gzip;q=0, identity")."""
    qualities: dict[str, float] = {}
    for part in accept_encoding.lower().split(","):
        name, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 1.0
        if name.strip():
            qualities[name.strip()] = q
    return qualities.get("gzip", 1.0) <= 0  # not named: Starlette does not compress anyway
