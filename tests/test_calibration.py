"""Per-model calibration: the title-only fusion, calibration.json stored with
the index, and `qbank tune` fitting it on the dev split."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO
from typer.testing import CliRunner

from eval.dataset import EvalItem
from eval.tune import Evidence, abstention_figures, fit_abstention, fit_fusion
from index.calibration import CALIBRATION_FILE, Calibration, load_calibration, save_calibration
from index.components import AbstentionConfig, FusionWeights, RecordScores, WeightedFusion
from index.embed import Embedder
from index.engine import ingest
from index.search import Searcher
from index.store import IndexArtifact, load_artifact
from qbank.cli import app

ROW = "machine-learning--qr-78"  # an unlinked quick-reference row: its whole text is a title


def scores(values: list[float]) -> RecordScores:
    return RecordScores(np.asarray(values, dtype=np.float32), np.arange(len(values), dtype=np.int64))


def test_title_only_records_are_fused_with_their_own_weights() -> None:
    rows = np.array([False, True])
    fusion = WeightedFusion.calibrated(FusionWeights(0.6, 0.4, 10.0, 0.8, 0.0, 0.05), rows)
    lexical, dense = scores([10.0, 10.0]), scores([0.5, 0.5])
    fused = fusion.run(lexical, dense, np.arange(2)).scores
    assert fused[0] == pytest.approx(0.6 * 0.5 + 0.4 * 0.5)  # BM25 10 / (10 + 10)
    assert fused[1] == pytest.approx(0.8 * 0.5 + 0.05)  # lexical side ignored for the row
    with pytest.raises(ValueError, match="covers 2 records"):
        fusion.run(scores([1.0] * 3), scores([1.0] * 3), np.arange(3))
    with pytest.raises(ValueError, match="together"):
        WeightedFusion(title_only=rows)
    with pytest.raises(ValueError, match="non-negative"):
        FusionWeights(row_dense_weight=-1.0)


def test_the_searcher_marks_unlinked_rows_title_only(searcher: Searcher) -> None:
    marked = {d for d, row in zip(searcher.doc_ids, searcher.title_only, strict=True) if row}
    assert ROW in marked
    assert all(searcher.records[d].kind == "quick_reference" for d in marked)
    assert not any(searcher.records[d].kind == "question" for d in marked)


def test_calibration_round_trips_and_is_ignored_for_another_model(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cal = Calibration("m", {"backend": "onnxruntime", "precision": "fp32"}, FusionWeights(0.5, 0.5), fitted={"a": 1})
    save_calibration(cal, tmp_path)
    assert load_calibration(tmp_path, "m", {"backend": "torch"}) == cal  # same vectors at fp32, whatever the backend
    with caplog.at_level(logging.WARNING, logger="index.calibration"):
        assert load_calibration(tmp_path, "other", {}) is None
        assert load_calibration(tmp_path, "m", {"precision": "int8"}) is None
        (tmp_path / CALIBRATION_FILE).write_text('{"format": 1, "model": "m", "fusion": {"dense_weight": "x"}}')
        assert load_calibration(tmp_path, "m", {}) is None
        (tmp_path / CALIBRATION_FILE).write_bytes(b"\xff\x00")
        assert load_calibration(tmp_path, "m", {}) is None
    assert [r.getMessage().count("built-in weights apply") for r in caplog.records] == [1, 1, 1, 1]
    assert load_calibration(tmp_path / "absent", "m", {}) is None


def test_a_stored_calibration_is_what_search_uses(
    index_copy: Callable[[str], Path], artifact: IndexArtifact, embedder: Embedder
) -> None:
    index = index_copy("index")
    assert load_artifact(index).calibration is None
    weights = FusionWeights(0.3, 0.7, 20.0, 0.9, 0.1, 0.0)
    floors = AbstentionConfig(dense_floor=0.5, bm25_floor=9.0, dense_low=0.2, min_idf=4.0)
    manifest = artifact.manifest
    save_calibration(Calibration(manifest.model, dict(manifest.encoder), weights, floors), index.resolve())
    loaded = load_artifact(index)
    assert loaded.calibration is not None
    searcher = Searcher(loaded, embedder)
    assert searcher.weights == weights and searcher.abstention.config == floors
    fusion = searcher.pipelines["hybrid"].fusion
    assert isinstance(fusion, WeightedFusion) and (fusion.dense_weight, fusion.saturation) == (0.3, 20.0)
    assert Searcher(replace(loaded, calibration=None), embedder).weights == FusionWeights()


def _evidence(
    gold: int, lexical: list[float], dense: list[float], answerable: bool = True, top_dense: float = 0.5
) -> Evidence:
    item = EvalItem(
        "x", "q", "paraphrase" if answerable else "off_topic", ("g",) if answerable else (), False, (), "dev"
    )
    return Evidence(
        item,
        frozenset([gold]) if answerable else frozenset(),
        np.asarray(lexical, dtype=np.float64),
        np.asarray(dense, dtype=np.float64),
        np.arange(len(dense)),
        False,
        top_dense,
        max(lexical),
        -1.0,
    )


def test_fit_fusion_finds_the_weight_that_ranks_the_rows_and_keeps_the_start_without_a_real_gain() -> None:
    rows = np.array([False, True])
    # Three queries whose gold is the row (its cosine is higher, BM25 favours the answer) and one the other way.
    evidence = [_evidence(1, [20.0, 0.0], [0.4, 0.5]) for _ in range(3)] + [_evidence(0, [20.0, 0.0], [0.6, 0.3])]
    start = FusionWeights(0.5, 0.5, 15.0, 0.5, 0.5, 0.0)
    grid = {
        "dense_weight": (0.5,),
        "saturation": (15.0,),
        "row_dense_weight": (0.5, 1.0),
        "row_bm25_weight": (0.5,),
        "row_bias": (0.0, 0.3),
    }
    before, after = fit_fusion({"a": evidence}, rows, start, grid)
    assert (before.hit1, after.hit1) == (0.25, 1.0)
    assert after.weights.row_bias == 0.3 or after.weights.row_dense_weight == 1.0
    _, same = fit_fusion({"a": evidence}, rows, start, grid, min_gain=4)
    assert same.weights == start
    # A set the same setting would rank worse vetoes it: its row should lose to the answer.
    other = [_evidence(0, [20.0, 0.0], [0.45, 0.6])]
    _, vetoed = fit_fusion({"a": evidence, "b": other}, rows, start, grid, min_gain=1)
    assert vetoed.weights == start


def test_fit_abstention_stays_within_the_false_abstain_budget() -> None:
    evidence = [_evidence(0, [1.0], [0.5], top_dense=d) for d in (0.30, 0.36, 0.5, 0.6)]
    evidence += [_evidence(0, [1.0], [0.5], answerable=False, top_dense=d) for d in (0.10, 0.34, 0.38)]
    start = AbstentionConfig(dense_floor=0.39, bm25_floor=7.5, dense_low=0.17, min_idf=3.5)
    before = abstention_figures(evidence, start)
    assert (before.recall, before.false_abstain) == (1.0, 0.5)  # refuses every off-topic query and half the rest
    grid = {"dense_floor": (0.29, 0.35, 0.39), "dense_low": (0.13, 0.29), "bm25_floor": (7.5,), "min_idf": (3.5,)}
    _, strict = fit_abstention(evidence, start, 0.0, grid)
    assert (strict.false_abstain, strict.recall, strict.config.dense_floor) == (0.0, pytest.approx(1 / 3), 0.29)
    _, loose = fit_abstention(evidence, start, 0.25, grid)
    assert (loose.false_abstain, loose.recall, loose.config.dense_floor) == (0.25, pytest.approx(2 / 3), 0.35)


def test_fit_abstention_leaves_no_set_worse_once_the_floors_are_within_budget() -> None:
    """Pooled, raising the floor to 0.30 refuses two more off-topic items of set
    b for one answerable item of set a and stays within the budget; per set it
    makes a worse, so it is not taken while the current floors are within
    budget.  Floors outside the budget are still fitted by the budget alone."""
    grid = {"dense_floor": (0.27, 0.30), "dense_low": (0.17,), "bm25_floor": (50.0,), "min_idf": (3.5,)}
    a = [_evidence(0, [1.0], [0.5], top_dense=d) for d in (0.28, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5)]
    a += [_evidence(0, [1.0], [0.5], answerable=False, top_dense=0.1)]
    b = [_evidence(0, [1.0], [0.5], top_dense=0.5) for _ in range(30)]
    b += [_evidence(0, [1.0], [0.5], answerable=False, top_dense=d) for d in (0.1, 0.28, 0.29)]
    start = AbstentionConfig(dense_floor=0.27, bm25_floor=50.0, dense_low=0.17, min_idf=3.5)
    _, pooled = fit_abstention(a + b, start, 0.05, grid)
    assert (pooled.config.dense_floor, pooled.recall, pooled.false_abstain) == (0.30, 1.0, 0.025)
    before, guarded = fit_abstention({"a": a, "b": b}, start, 0.05, grid)
    assert (before.recall, before.false_abstain) == (0.5, 0.0) and guarded.config == start
    over_budget = AbstentionConfig(dense_floor=0.6, bm25_floor=50.0, dense_low=0.17, min_idf=3.5)
    _, refit = fit_abstention({"a": a, "b": b}, over_budget, 0.05, grid)
    assert refit.config.dense_floor == 0.30  # the start refuses everything: the budget alone decides


def test_floors_within_budget_move_only_for_more_recall() -> None:
    """A lower floor answers one more answerable item and refuses the same off-topic ones:
    fewer false abstains at the same recall.  Floors already within the budget stay;
    floors outside it take the setting."""
    grid = {"dense_floor": (0.27, 0.40), "dense_low": (0.17,), "bm25_floor": (50.0,), "min_idf": (3.5,)}
    answerable = [_evidence(0, [1.0], [0.5], top_dense=d) for d in [0.30] + [0.5] * 39]
    off_topic = [_evidence(0, [1.0], [0.5], answerable=False, top_dense=d) for d in (0.1, 0.2)]
    start = AbstentionConfig(dense_floor=0.40, bm25_floor=50.0, dense_low=0.17, min_idf=3.5)
    before, kept = fit_abstention({"a": answerable + off_topic}, start, 0.05, grid)
    assert (before.recall, before.false_abstain) == (1.0, 0.025) and kept.config == start
    _, lower = fit_abstention({"a": answerable + off_topic}, start, 0.0, grid)  # outside a zero budget
    assert (lower.config.dense_floor, lower.false_abstain) == (0.27, 0.0)


def test_abstention_figures_use_the_best_sentence_when_there_is_one() -> None:
    cfg = AbstentionConfig(dense_floor=0.41, bm25_floor=7.5, dense_low=0.27, min_idf=3.5)
    weak = _evidence(0, [1.0], [0.3], top_dense=0.3)
    assert abstention_figures([weak], cfg).false_abstain == 1.0
    assert abstention_figures([replace(weak, top_sentence=0.45)], cfg).false_abstain == 0.0
    assert abstention_figures([replace(weak, top_sentence=0.2)], cfg).false_abstain == 1.0  # the chunk's still counts


def test_abstention_figures_read_the_best_chunk_of_a_long_question() -> None:
    """A sentence between the floors and a strong BM25 score: a short question answers, a long
    one whose best chunk is under ``long_chunk_floor`` does not (``n_terms`` reaches the rule)."""
    cfg = AbstentionConfig(dense_floor=0.41, bm25_floor=7.5, dense_low=0.27, min_idf=3.5, long_chunk_floor=0.24)
    long = replace(_evidence(0, [20.0], [0.2], top_dense=0.2), top_sentence=0.35, n_terms=12)
    assert abstention_figures([long], cfg).false_abstain == 1.0
    assert abstention_figures([replace(long, n_terms=5)], cfg).false_abstain == 0.0
    assert abstention_figures([long], replace(cfg, long_chunk_floor=0.0)).false_abstain == 0.0


@pytest.mark.slow
def test_qbank_tune_writes_a_calibration_the_index_then_uses(index_copy: Callable[[str], Path]) -> None:
    index = index_copy("index")
    dry = CliRunner().invoke(app, ["tune", "--index", str(index), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "dry run: nothing written" in dry.output and not (index / CALIBRATION_FILE).exists()
    for row in ("hit@1", "mrr@10", "abstain recall", "false-abstain rate"):
        assert row in dry.output
    result = CliRunner().invoke(app, ["tune", "--index", str(index), "--set", "hard"])
    assert result.exit_code == 0, result.output
    data = json.loads((index / CALIBRATION_FILE).read_text(encoding="utf-8"))
    assert data["fitted"]["split"] == "dev" and data["fitted"]["sets"] == "hard"
    assert (
        set(data["fitted"]["before"])
        == set(data["fitted"]["after"])
        == {
            "hit@1",
            "mrr@10",
            "abstain_recall",
            "false_abstain_rate",
        }
    )
    assert load_artifact(index).calibration is not None


def test_qbank_tune_rejects_an_unknown_set() -> None:
    result = CliRunner().invoke(app, ["tune", "--set", "easy"])
    assert result.exit_code == 1 and "unknown set 'easy'" in result.output


@pytest.mark.slow
def test_a_new_ingest_keeps_the_calibration(
    index_copy: Callable[[str], Path], artifact: IndexArtifact, embedder: Embedder
) -> None:
    index = index_copy("index")
    manifest = artifact.manifest
    weights = FusionWeights(0.5, 0.5, 20.0, 0.7, 0.0, 0.05)
    save_calibration(Calibration(manifest.model, dict(manifest.encoder), weights), index.resolve())
    before = index.resolve()
    report = ingest(REPO / "content", index, embedder)
    assert index.resolve() != before  # a new version directory
    assert report.artifact.calibration is not None and report.artifact.calibration.fusion == weights


def test_tune_scores_settings_exactly_as_search_ranks_and_abstains(searcher: Searcher) -> None:
    """The tuner re-scores kept evidence instead of searching: it must agree with search item by item."""
    from eval.dataset import index_record_ids, load_items
    from eval.runner import EvalRunner
    from eval.sets import EVAL_SETS
    from eval.tune import FusionScorer, collect

    single = [
        i for i in load_items(list(EVAL_SETS["hard"].files), index_record_ids(searcher.artifact)) if not i.history
    ]
    items = single[::4]  # every kind, off-topic too; the tuner reads single messages only (collect skips chats)
    runner = EvalRunner(searcher, modes=("hybrid",))
    evidence = collect(searcher, items, runner.targets)
    scorer = FusionScorer(evidence, searcher.title_only)
    hit1, _ = scorer.score(searcher.weights)
    report = runner.run_mode("hybrid", items)
    ranked = [o for o in report.outcomes if o.targets]
    assert hit1 == pytest.approx(sum(o.ranked[0] in o.targets for o in ranked) / len(ranked))
    # The sentence evidence is in what the tuner re-scores, and matters to some item.
    assert all(e.top_sentence is not None for e in evidence)
    assert any(e.top_sentence is not None and e.top_sentence > e.top_dense for e in evidence)
    figures = abstention_figures(evidence, searcher.abstention.config)
    assert figures.off_topic > 0 and figures.answerable > 0
    refused = [not o.answered for o in report.outcomes]
    assert figures.false_abstain * figures.answerable + figures.recall * figures.off_topic == pytest.approx(
        sum(refused)
    )


def test_abstention_figures_refuse_a_query_with_no_topic_word_as_search_does() -> None:
    cfg = AbstentionConfig()
    strong = _evidence(0, [30.0], [0.9], top_dense=0.9)
    assert abstention_figures([strong], cfg).false_abstain == 0.0  # n_terms not known: the floors decide
    assert abstention_figures([replace(strong, n_terms=0)], cfg).false_abstain == 1.0
    assert abstention_figures([replace(strong, n_terms=0, company_only=True)], cfg).false_abstain == 0.0
