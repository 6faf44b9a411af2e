"""Abstention: is the best record good enough to answer with, or off-topic?

The dense evidence is the best chunk's cosine, or, when the index has the
answers' sentence units (``index.sentences``), the larger of that and the
best unit's cosine: a short query about one idea of a long section ("gini
impurity") is closer to the sentence that states it than to the section.
The floors differ by evidence: ``AbstentionConfig()`` is fitted on dev for
the packaged model with sentence units, ``CHUNK_ONLY_FLOORS`` for an index
built before them (eval/README.md)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index.components.scores import RecordScores
from index.query import AnalyzedQuery
from index.sparse import SparseIndex


@dataclass(frozen=True, slots=True)
class AbstentionConfig:
    """Floors calibrated on the eval set's dev split (eval/README.md), for
    dense evidence with sentence units."""

    dense_floor: float = 0.41  # a cosine at least this high answers
    bm25_floor: float = 7.5  # else a BM25 score at least this high answers
    dense_low: float = 0.27  # below this cosine nothing answers
    min_idf: float = 3.5  # else: every topic word in the vocabulary, one this distinctive

    def __post_init__(self) -> None:
        if not -1.0 <= self.dense_low <= self.dense_floor <= 1.0:
            raise ValueError(f"need -1 <= dense_low <= dense_floor <= 1, got {self.dense_low}, {self.dense_floor}")
        if self.bm25_floor < 0 or self.min_idf < 0:
            raise ValueError("bm25_floor and min_idf must be non-negative")

    def answers(self, top_dense: float, top_bm25: float, vocab_idf: float) -> bool:
        """With both retrievers: a strong cosine answers; a very weak one never
        does; in between, a strong BM25 score or an in-vocabulary query
        (``vocab_idf``: the best idf of its topic words when every one is
        corpus vocabulary, else negative).  The one rule search and
        ``qbank tune`` apply."""
        if top_dense >= self.dense_floor:
            return True
        if top_dense < self.dense_low:
            return False
        return top_bm25 >= self.bm25_floor or vocab_idf >= self.min_idf


CHUNK_ONLY_FLOORS = AbstentionConfig(dense_floor=0.39, bm25_floor=7.5, dense_low=0.17, min_idf=3.5)
EVIDENCE_CHUNKS = "chunk"  # what the floors were fitted on: chunk cosines alone
EVIDENCE_SENTENCES = "chunk+sentence"  # the larger of the best chunk's and the best sentence unit's cosine


def dense_evidence(top_chunk: float, top_sentence: float | None) -> float:
    """The rule's dense side: the best chunk's cosine, or the best sentence unit's when that is higher."""
    return top_chunk if top_sentence is None else max(top_chunk, top_sentence)


class Abstention:
    """Decides ``answerable`` from the best evidence anywhere in the index.

    With both retrievers: a strong cosine answers; a very weak one never does;
    in between, a strong BM25 score or an in-vocabulary query ('bn before
    relu': short, in-domain, low on both sides) answers.  With one retriever,
    that retriever's floor alone.  A company-list query always answers.
    ``sentences`` (the units' vectors, one row each) makes the dense side the
    larger of the best chunk's and the best unit's cosine; the default floors
    follow from whether there are any."""

    def __init__(
        self, sparse: SparseIndex, config: AbstentionConfig | None = None, sentences: np.ndarray | None = None
    ) -> None:
        self.sparse = sparse
        self.sentences = sentences if sentences is not None and len(sentences) else None
        self.evidence = EVIDENCE_SENTENCES if self.sentences is not None else EVIDENCE_CHUNKS
        self.config = config or (AbstentionConfig() if self.sentences is not None else CHUNK_ONLY_FLOORS)

    def best_sentence(self, query: np.ndarray | None) -> float | None:
        """The best sentence unit's cosine to the query vector (None without units or vector)."""
        if self.sentences is None or query is None:
            return None
        return float((self.sentences @ query).max())

    def run(
        self,
        analyzed: AnalyzedQuery,
        n_hits: int,
        lexical: RecordScores | None,
        dense: RecordScores | None,
        query: np.ndarray | None = None,
    ) -> bool:
        """``query``: the query vector the dense scores came from, for the sentence evidence."""
        if not n_hits:
            return False
        if analyzed.company_only:
            return True
        cfg = self.config
        top_dense = float(dense.scores.max()) if dense is not None else 0.0
        top_bm25 = float(lexical.scores.max()) if lexical is not None else 0.0
        if dense is None:
            return top_bm25 >= cfg.bm25_floor
        if top_dense >= cfg.dense_floor:  # the cheap case first: no sentence product, no vocabulary lookup
            return True
        top_dense = dense_evidence(top_dense, self.best_sentence(query))
        if lexical is None:
            return top_dense >= cfg.dense_floor
        return cfg.answers(top_dense, top_bm25, self.vocab_idf(analyzed))

    def vocab_idf(self, analyzed: AnalyzedQuery) -> float:
        """The best idf among the topic words when every one is corpus vocabulary, else -1."""
        terms = analyzed.topic_terms
        if not terms or any(t not in self.sparse.term_ids for t in terms):
            return -1.0
        n = self.sparse.size
        return max(float(np.log(n / self.sparse.doc_freq[self.sparse.term_ids[t]])) for t in terms)
