"""A per-client sliding-window rate limit for /api/chat (off when the limit is 0)."""

from __future__ import annotations

import threading
import time
from collections import deque

from fastapi import HTTPException, Request


class RateLimiter:
    def __init__(self, per_minute: int) -> None:
        if per_minute < 0:
            raise ValueError("per_minute must be >= 0")
        self.per_minute = per_minute
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, client: str, now: float | None = None) -> bool:
        if self.per_minute == 0:
            return True
        now = time.monotonic() if now is None else now
        with self._lock:
            q = self._hits.setdefault(client, deque())
            while q and now - q[0] >= 60:
                q.popleft()
            if len(q) >= self.per_minute:
                return False
            q.append(now)
            if len(self._hits) > 10_000:
                for key in [k for k, v in self._hits.items() if not v or now - v[-1] >= 60]:
                    del self._hits[key]
            return True


def limit_chat(request: Request) -> None:
    """A route dependency: 429 with ``Retry-After`` once the client is over the chat limit."""
    limiter: RateLimiter = request.app.state.chat_limiter
    client = request.client.host if request.client else "unknown"
    if not limiter.allow(client):
        raise HTTPException(
            status_code=429,
            detail=f"too many chat requests: the limit is {limiter.per_minute} per minute; wait and retry",
            headers={"Retry-After": "60"},
        )
