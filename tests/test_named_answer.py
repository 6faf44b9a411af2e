"""A query naming a full answer's title is answered by it, not by a quick-reference row
whose short title takes a higher cosine (index.components.titles): the component on
vectors, then the real index."""

from __future__ import annotations

import numpy as np
import pytest

from index.components.scores import RecordScores
from index.components.titles import NamedAnswerFirst, names_title
from index.query import AnalyzedQuery
from index.search import Searcher

Q = "machine-learning--"


def analyzed(*terms: str) -> AnalyzedQuery:
    return AnalyzedQuery(" ".join(terms), " ".join(terms), (), terms, ())


TITLES = [frozenset({"lightgbm", "xgboost", "comparison"}), frozenset({"xgboost", "differ", "random", "forest"})]
ROW = np.array([True, False])


@pytest.mark.parametrize(("answer", "leads"), [(0.81, 1), (0.79, 0)])
def test_the_named_answer_leads_when_it_scores_the_share_of_the_row(answer: float, leads: int) -> None:
    stage = NamedAnswerFirst(TITLES, ROW, share=0.8)
    fused = RecordScores(np.array([1.0, answer], dtype=np.float32), np.zeros(2, dtype=np.int64))
    out = stage.run(analyzed("xgboost"), fused, np.arange(2))
    assert int(np.argmax(out.scores)) == leads
    assert out.scores[0] == 1.0  # the row keeps its score; the answer is raised just above it


def test_nothing_changes_when_an_answer_leads_or_the_title_does_not_name_the_query() -> None:
    stage = NamedAnswerFirst(TITLES, ROW)
    fused = RecordScores(np.array([1.0, 0.95], dtype=np.float32), np.zeros(2, dtype=np.int64))
    assert stage.run(analyzed("lightgbm"), fused, np.arange(2)) is fused  # only the row's title names it
    ahead = RecordScores(np.array([0.9, 1.0], dtype=np.float32), np.zeros(2, dtype=np.int64))
    assert stage.run(analyzed("xgboost"), ahead, np.arange(2)) is ahead
    assert stage.run(analyzed(), fused, np.arange(2)) is fused  # a company list has no topic words


ANSWERS = [frozenset({"gradient", "descent", "work"}), frozenset({"neural", "network", "optimiz", "adam"})]


@pytest.mark.parametrize(("named", "leads"), [(0.96, 1), (0.94, 0)])
def test_between_full_answers_the_named_one_leads_when_it_is_close(named: float, leads: int) -> None:
    """Two full answers: the one whose title names the query leads when it scores at least
    ``answer_share`` of the leader, whose title does not."""
    stage = NamedAnswerFirst(ANSWERS, np.array([False, False]), answer_share=0.95)
    fused = RecordScores(np.array([1.0, named], dtype=np.float32), np.zeros(2, dtype=np.int64))
    assert int(np.argmax(stage.run(analyzed("adam", "optimizer"), fused, np.arange(2)).scores)) == leads
    both = [frozenset({"adam", "optimizer", "sgd"}), ANSWERS[1]]  # the leader's title names it too: it stays
    out = NamedAnswerFirst(both, np.array([False, False])).run(analyzed("adam"), fused, np.arange(2))
    assert out is fused


@pytest.mark.parametrize("share", [0.0, -0.1, 1.5])
def test_share_outside_0_to_1_is_refused(share: float) -> None:
    with pytest.raises(ValueError, match="share"):
        NamedAnswerFirst(TITLES, ROW, share=share)


def test_a_word_names_a_title_word_it_starts() -> None:
    assert names_title(["batch", "norm"], frozenset({"batch", "normaliz", "help"}))
    assert not names_title(["bn"], frozenset({"batch", "normaliz"}))  # too short to be a start
    assert names_title(["batchnorm"], frozenset({"batch", "normaliz", "help"}))  # two title words run together
    assert not names_title(["batchnorm"], frozenset({"batch", "size"}))  # each part must name one
    assert not names_title(["dropout"], frozenset({"drop", "outlier"}))  # parts of four letters or more
    assert names_title(["optimizer"], frozenset({"optimiz", "adam"}))  # an ending the title's stem lost
    assert not names_title(["normal"], frozenset({"norm"}))  # the title word under six letters: no


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("xgboost", Q + "what-is-xgboost-and-how-does-it-differ-from-random-forest"),
        ("hyperparameters", Q + "what-is-hyperparameter-tuning-explain-grid-search-random-search-and-bayesian"),
        ("anomaly detection", Q + "qr-33"),  # no full answer's title names it: the row
        ("lightgbm vs xgboost", Q + "qr-46"),
        (
            "explain the adam optimizer",
            Q + "what-is-neural-network-optimization-explain-adam-and-learning-rate-schedules",
        ),
    ],
)
def test_on_the_bank(searcher: Searcher, query: str, expected: str) -> None:
    assert searcher.search(query, k=3).hits[0].record.id == expected
