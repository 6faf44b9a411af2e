"""FAISS inner-product index over normalised chunk embeddings.

Exact search (``IndexFlatIP``) by default; above ``hnsw_threshold`` chunks an
HNSW graph is built instead (approximate, much faster at 100k+ chunks).
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np


def set_search_threads(threads: int) -> None:
    """Threads FAISS may use for one search, process-wide (0 leaves its default,
    every core).  On a small shared machine a team of threads per query spins
    against the other requests' work; one thread per query scales better."""
    if threads < 0:
        raise ValueError(f"threads must be >= 0, got {threads}")
    if threads:
        faiss.omp_set_num_threads(threads)


class DenseIndex:
    def __init__(self, index: faiss.Index) -> None:
        self.index = index

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    @property
    def dimension(self) -> int:
        return int(self.index.d)

    @property
    def kind(self) -> str:
        return "hnsw" if isinstance(self.index, faiss.IndexHNSWFlat) else "flat"

    @classmethod
    def build(cls, vectors: np.ndarray, kind: str = "flat", hnsw_m: int = 32) -> DenseIndex:
        if vectors.ndim != 2 or vectors.shape[0] == 0:
            raise ValueError(f"need a non-empty 2-D array of vectors, got shape {vectors.shape}")
        dim = int(vectors.shape[1])
        if kind == "hnsw":
            hnsw = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
            hnsw.hnsw.efConstruction = 80
            hnsw.hnsw.efSearch = 128
            index: faiss.Index = hnsw
        elif kind == "flat":
            index = faiss.IndexFlatIP(dim)
        else:
            raise ValueError(f"unknown dense index kind {kind!r}: use 'flat' or 'hnsw'")
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(index)

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (chunk positions, cosine scores) for one normalised query vector."""
        k = min(k, self.size)
        x = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        if isinstance(self.index, faiss.IndexHNSWFlat):
            # A beam narrower than k fills the tail of the k results poorly: search at least k wide.
            params = faiss.SearchParametersHNSW(efSearch=max(int(self.index.hnsw.efSearch), k))  # type: ignore[attr-defined]
            scores, ids = self.index.search(x, k, params=params)
        else:
            scores, ids = self.index.search(x, k)
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]

    def save(self, directory: Path) -> None:
        faiss.write_index(self.index, str(directory / "dense.faiss"))

    @classmethod
    def load(cls, directory: Path) -> DenseIndex:
        return cls(faiss.read_index(str(directory / "dense.faiss")))
