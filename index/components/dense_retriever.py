"""Dense retrieval: cosine similarity of the query embedding to the nearest chunks."""

from __future__ import annotations

import numpy as np

from index.components.scores import ChunkScores
from index.dense import DenseIndex
from index.embed import Embedder
from index.query import AnalyzedQuery


class DenseRetriever:
    """The ``candidates`` nearest chunks get their cosine; every other chunk a
    score just below the weakest candidate's, so it ranks after all of them."""

    OUTSIDE_MARGIN = 0.05

    def __init__(self, dense: DenseIndex, embedder: Embedder, n_chunks: int, candidates: int = 300) -> None:
        if candidates <= 0:
            raise ValueError(f"candidates must be positive, got {candidates}")
        self.dense = dense
        self.embedder = embedder
        self.n_chunks = n_chunks
        self.candidates = candidates

    def run(self, analyzed: AnalyzedQuery, use_cache: bool = True) -> ChunkScores:
        vector = self.embedder.encode_query(analyzed.text, use_cache=use_cache)
        ids, sims = self.dense.search(vector, self.candidates)
        scores = np.zeros(self.n_chunks, dtype=np.float32)
        if len(sims):
            scores[:] = float(sims.min()) - self.OUTSIDE_MARGIN
            scores[ids] = sims
        return ChunkScores(scores, vector, ids)
