"""BM25 over chunk tokens.

Term statistics come from rank-bm25's ``BM25Okapi`` at build time; scoring
uses a precomputed sparse matrix of per-(chunk, term) BM25 weights, so a
query costs one column slice instead of a Python loop over every chunk.
Scores equal ``BM25Okapi.get_scores`` (tested).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from rank_bm25 import BM25Okapi
from scipy import sparse


class SparseIndex:
    def __init__(self, vocab: list[str], matrix: sparse.csc_matrix, k1: float, b: float) -> None:
        self.vocab = vocab
        self.term_ids = {t: i for i, t in enumerate(vocab)}
        self.matrix = matrix.tocsc()
        self.k1, self.b = k1, b
        self.doc_freq = np.diff(self.matrix.indptr).astype(np.int64)

    @property
    def size(self) -> int:
        return int(self.matrix.shape[0])

    @classmethod
    def build(cls, corpus_tokens: Sequence[Sequence[str]], k1: float = 1.2, b: float = 0.75) -> SparseIndex:
        if not corpus_tokens:
            raise ValueError("cannot build a BM25 index over zero chunks")
        safe = [list(toks) if toks else ["\x00empty"] for toks in corpus_tokens]
        okapi = BM25Okapi(safe, k1=k1, b=b)
        vocab = sorted(okapi.idf)
        term_ids = {t: i for i, t in enumerate(vocab)}
        rows, cols, vals = [], [], []
        for d, freqs in enumerate(okapi.doc_freqs):
            norm = k1 * (1 - b + b * okapi.doc_len[d] / okapi.avgdl)
            for term, tf in freqs.items():
                rows.append(d)
                cols.append(term_ids[term])
                vals.append(okapi.idf[term] * tf * (k1 + 1) / (tf + norm))
        matrix = sparse.csc_matrix((np.asarray(vals, dtype=np.float32), (rows, cols)), shape=(len(safe), len(vocab)))
        return cls(vocab, matrix, k1, b)

    def scores(self, query_tokens: Sequence[str]) -> np.ndarray:
        """BM25 score of every chunk (0 where no query term occurs).

        Adds each query term's column straight from the CSC arrays (a repeated
        term counts again, as in rank-bm25): no sliced matrix per query."""
        out = np.zeros(self.size, dtype=np.float32)
        m = self.matrix
        for t in query_tokens:
            col = self.term_ids.get(t)
            if col is not None:
                start, end = m.indptr[col], m.indptr[col + 1]
                out[m.indices[start:end]] += m.data[start:end]
        return out

    def save(self, directory: Path) -> None:
        m = self.matrix
        np.savez(
            directory / "bm25.npz",
            data=m.data,
            indices=m.indices,
            indptr=m.indptr,
            shape=np.asarray(m.shape, dtype=np.int64),
            params=np.asarray([self.k1, self.b], dtype=np.float64),
        )
        (directory / "bm25_vocab.txt").write_text("\n".join(self.vocab) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> SparseIndex:
        with np.load(directory / "bm25.npz", allow_pickle=False) as z:
            shape = tuple(int(x) for x in z["shape"])
            matrix = sparse.csc_matrix((z["data"], z["indices"], z["indptr"]), shape=shape)
            k1, b = (float(x) for x in z["params"])
        vocab = (directory / "bm25_vocab.txt").read_text(encoding="utf-8").split("\n")[:-1]
        if len(vocab) != shape[1]:
            raise ValueError(f"bm25_vocab.txt has {len(vocab)} terms but bm25.npz has {shape[1]} columns")
        return cls(vocab, matrix, k1, b)
