"""Lexical retrieval: BM25 over every chunk."""

from __future__ import annotations

from index.components.scores import ChunkScores
from index.query import AnalyzedQuery
from index.sparse import SparseIndex
from index.tokenize import tokenize


class LexicalRetriever:
    """BM25 scores (rank-bm25's statistics) of the analysed query for every chunk."""

    def __init__(self, sparse: SparseIndex) -> None:
        self.sparse = sparse

    def run(self, analyzed: AnalyzedQuery) -> ChunkScores:
        return ChunkScores(self.sparse.scores(tokenize(analyzed.text)))
