"""Learners' votes, from the store into the search's feedback boost.

With ``QBANK_FEEDBACK_BOOST`` on, ``FeedbackBoost`` keeps a ``VoteBook``
(``index.components.boost``) filled with the store's votes: loaded when the
service starts, again just after a vote is recorded here, and every
``QBANK_FEEDBACK_BOOST_REFRESH_S`` for the votes other replicas record.  A
vote counts if it names the query it was given for and a voter the
settings trust (``QBANK_FEEDBACK_BOOST_VOTERS``): by default Slack users
only, the members of a workspace, one each; with ``all`` also web and API
learners, whose tokens anyone can mint.  Other votes are kept for the
insights page but move nothing.  Loading runs in a thread of its own
(the first one too, so a start does not wait for it), at most once every
``MIN_GAP_S`` however fast votes come, so a search never waits for the
store or the encoder.
"""

from __future__ import annotations

import logging
import threading
import time

from index.components.boost import Vote, VoteBook
from index.embed import Embedder
from service.feedback import FeedbackRecord, FeedbackStore

log = logging.getLogger(__name__)
MIN_GAP_S = 1.0  # between two loads: a burst of votes is read in one


def voter(record: FeedbackRecord, trusted: str = "slack") -> str | None:
    """Who cast ``record``, if the boost counts them (``trusted``: "slack" or
    "all"); None for an anonymous vote or one from a voter not trusted."""
    if not record.user_id:
        return None
    if record.source == "slack":  # only the Slack app stores these (the HTTP API refuses source slack)
        return f"slack:{record.user_id}"
    return f"learner:{record.user_id}" if trusted == "all" else None


def votes(records: list[FeedbackRecord], trusted: str = "slack") -> list[Vote]:
    counted = []
    for r in records:
        who = voter(r, trusted)
        if who is not None and r.query and r.query.strip():
            counted.append(Vote(r.question_id, who, r.helpful, r.query.strip(), r.created_at))
    return counted


class FeedbackBoost:
    def __init__(
        self, feedback: FeedbackStore, embedder: Embedder, refresh_s: float = 60.0, voters: str = "slack"
    ) -> None:
        if refresh_s <= 0:
            raise ValueError(f"refresh_s must be positive, got {refresh_s}")
        if voters not in ("slack", "all"):
            raise ValueError(f"voters must be slack or all, got {voters!r}")
        self.feedback = feedback
        self.voters = voters
        self.book = VoteBook(embedder.encode)
        self.refresh_s = refresh_s
        self.loaded_at: float | None = None  # time.monotonic() of the last good load
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._loaded = threading.Condition()
        self._started = 0
        self._finished = 0
        self._thread: threading.Thread | None = None

    def load(self) -> int:
        """Read every vote from the store into the book now; the stances held.
        A failure is logged and the book keeps what it had."""
        with self._loaded:
            self._started += 1
        try:
            self.book.replace(votes(self.feedback.all(), self.voters))
        except Exception as exc:  # the boost is a side matter: the search goes on with the last votes
            log.warning("feedback boost: could not load the votes, keeping the last ones: %s", exc)
        else:
            self.loaded_at = time.monotonic()
        with self._loaded:
            self._finished += 1
            self._loaded.notify_all()
        return len(self.book)

    def start(self) -> None:
        """Load in the background: now, then after votes and every ``refresh_s``."""
        if self._thread is None:
            self._wake.set()
            self._thread = threading.Thread(target=self._run, name="feedback-boost", daemon=True)
            self._thread.start()

    def voted(self) -> None:
        """A vote was recorded here: load again soon (in the background)."""
        self._wake.set()

    def refreshed(self, timeout_s: float = 10.0) -> bool:
        """Have the background loader read the votes once more, and wait until
        it has: every vote recorded before this call is then in the book.
        False on timeout."""
        with self._loaded:
            target = self._started + 1
        self._wake.set()
        with self._loaded:
            return self._loaded.wait_for(lambda: self._finished >= target, timeout_s)

    def close(self, timeout_s: float = 5.0) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        self._wake.set()
        thread.join(timeout_s)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.refresh_s)
            self._wake.clear()
            if self._stop.is_set():
                return
            self.load()
            self._stop.wait(MIN_GAP_S)
