"""Feedback in ranking, bounded: votes of several learners on a record, for
queries like this one, move its fused score by at most ``cap`` either way.

A vote counts where it was given for a query near the one asked (the cosine
of the two queries' vectors at least ``neighbourhood``): a 👎 on the dropout
answer for "why does my validation loss go up" says nothing about it for
"what is dropout".  Within that neighbourhood each learner has one stance per
record, their latest vote there, however many they cast; and nothing moves
until ``min_learners`` distinct learners have a stance.  Then the record's
score is multiplied by ``cap ** (agreement * confidence)``: agreement is
(learners for − learners against) / learners with a stance, in [-1, 1], and
confidence grows with their number up to 1 at ``2 * min_learners``.  So one
learner's hundred votes change nothing, and no crowd moves a score beyond
``1 / cap`` … ``cap`` (0.8× … 1.25× by default).

The scores multiplied are the fused ones, before the abstention decision,
which the boost does not touch: feedback reorders what is shown, never
makes a question answerable.  A company list ("what does Uber ask?") is not
a ranking by relevance and is left alone.

``VoteBook`` holds the votes with their query vectors and is swapped whole
(``replace``), so a search reads one consistent set while the service loads
the next; ``FeedbackBoostStage`` is the pipeline stage that reads it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from index.components.scores import RecordScores
from index.query import AnalyzedQuery


@dataclass(frozen=True, slots=True)
class Vote:
    record_id: str
    voter: str  # one learner: a web/API learner id or a Slack user, never shared by two people
    helpful: bool
    query: str  # what the learner had asked
    at: float  # when, a Unix time: a learner's latest vote is their stance


@dataclass(frozen=True, slots=True)
class BoostConfig:
    min_learners: int = 3
    cap: float = 1.25
    neighbourhood: float = 0.75

    def __post_init__(self) -> None:
        if self.min_learners < 2:
            raise ValueError(
                f"min_learners must be at least 2 (one learner must never move a ranking), got {self.min_learners}"
            )
        if not 1.0 < self.cap <= 2.0:
            raise ValueError(f"cap must be in (1, 2], got {self.cap}")
        if not 0.0 < self.neighbourhood <= 1.0:
            raise ValueError(f"neighbourhood must be a cosine in (0, 1], got {self.neighbourhood}")


@dataclass(frozen=True, slots=True)
class _Stances:
    """A row per (record, learner, query): that learner's latest vote on the
    record for the query.  Each distinct query's vector is held once."""

    queries: np.ndarray  # (q, dim) float32, unit length: every query voted on, once
    query: np.ndarray  # (n,) int: the row's query
    record: np.ndarray  # (n,) int: the row's record, in ``record_ids``
    voter: np.ndarray  # (n,) int: the row's learner, numbered
    helpful: np.ndarray  # (n,) bool
    at: np.ndarray  # (n,) float64
    record_ids: tuple[str, ...]

    @classmethod
    def empty(cls) -> _Stances:
        none = np.zeros(0, dtype=np.int64)
        return cls(np.zeros((0, 0), dtype=np.float32), none, none, none, np.zeros(0, dtype=bool), np.zeros(0), ())


Encode = Callable[[Sequence[str]], np.ndarray]  # texts -> unit vectors, one row each


