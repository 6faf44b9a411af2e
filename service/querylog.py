"""The query log: every search and chat turn, for the maintainer's insights.

A request only puts its entry on a queue (``Asked.searched`` /
``Asked.answered``); a writer thread stores what is queued in batches, so
logging never holds a request up, and a failed write is logged and skipped,
never raised.  A lone entry is written at once; after each write the
writer lets entries gather for ``LINGER_S`` (not after a full batch, nor
while a ``flush()`` waits or ``close()`` drains): under load that is one
transaction a tenth of a second instead of one per request (each commit
cost the server's CPU about as much as a cached search; BENCHMARKS.md).
The same thread deletes rows older than the retention
(``QBANK_QUERY_LOG_DAYS``) at start and every hour.  ``QBANK_QUERY_LOG=false``
logs nothing (old rows are still deleted as they age).

What a row holds: the text asked and what was searched (a chat turn's
rewritten query), the best records with their scores, whether it abstained,
the surface (web, api, slack), the time it took, the company asked about, and
the anonymous learner id when the request carried one.  No addresses, no
Slack user ids or names.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from index.filters import Filters
from index.results import SearchHit, SearchResult
from ingest.companies import canonical_company
from qbank.answer import Answer
from service.store import Store
from service.store.queries import LoggedQuery, QueryLogStore

log = logging.getLogger(__name__)

Surface = Literal["web", "api", "slack"]
TOP_HITS = 5  # hits kept per row
MAX_PENDING = 10_000  # entries queued; past it, new ones are skipped (and the skip logged)
BATCH = 500  # entries written per transaction at most
LINGER_S = 0.1  # after a write, how long entries gather before the next
PURGE_EVERY_S = 3600.0


def _hits(hits: tuple[SearchHit, ...]) -> tuple[tuple[str, float], ...]:
    return tuple((h.record.id, round(float(h.score), 4)) for h in hits[:TOP_HITS])


def _company(name: str | None) -> str | None:
    name = " ".join((name or "").split())
    return canonical_company(name) if name else None


class QueryLog:
    """Queue and writer of the query log.  ``start()`` once the store is open;
    ``record()`` from any thread; ``close()`` writes what is queued and stops."""

    def __init__(
        self,
        store: Store,
        enabled: bool = True,
        keep_days: int = 90,
        max_pending: int = MAX_PENDING,
        purge_every_s: float = PURGE_EVERY_S,
        linger_s: float = LINGER_S,
    ) -> None:
        if keep_days < 1:
            raise ValueError(f"keep_days must be at least 1, got {keep_days}")
        if max_pending < 1:
            raise ValueError(f"max_pending must be positive, got {max_pending}")
        self.rows = QueryLogStore(store)
        self.enabled = enabled
        self.keep_days = keep_days
        self.purge_every_s = purge_every_s
        self.linger_s = linger_s
        self._hurry = threading.Event()  # set by flush() and close(): write what is queued now
        self._flushing = 0  # flush() calls waiting: the writer does not linger meanwhile
        self._stopping = False
        self._queue: queue.Queue[LoggedQuery | None] = queue.Queue(maxsize=max_pending)
        self._pending = 0  # queued or being written
        self._idle = threading.Condition()
        self._thread: threading.Thread | None = None
        self.skipped = 0

    def start(self) -> None:
        """Delete what the retention no longer keeps, then start the writer (when logging is on)."""
        self.purge()
        if self.enabled and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="query-log", daemon=True)
            self._thread.start()

    def record(self, entry: LoggedQuery) -> None:
        """Queue ``entry``; never blocks, never raises (a full queue skips it, logged)."""
        if not self.enabled:
            return
        with self._idle:
            self._pending += 1
        try:
            self._queue.put_nowait(entry)
        except queue.Full:
            self._done(1)
            self._skip(1, "the queue is full")

    def purge(self, now: datetime | None = None) -> int:
        """Delete the rows older than the retention; how many went (0 when the store failed, logged)."""
        before = (now or datetime.now(UTC)) - timedelta(days=self.keep_days)
        try:
            deleted = self.rows.purge(before)
        except Exception as exc:  # the log is a side matter: a failure must not stop the service
            log.warning("query log: could not delete rows older than %s: %s", before.isoformat(), exc)
            return 0
        if deleted:
            log.info("query log: deleted %d rows older than %d days", deleted, self.keep_days)
        return deleted

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until everything queued so far is written (or skipped); False on timeout."""
        with self._idle:
            self._flushing += 1
        self._hurry.set()
        try:
            with self._idle:
                return self._idle.wait_for(lambda: self._pending == 0, timeout_s)
        finally:
            with self._idle:
                self._flushing -= 1

    def close(self, timeout_s: float = 5.0) -> None:
        """Write what is queued, then stop the writer."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        with self._idle:
            self._stopping = True  # from here on the writer drains without lingering
        self._hurry.set()
        try:
            self._queue.put(None, timeout=timeout_s)
        except queue.Full:
            log.warning("query log: the writer did not drain in %.0f s; stopping without it", timeout_s)
            return
        thread.join(timeout_s)

    # -- the writer ------------------------------------------------------------------

    def _run(self) -> None:
        next_purge = time.monotonic() + self.purge_every_s
        while True:
            try:
                first = self._queue.get(timeout=1.0)
            except queue.Empty:
                first = None
                stop = False
            else:
                stop = first is None
            batch = [first] if first is not None else []
            while not stop and len(batch) < BATCH:
                try:
                    entry = self._queue.get_nowait()
                except queue.Empty:
                    break
                if entry is None:
                    stop = True
                else:
                    batch.append(entry)
            if batch:
                self._write(batch)
            if time.monotonic() >= next_purge:
                self.purge()
                next_purge = time.monotonic() + self.purge_every_s
            if stop:
                return
            if batch and len(batch) < BATCH:  # after a full batch more is queued: write on
                self._hurry.wait(self.linger_s)
            with self._idle:
                if not self._flushing and not self._stopping:
                    self._hurry.clear()

    def _write(self, batch: list[LoggedQuery]) -> None:
        try:
            self.rows.add(batch)
        except Exception as exc:  # logged and skipped: the requests they came from are long answered
            self._skip(len(batch), f"the store failed: {exc}")
        finally:
            self._done(len(batch))

    def _done(self, n: int) -> None:
        with self._idle:
            self._pending -= n
            if self._pending == 0:
                self._idle.notify_all()

    def _skip(self, n: int, why: str) -> None:
        self.skipped += n
        log.warning("query log: %d entries not written (%d so far): %s", n, self.skipped, why)


@dataclass(frozen=True, slots=True)
class Asked:
    """Where a turn was asked, for the log: the surface and the anonymous
    learner id (when the request carried a valid one), and the log itself."""

    log: QueryLog
    surface: Surface
    learner: str | None = None

    def searched(self, query: str, result: SearchResult) -> None:
        """A search: ``query`` as cleaned, and what it found."""
        top = result.hits[0] if result.hits else None
        self.log.record(
            LoggedQuery(
                created_at=datetime.now(UTC),
                surface=self.surface,
                action="search",
                query=query,
                searched=query,
                abstained=not result.answerable,
                hits=_hits(result.hits),
                latency_ms=round(result.took_ms, 3),
                top_dense=float(top.dense_score) if top is not None else None,
                company=_company(result.filters.company),
                learner=self.learner,
            )
        )

    def answered(self, question: str, answer: Answer, filters: Filters | None, latency_ms: float) -> None:
        """A chat turn: the user's ``question``, and the answer composed in ``latency_ms``."""
        top = answer.sources[0] if answer.sources else None
        chosen = answer.list_filters if answer.list_filters is not None else filters
        self.log.record(
            LoggedQuery(
                created_at=datetime.now(UTC),
                surface=self.surface,
                action="chat",
                query=question,
                searched=answer.rewritten_query or question,
                abstained=answer.abstained,
                hits=_hits(answer.sources),
                latency_ms=round(latency_ms, 3),
                kind=answer.kind,
                top_dense=float(top.dense_score) if top is not None else None,
                company=_company(chosen.company if chosen is not None else None),
                learner=self.learner,
            )
        )
