"""The eval metrics on hand-made rankings with known answers, their
aggregation over outcomes, and the gate's reading of them."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest

from eval import metrics
from eval.dataset import EvalItem
from eval.gate import Gate, metric_value
from eval.runner import ModeReport, Outcome, RankingMetrics, ranking_metrics, split_metrics

LOG3 = 1 / math.log2(3)  # DCG gain at rank 2
RANKED = ("x", "g1", "y", "g2", "z")


@pytest.mark.parametrize(
    ("ranked", "gold", "expected"),
    [
        (RANKED, {"g1"}, 2),
        (RANKED, {"g2", "g1"}, 2),
        (RANKED, {"x"}, 1),
        (RANKED, {"absent"}, None),
        ((), {"g1"}, None),
    ],
)
def test_first_hit_rank(ranked: tuple[str, ...], gold: set[str], expected: int | None) -> None:
    assert metrics.first_hit_rank(ranked, gold) == expected


@pytest.mark.parametrize(("k", "expected"), [(1, 0.0), (2, 1.0), (3, 1.0), (10, 1.0)])
def test_hit_at(k: int, expected: float) -> None:
    assert metrics.hit_at(RANKED, {"g1"}, k) == expected


@pytest.mark.parametrize(
    ("gold", "k", "expected"),
    [
        ({"x"}, 10, 1.0),
        ({"g1"}, 10, 0.5),
        ({"g2"}, 10, 0.25),
        ({"g2"}, 3, 0.0),  # beyond the cut-off
        ({"g1", "g2"}, 10, 0.5),  # the first gold counts
        ({"absent"}, 10, 0.0),
    ],
)
def test_reciprocal_rank(gold: set[str], k: int, expected: float) -> None:
    assert metrics.reciprocal_rank(RANKED, gold, k) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("ranked", "gold", "k", "expected"),
    [
        (("g",), {"g"}, 10, 1.0),
        (("x", "g"), {"g"}, 10, LOG3),
        (RANKED, {"g1", "g2"}, 10, (LOG3 + 1 / math.log2(5)) / (1 + LOG3)),
        (("g1", "x", "g2"), {"g1", "g2"}, 10, (1 + 0.5) / (1 + LOG3)),
        (("g1",), {"g1", "g2", "g3"}, 10, 1 / (1 + LOG3 + 0.5)),  # unretrieved gold lowers the score
        (tuple(f"g{i}" for i in range(10)), {f"g{i}" for i in range(12)}, 10, 1.0),  # ideal capped at k
        (tuple(f"x{i}" for i in range(10)) + ("g",), {"g"}, 10, 0.0),  # rank 11 is past k
        (("x", "y"), {"g"}, 10, 0.0),
    ],
)
def test_ndcg(ranked: tuple[str, ...], gold: set[str], k: int, expected: float) -> None:
    assert metrics.ndcg(ranked, gold, k) == pytest.approx(expected)


@pytest.mark.parametrize("fn", [metrics.first_hit_rank, metrics.ndcg])
def test_ranking_metrics_refuse_empty_gold(fn) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="at least one gold id"):
        fn(RANKED, set())


def test_k_must_be_positive() -> None:
    with pytest.raises(ValueError, match="k must be positive"):
        metrics.hit_at(RANKED, {"g1"}, 0)


def test_percentile_matches_numpy_linear() -> None:
    rng = np.random.default_rng(7)
    values = rng.gamma(2.0, 10.0, size=57).tolist()
    for q in (0, 5, 50, 95, 100):
        assert metrics.percentile(values, q) == pytest.approx(float(np.percentile(values, q)))
    assert metrics.percentile([1, 2, 3, 4], 50) == 2.5
    assert metrics.percentile(range(1, 101), 95) == pytest.approx(95.05)
    assert metrics.percentile([], 50) is None
    with pytest.raises(ValueError, match="0-100"):
        metrics.percentile([1.0], 101)


def test_mean_and_ratio_are_undefined_over_nothing() -> None:
    assert metrics.mean([]) is None
    assert metrics.mean([1.0, 0.0, 0.5]) == 0.5
    assert metrics.ratio(1, 0) is None
    assert metrics.ratio(1, 4) == 0.25


def test_abstention_rates() -> None:
    # 4 off-topic (3 abstained), 10 answerable (1 abstained)
    pairs = [(True, True)] * 3 + [(True, False)] + [(False, True)] + [(False, False)] * 9
    a = metrics.abstention(pairs)
    assert (a.off_topic, a.answerable, a.abstained_off_topic, a.abstained_answerable) == (4, 10, 3, 1)
    assert a.precision == 0.75
    assert a.recall == 0.75
    assert a.false_abstain_rate == pytest.approx(0.1)


def test_abstention_without_any_abstention() -> None:
    a = metrics.abstention([(True, False), (False, False)])
    assert a.precision is None
    assert a.recall == 0.0
    assert a.false_abstain_rate == 0.0


# -- aggregation over outcomes ---------------------------------------------------


def item(
    id_: str, kind: str, gold: tuple[str, ...], needs_code: bool = False, history: tuple[str, ...] = ()
) -> EvalItem:
    return EvalItem(id_, f"query {id_}", kind, gold, needs_code, history, "test")


def outcome(
    it: EvalItem,
    ranked: tuple[str, ...],
    answered: bool = True,
    code: bool = False,
    ms: float = 10.0,
    last: tuple[str, ...] | None = None,
) -> Outcome:
    return Outcome(it, it.gold, it.query, ranked, ranked[0] if ranked else None, answered, code, ms, last)


OUTCOMES = [
    outcome(item("a", "keyword", ("g",)), ("g", "x"), ms=10),
    outcome(item("b", "keyword", ("g",)), ("x", "g"), ms=20),
    outcome(item("c", "code", ("h",), needs_code=True), ("h",), code=True, ms=30),
    outcome(item("d", "code", ("h",), needs_code=True), ("x", "y", "z", "h"), answered=False, ms=40),
    outcome(item("e", "off_topic", ()), ("x",), answered=False, ms=50),
    outcome(item("f", "off_topic", ()), ("x",), answered=True, ms=60),
    outcome(item("m", "multi_turn", ("g",), history=("earlier",)), ("g",), ms=70, last=("x", "g")),
]


def test_ranking_metrics_skip_off_topic_items() -> None:
    m = ranking_metrics(OUTCOMES, k=10)
    assert m is not None
    assert m.n == 5
    assert m.hit(1) == pytest.approx(3 / 5)
    assert m.hit(2) == pytest.approx(4 / 5)
    assert m.hit(4) == m.hit(10) == 1.0
    assert m.mrr == pytest.approx((1 + 0.5 + 1 + 0.25 + 1) / 5)
    assert ranking_metrics(OUTCOMES[4:6], k=10) is None


def test_split_metrics() -> None:
    m = split_metrics(OUTCOMES, k=10)
    assert m.items == 7
    assert set(m.per_kind) == {"keyword", "code", "multi_turn"}
    assert m.per_kind["keyword"].hit(1) == 0.5
    assert m.per_kind["code"].mrr == pytest.approx(0.625)
    a = m.abstention
    assert (a.precision, a.recall, a.false_abstain_rate) == (0.5, 0.5, 0.2)
    assert m.code_share == 0.5
    assert (m.multi_turn_hit1, m.multi_turn_hit1_last_message) == (1.0, 0.0)
    assert m.latency_median_ms == 40.0
    assert m.latency_p95_ms == pytest.approx(67.0)


# -- the gate ----------------------------------------------------------------------


def report_with(hit1: float, mrr: float) -> ModeReport:
    ranking = RankingMetrics(n=10, hit_curve=(hit1,) + (1.0,) * 9, mrr=mrr, ndcg=0.9)
    split = split_metrics(OUTCOMES, k=10)
    split = dataclasses.replace(split, overall=ranking)
    return ModeReport("hybrid", 10, (), {"test": split}, (), 1.0)


def thresholds(minimums: dict[str, float]) -> str:
    return json.dumps({"mode": "hybrid", "split": "test", "sets": {"s": {"min": minimums}}})


def test_gate_reads_the_committed_thresholds() -> None:
    gate = Gate.load()
    assert (gate.mode, gate.split, gate.eval_set) == ("hybrid", "test", "standard")
    kinds = {f"{kind}:hit@1" for kind in ("topic_switch", "follow_up", "company_list", "multi_turn")}
    assert set(gate.minimums) == {"hit@1", "mrr@10", *kinds}


def test_gate_reads_one_kinds_figures(tmp_path: Path) -> None:
    report = report_with(0.9, 0.9)
    switch = RankingMetrics(n=20, hit_curve=(0.9,) + (1.0,) * 9, mrr=0.95, ndcg=0.95)
    split = dataclasses.replace(report.splits["test"], per_kind={"topic_switch": switch})
    report = dataclasses.replace(report, splits={"test": split})
    path = tmp_path / "thresholds.json"
    path.write_text(thresholds({"topic_switch:hit@1": 0.95}))
    gate = Gate.load("s", path)
    assert gate.measured(report) == {"topic_switch:hit@1": 0.9}
    assert gate.violations(report) == ["s hybrid test topic_switch:hit@1 0.900 < 0.950"]
    path.write_text(thresholds({"follow_up:hit@1": 0.95}))
    with pytest.raises(ValueError, match="no 'follow_up' items"):
        Gate.load("s", path).measured(report)


@pytest.mark.parametrize(
    ("hit1", "mrr", "failing"),
    [(0.80, 0.85, []), (0.70, 0.85, ["hit@1"]), (0.80, 0.70, ["mrr@10"]), (0.5, 0.5, ["hit@1", "mrr@10"])],
)
def test_gate_violations(tmp_path: Path, hit1: float, mrr: float, failing: list[str]) -> None:
    path = tmp_path / "thresholds.json"
    path.write_text(thresholds({"hit@1": 0.75, "mrr@10": 0.8}))
    violations = Gate.load("s", path).violations(report_with(hit1, mrr))
    assert [v.split()[3] for v in violations] == failing


def test_gate_metric_names() -> None:
    ranking = RankingMetrics(n=1, hit_curve=(0.25, 0.5, 0.75), mrr=0.4, ndcg=0.6)
    assert metric_value(ranking, "hit@2", k=3) == 0.5
    assert metric_value(ranking, "ndcg@3", k=3) == 0.6
    with pytest.raises(ValueError, match="k=3"):
        metric_value(ranking, "mrr@10", k=3)
    with pytest.raises(ValueError, match="unknown gate metric"):
        metric_value(ranking, "recall@3", k=3)