class VoteBook:
    """The votes, one stance per learner, record and query, with the queries' vectors.

    ``encode`` turns query texts into the same unit vectors searches use; a
    query's vector is computed once and kept while a vote needs it.  A
    learner's stances beyond their latest ``per_learner`` are dropped, and
    the book's beyond the latest ``most``: what one learner sends (however
    many distinct queries) bounds the memory and the time a search spends here."""

    def __init__(self, encode: Encode, per_learner: int = 200, most: int = 200_000) -> None:
        if per_learner < 1 or most < 1:
            raise ValueError(f"per_learner and most must be positive, got {per_learner}, {most}")
        self._encode = encode
        self.per_learner = per_learner
        self.most = most
        self._vectors: dict[str, np.ndarray] = {}
        self._stances = _Stances.empty()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._stances.record)

    def replace(self, votes: Iterable[Vote]) -> None:
        """Hold ``votes`` (all of them: what was held before is dropped)."""
        latest: dict[tuple[str, str, str], Vote] = {}
        for vote in votes:
            key = (vote.record_id, vote.voter, vote.query)
            if key not in latest or vote.at >= latest[key].at:
                latest[key] = vote
        by_voter: dict[str, list[Vote]] = {}
        for vote in sorted(latest.values(), key=lambda v: -v.at):  # newest first
            held = by_voter.setdefault(vote.voter, [])
            if len(held) < self.per_learner:
                held.append(vote)
        rows = sorted((v for held in by_voter.values() for v in held), key=lambda v: -v.at)[: self.most]
        with self._lock:
            known = self._vectors
        texts = sorted({v.query for v in rows})
        new = [t for t in texts if t not in known]
        vectors = {t: known[t] for t in texts if t in known}
        if new:
            vectors.update(zip(new, np.asarray(self._encode(new), dtype=np.float32), strict=True))
        if not rows:
            stances = _Stances.empty()
        else:
            query_of = {t: i for i, t in enumerate(texts)}
            record_ids = tuple(sorted({v.record_id for v in rows}))
            record_of = {r: i for i, r in enumerate(record_ids)}
            voter_of: dict[str, int] = {}
            stances = _Stances(
                queries=np.stack([vectors[t] for t in texts]),
                query=np.asarray([query_of[v.query] for v in rows], dtype=np.int64),
                record=np.asarray([record_of[v.record_id] for v in rows], dtype=np.int64),
                voter=np.asarray([voter_of.setdefault(v.voter, len(voter_of)) for v in rows], dtype=np.int64),
                helpful=np.asarray([v.helpful for v in rows], dtype=bool),
                at=np.asarray([v.at for v in rows], dtype=np.float64),
                record_ids=record_ids,
            )
        with self._lock:
            self._vectors, self._stances = vectors, stances

    def factors(self, config: BoostConfig, query: np.ndarray) -> dict[str, float]:
        """The multiplier of each record the votes move for a query with unit vector ``query``."""
        with self._lock:
            s = self._stances
        if not len(s.record):
            return {}
        rows = np.flatnonzero((s.queries @ query >= config.neighbourhood)[s.query])
        if not len(rows):
            return {}
        # Each learner's latest vote near this query stands: sort by record, learner, time; keep each group's last.
        rows = rows[np.lexsort((s.at[rows], s.voter[rows], s.record[rows]))]
        record, voter = s.record[rows], s.voter[rows]
        last = np.ones(len(rows), dtype=bool)
        last[:-1] = (record[1:] != record[:-1]) | (voter[1:] != voter[:-1])
        stance = rows[last]
        learners = np.bincount(s.record[stance], minlength=len(s.record_ids))
        up = np.bincount(s.record[stance], weights=s.helpful[stance].astype(np.float64), minlength=len(s.record_ids))
        factors = {}
        for position in np.flatnonzero(learners >= config.min_learners):
            n = int(learners[position])
            agreement = (2 * up[position] - n) / n
            confidence = min(1.0, n / (2 * config.min_learners))
            factor = float(config.cap ** (agreement * confidence))
            if factor != 1.0:
                factors[s.record_ids[position]] = factor
        return factors


class FeedbackBoostStage:
    """The pipeline stage: multiplies each voted-on record's fused score by
    its factor (a negative score is divided, so a boost still lifts it)."""

    def __init__(
        self,
        book: VoteBook,
        doc_ids: Sequence[str],
        query_vector: Callable[[str], np.ndarray],
        config: BoostConfig | None = None,
    ) -> None:
        self.book = book
        self.config = config or BoostConfig()
        self.position = {d: i for i, d in enumerate(doc_ids)}
        self.query_vector = query_vector

    def run(self, analyzed: AnalyzedQuery, fused: RecordScores, pool: np.ndarray) -> RecordScores:
        if not len(self.book) or analyzed.company_only or not analyzed.text.strip():
            return fused
        factors = self.book.factors(self.config, self.query_vector(analyzed.text))
        allowed = set(pool.tolist()) if factors else set()
        scores = fused.scores
        for record_id, factor in factors.items():
            position = self.position.get(record_id)
            if position is None or position not in allowed:
                continue
            if scores is fused.scores:
                scores = fused.scores.astype(np.float32, copy=True)
            value = scores[position]
            scores[position] = value * factor if value >= 0 else value / factor
        return fused if scores is fused.scores else RecordScores(scores, fused.best_chunk)
