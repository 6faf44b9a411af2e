"""Abstention: is the best record good enough to answer with, or off-topic?"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index.components.scores import RecordScores
from index.query import AnalyzedQuery
from index.sparse import SparseIndex


@dataclass(frozen=True, slots=True)
class AbstentionConfig:
    """Floors calibrated on the eval set's dev split (eval/README.md)."""

    dense_floor: float = 0.39  # a cosine at least this high answers
    bm25_floor: float = 7.5  # else a BM25 score at least this high answers
    dense_low: float = 0.17  # below this cosine nothing answers
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


class Abstention:
    """Decides ``answerable`` from the best evidence anywhere in the index.

    With both retrievers: a strong cosine answers; a very weak one never does;
    in between, a strong BM25 score or an in-vocabulary query ('bn before
    relu': short, in-domain, low on both sides) answers.  With one retriever,
    that retriever's floor alone.  A company-list query always answers."""

    def __init__(self, sparse: SparseIndex, config: AbstentionConfig | None = None) -> None:
        self.sparse = sparse
        self.config = config or AbstentionConfig()

    def run(
        self,
        analyzed: AnalyzedQuery,
        n_hits: int,
        lexical: RecordScores | None,
        dense: RecordScores | None,
    ) -> bool:
        if not n_hits:
            return False
        if analyzed.company_only:
            return True
        cfg = self.config
        top_dense = float(dense.scores.max()) if dense is not None else 0.0
        top_bm25 = float(lexical.scores.max()) if lexical is not None else 0.0
        if dense is None:
            return top_bm25 >= cfg.bm25_floor
        if lexical is None:
            return top_dense >= cfg.dense_floor
        if top_dense >= cfg.dense_floor:  # the cheap case first: no vocabulary lookup
            return True
        return cfg.answers(top_dense, top_bm25, self.vocab_idf(analyzed))

    def vocab_idf(self, analyzed: AnalyzedQuery) -> float:
        """The best idf among the topic words when every one is corpus vocabulary, else -1."""
        terms = analyzed.topic_terms
        if not terms or any(t not in self.sparse.term_ids for t in terms):
            return -1.0
        n = self.sparse.size
        return max(float(np.log(n / self.sparse.doc_freq[self.sparse.term_ids[t]])) for t in terms)
