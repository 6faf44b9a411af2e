"""Micro-batching of concurrent query encodes: queries that arrive within a
millisecond or two of each other share one forward pass.

No thread of its own.  The first caller into an empty batch leads (so does
the first of every further ``max_batch`` that queue up behind it): it waits
up to ``wait_s`` for company, or not at all when no other batch is being
encoded (a lone query pays nothing), then takes up to ``max_batch`` waiting
queries, encodes them with one call and hands each caller its own row.
Whoever arrives meanwhile joins the next batch, so two batches can run at
once, as two lone queries could before, each with ``QBANK_QUERY_THREADS``
threads.  An error in the encoder reaches every caller of that batch.
``close()`` ends the waiting: a waiting leader encodes at once, later
callers alone.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

import numpy as np

MAX_BATCH = 32


class _Job:
    __slots__ = ("done", "error", "text", "vector")

    def __init__(self, text: str) -> None:
        self.text = text
        self.vector: np.ndarray | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()


class QueryBatcher:
    """``encode(text)`` for many threads at once, over ``encode_many(texts)``."""

    def __init__(
        self, encode_many: Callable[[Sequence[str]], np.ndarray], wait_s: float, max_batch: int = MAX_BATCH
    ) -> None:
        if wait_s < 0:
            raise ValueError(f"wait_s must be >= 0, got {wait_s}")
        if max_batch < 1:
            raise ValueError(f"max_batch must be >= 1, got {max_batch}")
        self._encode_many = encode_many
        self.wait_s = wait_s
        self.max_batch = max_batch
        self._cond = threading.Condition()
        self._pending: list[_Job] = []
        self._running = 0  # batches being encoded now
        self._closed = False
        self.batches = 0  # forward passes made, and the queries they carried (for the bench)
        self.queries = 0

    def encode(self, text: str) -> np.ndarray:
        """``text``'s vector, encoded with whatever other queries arrive within the wait."""
        job = _Job(text)
        with self._cond:
            if self._closed:
                leader = None
            else:
                self._pending.append(job)
                # One leader per max_batch callers pending: each takes one batch (any one).
                leader = len(self._pending) % self.max_batch == 1 % self.max_batch
                if len(self._pending) >= self.max_batch:
                    self._cond.notify_all()
        if leader is None:
            return self._encode_many([text])[0]
        if leader:
            self._run(self._gather())
        job.done.wait()
        if job.error is not None:
            raise job.error
        assert job.vector is not None
        return job.vector

    def _gather(self) -> list[_Job]:
        """As the leader: wait for the batch to fill (bounded), then take it."""
        with self._cond:
            if self._running:  # alone on an idle encoder nobody is coming: go now
                deadline = time.monotonic() + self.wait_s
                while not self._closed and len(self._pending) < self.max_batch:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
            batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
            self._running += 1
            return batch

    def _run(self, batch: list[_Job]) -> None:
        try:
            texts = list(dict.fromkeys(j.text for j in batch))  # a query asked twice is encoded once
            vectors = self._encode_many(texts)
            row = {t: vectors[i] for i, t in enumerate(texts)}
            for j in batch:
                j.vector = row[j.text]
        except BaseException as exc:
            for j in batch:
                j.error = exc
        finally:
            with self._cond:
                self._running -= 1
                self.batches += 1
                self.queries += len(batch)
            for j in batch:
                j.done.set()

    def close(self) -> None:
        """Stop waiting for company: a waiting leader encodes now, later callers alone."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
