"""The bounded feedback boost (index.components.boost): who moves a score, how
far, and for which queries.  Vectors are set by hand (unit vectors in 3-d) so
each neighbourhood is exact; tests/test_boost_eval.py replays votes over the
eval sets with the packaged model."""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np
import pytest

from index.components.boost import BoostConfig, Vote, VoteBook

DROPOUT = np.array([1.0, 0.0, 0.0], dtype=np.float32)
NEAR_DROPOUT = np.array([0.9, np.sqrt(1 - 0.81), 0.0], dtype=np.float32)  # cosine 0.9 with DROPOUT
BAGGING = np.array([0.0, 0.0, 1.0], dtype=np.float32)
QUERIES = {"dropout?": DROPOUT, "why does dropout help": NEAR_DROPOUT, "bagging?": BAGGING}


def encode(texts: Sequence[str]) -> np.ndarray:
    return np.stack([QUERIES[t] for t in texts])


def book(votes: list[Vote]) -> VoteBook:
    b = VoteBook(encode)
    b.replace(votes)
    return b


def votes(record: str, learners: int, helpful: bool, query: str = "dropout?", start: int = 0) -> list[Vote]:
    return [Vote(record, f"learner-{start + n}", helpful, query, float(n)) for n in range(learners)]


CONFIG = BoostConfig()  # 3 learners, cap 1.25, neighbourhood 0.75


def test_one_learner_voting_a_hundred_times_moves_nothing() -> None:
    hundred_down = [Vote("q-dropout", "mallory", False, "dropout?", float(t)) for t in range(100)]
    hundred_up = [Vote("q-bagging", "mallory", True, "dropout?", float(t)) for t in range(100)]
    b = book(hundred_down + hundred_up)
    assert len(b) == 2  # one stance per learner, record and query
    assert b.factors(CONFIG, DROPOUT) == {}


def test_fewer_learners_than_the_minimum_move_nothing_and_the_minimum_does() -> None:
    assert book(votes("q-dropout", 2, True)).factors(CONFIG, DROPOUT) == {}
    three = book(votes("q-dropout", 3, True)).factors(CONFIG, DROPOUT)["q-dropout"]
    six = book(votes("q-dropout", 6, True)).factors(CONFIG, DROPOUT)["q-dropout"]
    assert 1.0 < three < six == pytest.approx(1.25)  # confidence grows to full at 2 × the minimum
    assert book(votes("q-dropout", 50, False)).factors(CONFIG, DROPOUT)["q-dropout"] == pytest.approx(0.8)


def test_votes_count_near_the_query_they_were_given_for_only() -> None:
    b = book(votes("q-dropout", 6, False, "why does dropout help"))
    assert b.factors(CONFIG, DROPOUT)["q-dropout"] == pytest.approx(0.8)  # cosine 0.9: a neighbour
    assert b.factors(CONFIG, BAGGING) == {}  # cosine 0: another question
    strict = BoostConfig(neighbourhood=0.95)
    assert b.factors(strict, DROPOUT) == {}


def test_a_split_crowd_cancels_and_each_learner_counts_once_by_their_latest_vote() -> None:
    split = votes("q-dropout", 3, True) + votes("q-dropout", 3, False, start=3)
    assert book(split).factors(CONFIG, DROPOUT) == {}
    # learner-0..2 said 👍 then changed their minds: their 👎 is what stands
    changed = votes("q-dropout", 3, True) + [
        Vote("q-dropout", f"learner-{n}", False, "dropout?", 10.0) for n in range(3)
    ]
    assert book(changed).factors(CONFIG, DROPOUT)["q-dropout"] < 1.0
    # one learner's votes on two neighbouring queries are one stance, the latest
    two_queries = votes("q-dropout", 2, True) + [
        Vote("q-dropout", "learner-0", True, "why does dropout help", 5.0),
    ]
    assert book(two_queries).factors(CONFIG, DROPOUT) == {}  # still two learners


def test_no_crowd_moves_a_score_beyond_the_cap() -> None:
    rng = random.Random(7)
    records = [f"q-{i}" for i in range(5)]
    for _ in range(200):
        cast = [
            Vote(
                rng.choice(records),
                f"learner-{rng.randrange(12)}",
                rng.random() < 0.5,
                rng.choice(list(QUERIES)),
                rng.random(),
            )
            for _ in range(rng.randrange(1, 80))
        ]
        b = book(cast)
        for query in QUERIES.values():
            for factor in b.factors(CONFIG, query).values():
                assert 0.8 - 1e-9 <= factor <= 1.25 + 1e-9


def test_replacing_the_votes_drops_the_old_ones_and_encodes_each_query_once() -> None:
    encoded: list[str] = []

    def counting(texts: Sequence[str]) -> np.ndarray:
        encoded.extend(texts)
        return encode(texts)

    b = VoteBook(counting)
    b.replace(votes("q-dropout", 6, True))
    b.replace(votes("q-bagging", 6, True) + votes("q-bagging", 6, True, "bagging?"))
    assert encoded == ["dropout?", "bagging?"]
    assert set(b.factors(CONFIG, DROPOUT)) == {"q-bagging"}
    b.replace([])
    assert len(b) == 0 and b.factors(CONFIG, DROPOUT) == {}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("min_learners", 1, "one learner must never"), ("cap", 3.0, "cap"), ("neighbourhood", 0.0, "neighbourhood")],
)
def test_a_config_that_would_unbound_the_boost_is_refused(field: str, value: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BoostConfig(**{field: value})


def test_a_learner_keeps_their_latest_stances_only_so_no_one_can_fill_the_book() -> None:
    """A learner sending 1,000 distinct queries holds at most ``per_learner``
    stances (their latest), each distinct query's vector held once."""
    texts = [f"query {n}" for n in range(1000)]
    vectors = {t: DROPOUT for t in texts}

    def encode_any(batch: Sequence[str]) -> np.ndarray:
        return np.stack([vectors.get(t, QUERIES.get(t, BAGGING)) for t in batch])

    b = VoteBook(encode_any, per_learner=50)
    flood = [Vote("q-dropout", "mallory", False, t, float(n)) for n, t in enumerate(texts)]
    b.replace([*flood, *votes("q-dropout", 3, True, start=10)])
    assert len(b) == 50 + 3
    assert b.factors(CONFIG, DROPOUT)["q-dropout"] > 1.0  # mallory is one learner against three, however many queries
    with pytest.raises(ValueError, match="positive"):
        VoteBook(encode, per_learner=0)


def test_the_boost_counts_slack_users_by_default_and_web_learners_only_when_told() -> None:
    """A web learner token costs one request to mint; a Slack user is a
    workspace member.  Anonymous votes and votes without a query never count."""
    from service.boost import votes as counted
    from service.feedback import FeedbackRecord

    def record(source: str, user: str | None, query: str | None = "dropout?") -> FeedbackRecord:
        return FeedbackRecord(1, 1.0, source, "m", query, "q-dropout", True, None, user)

    cast = [
        record("slack", "U1"),
        record("web", "abc"),
        record("api", "def"),
        record("web", None),
        record("slack", "U2", None),
    ]
    assert [v.voter for v in counted(cast)] == ["slack:U1"]
    assert [v.voter for v in counted(cast, "all")] == ["slack:U1", "learner:abc", "learner:def"]
