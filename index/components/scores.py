"""The typed arrays that travel between pipeline components."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class ChunkScores:
    """One score per chunk of the index, in chunk order (float32); when they
    are cosines, the query vector that gave them and the positions of the
    chunks the dense index returned (the abstention's sentence evidence reuses
    both: no second encoding, no second pass over the index)."""

    values: np.ndarray
    query: np.ndarray | None = None
    candidates: np.ndarray | None = None


@dataclass(frozen=True, slots=True)
class RecordScores:
    """One score per record (``Searcher.doc_ids`` order, float32) and, for each,
    the position of the chunk that gave it (-1 when none did)."""

    scores: np.ndarray
    best_chunk: np.ndarray

    @classmethod
    def zeros(cls, n_docs: int) -> RecordScores:
        return cls(np.zeros(n_docs, dtype=np.float32), np.full(n_docs, -1, dtype=np.int64))


def top_positions(values: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` largest values, largest first, ties in position
    order (what a stable descending sort gives), without sorting them all."""
    candidates = np.arange(len(values))
    if len(values) > 4 * k:
        kth = np.partition(values, len(values) - k)[len(values) - k]
        candidates = np.flatnonzero(values >= kth)
    return candidates[np.argsort(-values[candidates], kind="stable")][:k]
