"""Abstention with sentence evidence: the best sentence unit's cosine beside the
best chunk's decides whether to answer; rankings and scores stay as they were.

The searcher "before" is the same index without its sentence units, which is
what an index built before them gives (chunk evidence, CHUNK_ONLY_FLOORS)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from eval.dataset import index_record_ids, load_items
from eval.sets import EVAL_SETS
from index.calibration import CALIBRATION_FILE, Calibration, save_calibration
from index.components import AbstentionConfig, FusionWeights
from index.components.abstain import CHUNK_ONLY_FLOORS, EVIDENCE_CHUNKS, EVIDENCE_SENTENCES, Abstention, dense_evidence
from index.embed import Embedder
from index.search import Searcher
from index.store import IndexArtifact, load_artifact

# A described topic of the hard set's dev split, refused by the chunk-only rule: its best unit is one row of
# a table in the overfitting answer ("Feature selection: How It Helps Reduces irrelevant noise", cosine
# 0.48), while every section of that answer as a whole is below 0.39.
SENTENCE_ANSWERED = "how do i tell if my model memorised the noise or is too dumb to pick up anything at all"
# Off-topic items of the standard set's dev split whose best sentence is closer than their best chunk.
OFF_TOPIC = ("sql left join vs inner join", "javascript closures explained")


@pytest.fixture(scope="module")
def chunks_only(artifact: IndexArtifact, embedder: Embedder) -> Searcher:
    return Searcher(replace(artifact, sentences=None), embedder)


@pytest.fixture(scope="module")
def units_no_bonus(artifact: IndexArtifact, embedder: Embedder) -> Searcher:
    """The units as abstention evidence only: the short-query ranking bonus off (tests/test_sentence_bonus.py)."""
    return Searcher(artifact, embedder, weights=FusionWeights(sentence_weight=0.0))


def evidence(searcher: Searcher, query: str) -> tuple[float, float | None]:
    """The best chunk's (record-aggregated) cosine and the best sentence unit's, as search computes them."""
    cosines = searcher.dense.run(searcher.analyzer.run(query), use_cache=False)
    return float(searcher.aggregate.run(cosines).scores.max()), searcher.abstention.best_sentence(cosines)


def test_the_floors_follow_the_evidence(searcher: Searcher, chunks_only: Searcher) -> None:
    assert searcher.abstention.evidence == EVIDENCE_SENTENCES and searcher.abstention.config == AbstentionConfig()
    assert chunks_only.abstention.evidence == EVIDENCE_CHUNKS and chunks_only.abstention.config == CHUNK_ONLY_FLOORS
    assert dense_evidence(0.3, None) == 0.3 and dense_evidence(0.3, 0.5) == 0.5 and dense_evidence(0.3, 0.2) == 0.3


def test_a_query_one_sentence_answers_is_answered_now(
    searcher: Searcher, chunks_only: Searcher, units_no_bonus: Searcher
) -> None:
    chunk, sentence = evidence(searcher, SENTENCE_ANSWERED)
    assert sentence is not None
    # The rule's reason, not a listed query: no chunk clears the chunk-only floor, a sentence clears the new one.
    assert chunk < CHUNK_ONLY_FLOORS.dense_floor and sentence >= AbstentionConfig().dense_floor
    before, now = chunks_only.search(SENTENCE_ANSWERED), units_no_bonus.search(SENTENCE_ANSWERED)
    assert not before.answerable and now.answerable
    assert [(h.record.id, h.score) for h in before.hits] == [(h.record.id, h.score) for h in now.hits]
    assert now.hits[0].record.id == "machine-learning--what-is-overfitting-and-how-do-you-prevent-it"
    assert searcher.search(SENTENCE_ANSWERED).answerable  # the bonus, where it applies, changes no decision


@pytest.mark.parametrize("query", OFF_TOPIC)
def test_off_topic_queries_stay_refused_though_a_sentence_is_closer(
    searcher: Searcher, chunks_only: Searcher, query: str
) -> None:
    chunk, sentence = evidence(searcher, query)
    assert sentence is not None and sentence > chunk  # the sentence evidence counts, and is still too weak
    assert not searcher.search(query).answerable and not chunks_only.search(query).answerable


def test_rankings_of_every_eval_query_are_unchanged(units_no_bonus: Searcher, chunks_only: Searcher) -> None:
    """As abstention evidence, sentence units change no ranking: every single-message eval query ranks the same
    records with the same scores (all three API modes) when the ranking bonus is off."""
    searcher = units_no_bonus
    ids = index_record_ids(searcher.artifact)
    queries = [i.query for name in EVAL_SETS for i in load_items(list(EVAL_SETS[name].files), ids) if not i.history]
    assert len(queries) > 400
    flips = 0
    for query in queries:
        for mode in ("hybrid", "bm25", "dense"):
            a, b = chunks_only.search(query, mode=mode), searcher.search(query, mode=mode)
            assert [(h.record.id, h.score, h.dense_score, h.bm25_score) for h in a.hits] == [
                (h.record.id, h.score, h.dense_score, h.bm25_score) for h in b.hits
            ], (query, mode)
            flips += a.answerable != b.answerable
    assert flips > 0  # the decision does change


def test_a_calibration_fitted_on_chunk_evidence_keeps_its_weights_not_its_floors(
    index_copy: Callable[[str], Path], artifact: IndexArtifact, embedder: Embedder
) -> None:
    index = index_copy("index")
    weights = FusionWeights(0.6, 0.4, 20.0, 0.8, 0.0, 0.05)
    floors = AbstentionConfig(dense_floor=0.45, bm25_floor=9.0, dense_low=0.2, min_idf=4.0)
    m = artifact.manifest
    path = save_calibration(Calibration(m.model, dict(m.encoder), weights, floors), index.resolve())
    fitted_now = Searcher(load_artifact(index), embedder)
    assert fitted_now.weights == weights and fitted_now.abstention.config == floors
    data = json.loads(path.read_text())
    assert data["abstention_evidence"] == EVIDENCE_SENTENCES
    del data["abstention_evidence"]  # a file `qbank tune` wrote before sentence units
    (index / CALIBRATION_FILE).write_text(json.dumps(data))
    loaded = load_artifact(index)
    older = Searcher(loaded, embedder)
    assert older.weights == weights and older.abstention.config == AbstentionConfig()
    no_units = Searcher(replace(loaded, sentences=None), embedder)  # the index it was fitted for
    assert no_units.abstention.config == floors


def test_unit_rows_are_the_units_of_the_chunks_asked_for(artifact: IndexArtifact) -> None:
    vectors = np.eye(5, 8, dtype=np.float32)
    abstention = Abstention(artifact.sparse, None, vectors, np.array([3, 0, 3, 1, 0]))
    assert abstention.unit_rows(np.array([3, 1])).tolist() == [0, 2, 3]
    assert abstention.unit_rows(np.array([0, 2, 3])).tolist() == [1, 4, 0, 2]  # chunk 2 has none
    assert abstention.unit_rows(np.array([2], dtype=np.int64)).tolist() == []
    assert abstention.unit_rows(np.array([], dtype=np.int64)).tolist() == []
    with pytest.raises(ValueError, match="position of its chunk"):
        Abstention(artifact.sparse, None, vectors, np.array([0, 1]))


def test_the_sentence_evidence_is_the_best_unit_of_the_dense_candidates(searcher: Searcher) -> None:
    """Only the chunks the dense search returned are read (a few hundred rows at any bank size),
    and their best unit is what a scan of all of their units finds."""
    units = searcher.artifact.sentences
    assert units is not None
    for query in (SENTENCE_ANSWERED, *OFF_TOPIC):
        cosines = searcher.dense.run(searcher.analyzer.run(query), use_cache=False)
        assert cosines.query is not None and cosines.candidates is not None
        assert len(cosines.candidates) == min(searcher.dense.candidates, len(searcher.artifact.chunks))
        theirs = np.isin(units.chunks, cosines.candidates)
        expected = float((units.embeddings[theirs] @ cosines.query).max())
        assert searcher.abstention.best_sentence(cosines) == pytest.approx(expected, abs=1e-6)
        everything = replace(cosines, candidates=None)  # no candidates named: every unit
        assert searcher.abstention.best_sentence(everything) == pytest.approx(
            float((units.embeddings @ cosines.query).max()), abs=1e-6
        )
