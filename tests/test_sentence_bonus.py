"""The short-query sentence bonus (``index.components.units.SentenceBonus``): a
query of at most ``FusionWeights.sentence_max_terms`` topic words adds
``sentence_weight`` × each record's dense evidence (the larger of its best
chunk's and its best sentence unit's cosine) to its fused score; longer
queries rank as before.  Measured in eval/README.md ("Levers on the hard
set"); here, what it does to real searches of the shipped bank."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from eval.dataset import EvalItem
from eval.tune import FusionScorer, collect
from index.components import ChunkScores, FusionWeights, RecordScores
from index.components.units import SentenceBonus, UnitScorer
from index.embed import Embedder
from index.query import AnalyzedQuery
from index.search import Searcher
from index.store import IndexArtifact

RNN = "machine-learning--what-are-recurrent-neural-networks-rnns-and-lstms"
# Two words that one sentence of the RNN answer states ("The Problem: Vanishing Gradients", its LSTM
# section) while the gradient descent answer's whole sections match them better on average.
SHORT = "vanishing gradients"
# A situation in many words: the bonus does not apply, whatever its sentences match.
LONG = "my validation loss goes up after epoch ten while the training loss keeps falling, what should i change first"


def analyzed(n_topic: int) -> AnalyzedQuery:
    return AnalyzedQuery("q", "q", (), tuple(f"t{i}" for i in range(n_topic)), ())


@pytest.fixture(scope="module")
def no_bonus(artifact: IndexArtifact, embedder: Embedder) -> Searcher:
    return Searcher(artifact, embedder, weights=FusionWeights(sentence_weight=0.0))


def test_the_bonus_is_each_records_best_unit_or_chunk_cosine_for_short_queries_only() -> None:
    # Four chunks of three records; units: two in chunk 0 (record 0), one in chunk 2 (record 1); record 2 has none.
    vectors = np.eye(3, dtype=np.float32)
    units = UnitScorer(vectors, np.array([0, 0, 2]))
    bonus = SentenceBonus(units, np.array([0, 0, 1]), 3, weight=0.5, max_terms=3)
    query = np.array([0.6, 0.8, 0.0], dtype=np.float32)
    dense = RecordScores(np.array([0.7, 0.1, 0.3], dtype=np.float32), np.array([0, 2, 3]))
    fused = RecordScores(np.array([1.0, 2.0, 3.0], dtype=np.float32), np.array([0, 2, 3]))
    everything = ChunkScores(np.zeros(4, dtype=np.float32), query)
    # record 0: best unit 0.8 beats its chunk's 0.7; record 1: its unit 0.0 is below its chunk's 0.1; record 2: no unit.
    assert bonus.signal(dense, everything).tolist() == pytest.approx([0.8, 0.1, 0.3])
    assert bonus.run(analyzed(3), fused, dense, everything).scores.tolist() == pytest.approx([1.4, 2.05, 3.15])
    # Only the dense candidates' units count: chunk 0 not returned, record 0 keeps its chunk cosine.
    only_chunk_2 = replace(everything, candidates=np.array([2, 3]))
    assert bonus.signal(dense, only_chunk_2).tolist() == pytest.approx([0.7, 0.1, 0.3])
    for n_topic in (0, 4):  # a company list ("what does uber ask?"), a long query: unchanged
        assert bonus.run(analyzed(n_topic), fused, dense, everything) is fused
    assert SentenceBonus(units, np.array([0, 0, 1]), 3, 0.0, 3).run(analyzed(2), fused, dense, everything) is fused
    assert bonus.run(analyzed(2), fused, None, everything) is fused  # bm25 mode: no dense side
    with pytest.raises(ValueError, match="non-negative"):
        SentenceBonus(units, np.array([0, 0, 1]), 3, -0.1, 3)
    with pytest.raises(ValueError, match="its record"):
        SentenceBonus(units, np.array([0, 1]), 3, 0.2, 3)
    with pytest.raises(ValueError, match="non-negative"):
        FusionWeights(sentence_weight=-1.0)


def test_unit_cosines_are_the_same_by_mask_or_by_rows_and_computed_once_per_search() -> None:
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(40, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    unit_chunks = rng.integers(0, 20, size=40)
    units = UnitScorer(vectors, unit_chunks)
    query = vectors[3]
    few = ChunkScores(np.zeros(25, dtype=np.float32), query, np.array([4, 11, 2]))  # rows found chunk by chunk
    most = ChunkScores(np.zeros(25, dtype=np.float32), query, np.arange(24, 2, -1))  # one product, masked
    for cosines in (few, most):
        rows, values = units.cosines(cosines)
        wanted = np.flatnonzero(np.isin(unit_chunks, cosines.candidates))
        assert sorted(rows.tolist()) == wanted.tolist()
        assert dict(zip(rows.tolist(), values.tolist(), strict=True)) == pytest.approx(
            dict(zip(wanted.tolist(), (vectors[wanted] @ query).tolist(), strict=True))
        )
    first = units.cosines(most)
    assert units.cosines(most) is first  # the bonus and the abstention of one search share it
    assert units.cosines(replace(most)) is not first  # another search's scores: computed again
    assert units.best(few) == pytest.approx(float((vectors[np.isin(unit_chunks, [4, 11, 2])] @ query).max()))


def test_a_short_query_ranks_first_the_answer_one_of_whose_sentences_states_it(
    searcher: Searcher, no_bonus: Searcher
) -> None:
    assert searcher.pipelines["hybrid"].sentences is searcher.sentence_bonus is not None
    assert searcher.sentence_bonus.applies(searcher.analyzer.run(SHORT))
    without, now = no_bonus.search(SHORT), searcher.search(SHORT)
    assert without.hits[0].record.id != RNN and now.hits[0].record.id == RNN
    # The reason: the RNN answer holds the best sentence unit of all the dense candidates.
    cosines = searcher.dense.run(searcher.analyzer.run(SHORT))
    units = searcher.abstention.units
    assert units is not None
    rows, values = units.cosines(cosines)
    best_chunk = units.unit_chunks[rows[int(np.argmax(values))]]
    assert searcher.artifact.chunks[best_chunk].doc_id == RNN
    # Only the ranking moves: the same evidence decides that it is answerable.
    assert now.answerable == without.answerable


def test_a_long_query_ranks_exactly_as_without_the_bonus(searcher: Searcher, no_bonus: Searcher) -> None:
    assert not searcher.sentence_bonus.applies(searcher.analyzer.run(LONG))
    a, b = no_bonus.search(LONG), searcher.search(LONG)
    assert [(h.record.id, h.score) for h in a.hits] == [(h.record.id, h.score) for h in b.hits]


def test_other_modes_and_an_index_without_units_have_no_bonus(
    searcher: Searcher, artifact: IndexArtifact, embedder: Embedder
) -> None:
    assert searcher.pipelines["bm25"].sentences is None and searcher.pipelines["dense"].sentences is None
    old = Searcher(replace(artifact, sentences=None), embedder)
    assert old.sentence_bonus is None and old.pipelines["hybrid"].sentences is None


def test_tune_scores_the_bonus_as_search_applies_it(searcher: Searcher, no_bonus: Searcher) -> None:
    items = [
        EvalItem("s", SHORT, "keyword", (RNN,), False, (), "dev"),
        EvalItem("l", LONG, "paraphrase", (RNN,), False, (), "dev"),
    ]
    evidence = collect(searcher, items, lambda item: item.gold)
    short, long = evidence
    assert short.short and not long.short and short.evidence is not None
    scorer = FusionScorer(evidence, searcher.title_only)
    # hit@1 over both items: the short one is first with the bonus only; the long one never (its gold is wrong).
    assert scorer.score(FusionWeights(sentence_weight=0.0))[0] == 0.0
    assert scorer.score(FusionWeights())[0] == 0.5
    assert no_bonus.search(SHORT).hits[0].record.id != RNN and searcher.search(SHORT).hits[0].record.id == RNN
