"""Retrieval and abstention metrics as pure functions.

Rankings are sequences of record ids, best first; ``gold`` is the set of ids
that answer the query.  Ranking metrics are defined for answerable queries
only (non-empty gold): an off-topic query is scored by abstention instead.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass


def _require_gold(gold: Collection[str]) -> None:
    if not gold:
        raise ValueError("ranking metrics need at least one gold id (score off-topic queries by abstention)")


def _require_k(k: int) -> None:
    if k <= 0:
        raise ValueError(f"k must be positive, got {k}")


def first_hit_rank(ranked: Sequence[str], gold: Collection[str]) -> int | None:
    """1-based rank of the first gold id in ``ranked``, or None when none is there."""
    _require_gold(gold)
    return next((rank for rank, rid in enumerate(ranked, 1) if rid in gold), None)


def hit_at(ranked: Sequence[str], gold: Collection[str], k: int) -> float:
    """1.0 when a gold id is among the first ``k`` results, else 0.0."""
    _require_k(k)
    rank = first_hit_rank(ranked, gold)
    return 1.0 if rank is not None and rank <= k else 0.0


def reciprocal_rank(ranked: Sequence[str], gold: Collection[str], k: int = 10) -> float:
    """1/rank of the first gold id within the first ``k`` results (0.0 beyond)."""
    _require_k(k)
    rank = first_hit_rank(ranked, gold)
    return 1.0 / rank if rank is not None and rank <= k else 0.0


def ndcg(ranked: Sequence[str], gold: Collection[str], k: int = 10) -> float:
    """nDCG@k with binary relevance: every gold id counts 1, the ideal ranking
    puts min(len(gold), k) of them first."""
    _require_gold(gold)
    _require_k(k)
    dcg = sum(1.0 / math.log2(rank + 1) for rank, rid in enumerate(ranked[:k], 1) if rid in gold)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(set(gold)), k) + 1))
    return dcg / ideal


def mean(values: Iterable[float]) -> float | None:
    """Arithmetic mean, or None for no values (a metric over nothing is undefined, not zero)."""
    values = list(values)
    return sum(values) / len(values) if values else None


def ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def percentile(values: Iterable[float], q: float) -> float | None:
    """The q-th percentile (0-100) with linear interpolation between order
    statistics (numpy's default method); None for no values."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0-100, got {q}")
    ordered = sorted(values)
    if not ordered:
        return None
    pos = (len(ordered) - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


@dataclass(frozen=True, slots=True)
class Abstention:
    """Counts of abstentions (``answerable`` false) split by whether the query
    was off-topic, and the rates derived from them."""

    off_topic: int
    answerable: int
    abstained_off_topic: int
    abstained_answerable: int

    @property
    def precision(self) -> float | None:
        """Off-topic items abstained / all items abstained."""
        return ratio(self.abstained_off_topic, self.abstained_off_topic + self.abstained_answerable)

    @property
    def recall(self) -> float | None:
        """Off-topic items abstained / off-topic items."""
        return ratio(self.abstained_off_topic, self.off_topic)

    @property
    def false_abstain_rate(self) -> float | None:
        """Answerable items abstained / answerable items."""
        return ratio(self.abstained_answerable, self.answerable)


def abstention(outcomes: Iterable[tuple[bool, bool]]) -> Abstention:
    """Tally ``(is_off_topic, abstained)`` pairs."""
    off = ans = abs_off = abs_ans = 0
    for is_off_topic, abstained in outcomes:
        if is_off_topic:
            off += 1
            abs_off += abstained
        else:
            ans += 1
            abs_ans += abstained
    return Abstention(off, ans, abs_off, abs_ans)
