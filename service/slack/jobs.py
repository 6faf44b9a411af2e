"""The bot's background work: the thread pool its lazy listeners run on, and
the set of Slack deliveries already handled.

``JobPool`` is the executor bolt runs lazy listeners on.  It remembers the work
in flight, so shutdown can let answers that are being written finish (and
tests can wait for "nothing more will be posted" without sleeping).

``Seen`` is a bounded set with a time-to-live: Slack retries an event it thinks
timed out (up to three times over about five minutes), and a mention in a
thread arrives both as ``app_mention`` and as ``message``; each key is handled
once.  It is per process: with several uvicorn workers a retry can land on
another worker, so run the Slack endpoint with one worker (the default).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any


class JobPool(ThreadPoolExecutor):
    def __init__(self, max_workers: int = 8) -> None:
        if max_workers <= 0:
            raise ValueError(f"max_workers must be positive, got {max_workers}")
        super().__init__(max_workers=max_workers, thread_name_prefix="qbank-slack")
        self._lock = threading.Lock()
        self._in_flight: set[Future[Any]] = set()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future = super().submit(fn, *args, **kwargs)
        with self._lock:
            self._in_flight.add(future)
        future.add_done_callback(self._done)
        return future

    def _done(self, future: Future[Any]) -> None:
        with self._lock:
            self._in_flight.discard(future)

    @property
    def in_flight(self) -> int:
        with self._lock:
            return len(self._in_flight)

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until no job is queued or running (jobs may start jobs); True if idle."""
        deadline = time.monotonic() + timeout_s
        while True:
            with self._lock:
                pending = list(self._in_flight)
            if not pending:
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            wait(pending, timeout=left)


class Seen:
    def __init__(
        self, ttl_s: float = 3600.0, max_items: int = 20_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if ttl_s <= 0 or max_items <= 0:
            raise ValueError("ttl_s and max_items must be positive")
        self.ttl_s = ttl_s
        self.max_items = max_items
        self.clock = clock
        self._lock = threading.Lock()
        self._expiry: OrderedDict[str, float] = OrderedDict()

    def first(self, key: str) -> bool:
        """True the first time ``key`` is offered within the TTL, False after."""
        now = self.clock()
        with self._lock:
            while self._expiry and (next(iter(self._expiry.values())) <= now or len(self._expiry) >= self.max_items):
                self._expiry.popitem(last=False)
            if key in self._expiry:
                return False
            self._expiry[key] = now + self.ttl_s
            return True

    def forget(self, key: str) -> None:
        """Offer ``key`` again: the work it stood for did not happen after all."""
        with self._lock:
            self._expiry.pop(key, None)

    def __contains__(self, key: object) -> bool:
        """Offered within the TTL (without offering it)."""
        with self._lock:
            expiry = self._expiry.get(key) if isinstance(key, str) else None
        return expiry is not None and expiry > self.clock()
