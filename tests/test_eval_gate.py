"""The CI gate: hybrid retrieval on the test split must reach the thresholds
committed in eval/thresholds.json.  Also: the runner over the real index,
the reports it writes, and `qbank eval` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eval.dataset import SPLIT_SEED, EvalItem, index_record_ids, load_items, select_split
from eval.gate import Gate
from eval.report import RunInfo, write_reports
from eval.runner import EvalRunner, ModeReport
from eval.sets import EVAL_SETS, choose_sets
from index.engine import IngestReport
from index.search import Searcher
from qbank.cli import app

QUERIES = EVAL_SETS["standard"].files[0]
L1L2 = "machine-learning--explain-l1-lasso-vs-l2-ridge-regularization"
DROPOUT = "machine-learning--what-is-dropout-and-why-does-it-work"
DROPOUT_QUICK_REF = "machine-learning--qr-36"


def _test_items(searcher: Searcher, eval_set: str) -> tuple[EvalItem, ...]:
    return select_split(load_items(list(EVAL_SETS[eval_set].files), index_record_ids(searcher.artifact)), "test")


@pytest.fixture(scope="module")
def test_items(searcher: Searcher) -> tuple[EvalItem, ...]:
    return _test_items(searcher, "standard")


@pytest.fixture(scope="module")
def hybrid_test(searcher: Searcher, test_items: tuple[EvalItem, ...]) -> ModeReport:
    return EvalRunner(searcher, modes=("hybrid",), k=10).run_mode("hybrid", test_items)


@pytest.mark.slow
def test_hybrid_meets_the_committed_gate(hybrid_test: ModeReport) -> None:
    gate = Gate.load("standard")
    assert (gate.mode, gate.split) == ("hybrid", "test")
    misses = [f"{f.item.id} {f.item.query!r}: {'; '.join(f.problems)}" for f in hybrid_test.failures]
    assert gate.violations(hybrid_test) == [], "\n".join(misses)


@pytest.mark.slow
def test_hybrid_meets_the_committed_gate_on_the_hard_set(searcher: Searcher) -> None:
    gate = Gate.load("hard")
    assert (gate.mode, gate.split) == ("hybrid", "test")
    assert {"quick_ref:hit@1", "paraphrase:hit@1", "abstain_recall"} <= set(gate.minimums)
    assert set(gate.maximums) == {"false_abstain_rate"}
    report = EvalRunner(searcher, modes=("hybrid",), k=10).run_mode("hybrid", _test_items(searcher, "hard"))
    misses = [f"{f.item.id} {f.item.query!r}: {'; '.join(f.problems)}" for f in report.failures]
    assert gate.violations(report) == [], "\n".join(misses[:40])


def test_every_named_set_is_gated() -> None:
    assert set(Gate.load_all()) == set(EVAL_SETS)
    assert choose_sets("all") == tuple(EVAL_SETS.values())
    with pytest.raises(ValueError, match="unknown set 'easy'"):
        choose_sets("easy")


def test_a_maximum_is_checked_from_above(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    data = {"mode": "bm25", "split": "dev", "sets": {"x": {"min": {"hit@1": 0.0}, "max": {"false_abstain_rate": 0.0}}}}
    path.write_text(json.dumps(data), encoding="utf-8")
    gate = Gate.load("x", path)
    assert gate.maximums == {"false_abstain_rate": 0.0}
    data["sets"]["x"]["max"] = {"hit@1": 0.5}
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match="only false_abstain_rate can be a maximum"):
        Gate.load("x", path)


@pytest.mark.slow
def test_reports_are_written(hybrid_test: ModeReport, test_items: tuple[EvalItem, ...], tmp_path: Path) -> None:
    info = RunInfo("2000-01-02", str(QUERIES), len(test_items), "test", SPLIT_SEED, 10, {"model": "m"})
    files = write_reports([hybrid_test], tmp_path, info)
    assert files.modes == {"hybrid": tmp_path / "2000-01-02-hybrid.json"}
    data = json.loads(files.modes["hybrid"].read_text(encoding="utf-8"))
    overall = hybrid_test.splits["test"].overall
    assert overall is not None
    assert data["splits"]["test"]["overall"]["hit@1"] == pytest.approx(overall.hit(1), abs=1e-4)
    assert data["splits"]["test"]["overall"]["mrr@10"] == pytest.approx(overall.mrr, abs=1e-4)
    assert len(data["outcomes"]) == len(test_items)
    assert files.chart == tmp_path / "2000-01-02-chart.png"
    assert files.chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    failures = files.failures.read_text(encoding="utf-8")
    assert all(f"**{f.item.id}**" in failures for f in hybrid_test.failures)
    assert "| hybrid |" in files.summary.read_text(encoding="utf-8")


@pytest.mark.slow
def test_runner_scores_every_item(hybrid_test: ModeReport, test_items: tuple[EvalItem, ...]) -> None:
    assert [o.item.id for o in hybrid_test.outcomes] == [i.id for i in test_items]
    assert set(hybrid_test.splits) == {"test"}
    answerable = sum(i.answerable for i in test_items)
    assert hybrid_test.splits["test"].overall is not None
    assert hybrid_test.splits["test"].overall.n == answerable
    assert all(1 <= len(o.ranked) <= 10 and o.latency_ms > 0 for o in hybrid_test.outcomes)


def test_linked_quick_reference_gold_counts_as_its_question(searcher: Searcher) -> None:
    # Row 36 "Dropout in Neural Networks" is linked to the dropout question, so search never returns the row.
    row = searcher.records[DROPOUT_QUICK_REF]
    assert row.kind == "quick_reference" and row.question_id == DROPOUT
    item = EvalItem("x", "randomly turning off neurons", "paraphrase", (DROPOUT_QUICK_REF, DROPOUT), False, (), "dev")
    runner = EvalRunner(searcher, modes=("bm25",))
    assert runner.targets(item) == (DROPOUT,)
    (outcome,) = runner.run_mode("bm25", [item]).outcomes
    assert outcome.targets == (DROPOUT,)
    assert DROPOUT in outcome.ranked


def test_multi_turn_items_are_rewritten_with_their_history(searcher: Searcher) -> None:
    item = EvalItem("m", "and why does it work?", "multi_turn", (DROPOUT,), False, ("what is dropout",), "dev")
    report = EvalRunner(searcher, modes=("bm25",)).run_mode("bm25", [item])
    (outcome,) = report.outcomes
    assert outcome.searched == "what is dropout and why does it work?"
    assert outcome.ranked[0] == DROPOUT
    assert outcome.ranked_last_message is not None and outcome.ranked_last_message[0] != DROPOUT
    split = report.splits["dev"]
    assert (split.multi_turn_hit1, split.multi_turn_hit1_last_message) == (1.0, 0.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"modes": ("hybrid", "rerank")}, "unknown mode"), ({"modes": ()}, "no modes"), ({"k": 3}, "at least 5")],
)
def test_runner_rejects_bad_settings(searcher: Searcher, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EvalRunner(searcher, **kwargs)  # type: ignore[arg-type]


@pytest.mark.slow
def test_qbank_eval_command(built: IngestReport, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    args = ["eval", "--index", str(built.path), "--modes", "bm25", "--split", "test", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "#### standard set" in result.output and "#### hard set" in result.output
    assert result.output.count("== bm25 ==") == 2
    for row in ("overall", "paraphrase", "quick_ref", "multi_turn", "false-abstain rate", "latency ms median / p95"):
        assert row in result.output
    names = sorted(p.name.split("-", 3)[-1] for p in out.iterdir() if p.is_file())
    assert names == ["bm25.json", "chart.png", "failures.md", "summary.md"]
    hard = sorted(p.name.split("-", 3)[-1] for p in (out / "hard").iterdir())
    assert hard == names
    hard_report = json.loads(next((out / "hard").glob("*-bm25.json")).read_text(encoding="utf-8"))
    assert len(hard_report["outcomes"]) == len(_test_items_ids("hard"))


def _test_items_ids(eval_set: str) -> list[str]:
    return [i.id for i in select_split(load_items(list(EVAL_SETS[eval_set].files)), "test")]


def test_qbank_eval_takes_a_set_or_queries_not_both(tmp_path: Path) -> None:
    args = ["eval", "--set", "hard", "--queries", str(QUERIES), "--out", str(tmp_path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1 and "give --set or --queries, not both" in result.output
    result = CliRunner().invoke(app, ["eval", "--set", "easy", "--out", str(tmp_path)])
    assert result.exit_code == 1 and "unknown set 'easy'" in result.output
    assert not any(tmp_path.iterdir())


def test_qbank_eval_rejects_unknown_mode(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["eval", "--modes", "hybrid,bogus", "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "unknown mode(s) bogus" in result.output
    assert not any(tmp_path.iterdir())
