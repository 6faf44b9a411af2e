"""Fusion: one record score from the lexical and the dense record scores.

Named strategies (``FUSIONS``): ``saturating`` (the default: BM25 squashed as
x / (x + K), then a weighted sum with the cosine), ``weighted`` (BM25 divided
by the best allowed record's, then a weighted sum) and ``rrf`` (reciprocal
rank fusion).  ``LexicalOnly`` and ``DenseOnly`` pass one side through, for
the single-retriever pipelines.  Each returns, per record, the chunk of the
side that contributed more, so a hit shows the evidence that ranked it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from index.components.scores import RecordScores


class Fusion(Protocol):
    """Combines per-record scores; ``pool`` is the records the filters allow."""

    uses_lexical: bool
    uses_dense: bool

    def run(self, lexical: RecordScores, dense: RecordScores, pool: np.ndarray) -> RecordScores: ...


class LexicalOnly:
    uses_lexical, uses_dense = True, False

    def run(self, lexical: RecordScores, dense: RecordScores, pool: np.ndarray) -> RecordScores:
        return lexical


class DenseOnly:
    uses_lexical, uses_dense = False, True

    def run(self, lexical: RecordScores, dense: RecordScores, pool: np.ndarray) -> RecordScores:
        return dense


def _evidence(dense_part: np.ndarray, fused: np.ndarray, lexical: RecordScores, dense: RecordScores) -> np.ndarray:
    return np.where(dense_part >= fused - dense_part, dense.best_chunk, lexical.best_chunk)


class WeightedFusion:
    """``dense_weight * cosine + bm25_weight * normalised BM25``.

    ``bm25_norm``: ``saturate`` (x / (x + ``saturation``): independent of the
    other records, tuned on the dev split) or ``max`` (divided by the best
    allowed record's BM25)."""

    uses_lexical, uses_dense = True, True
    NORMS = ("saturate", "max")

    def __init__(
        self,
        dense_weight: float = 0.55,
        bm25_weight: float = 0.45,
        bm25_norm: str = "saturate",
        saturation: float = 15.0,
    ) -> None:
        if dense_weight < 0 or bm25_weight < 0 or dense_weight + bm25_weight == 0:
            raise ValueError("fusion weights must be non-negative and not both zero")
        if bm25_norm not in self.NORMS:
            raise ValueError(f"unknown bm25_norm {bm25_norm!r}: use one of {', '.join(self.NORMS)}")
        if saturation <= 0:
            raise ValueError(f"saturation must be positive, got {saturation}")
        self.dense_weight = dense_weight
        self.bm25_weight = bm25_weight
        self.bm25_norm = bm25_norm
        self.saturation = saturation

    def normalise(self, bm25: np.ndarray, pool: np.ndarray) -> np.ndarray:
        if self.bm25_norm == "saturate":
            return (bm25 / (bm25 + self.saturation)).astype(np.float32)
        top = float(bm25[pool].max()) if len(pool) else 0.0
        return bm25 / top if top > 0 else bm25

    def run(self, lexical: RecordScores, dense: RecordScores, pool: np.ndarray) -> RecordScores:
        fused = self.dense_weight * dense.scores + self.bm25_weight * self.normalise(lexical.scores, pool)
        dense_part = self.dense_weight * dense.scores
        return RecordScores(fused, _evidence(dense_part, fused, lexical, dense))


class RRFFusion:
    """Reciprocal rank fusion: sum over both rankings of 1 / (``k`` + rank)."""

    uses_lexical, uses_dense = True, True

    def __init__(self, k: int = 60) -> None:
        if k <= 0:
            raise ValueError(f"k must be positive, got {k}")
        self.k = k

    @staticmethod
    def _ranks(scores: np.ndarray) -> np.ndarray:
        ranks = np.empty(len(scores), dtype=np.float32)
        ranks[np.argsort(-scores, kind="stable")] = np.arange(1, len(scores) + 1, dtype=np.float32)
        return ranks

    def run(self, lexical: RecordScores, dense: RecordScores, pool: np.ndarray) -> RecordScores:
        dense_part = 1.0 / (self.k + self._ranks(dense.scores))
        fused = (dense_part + 1.0 / (self.k + self._ranks(lexical.scores))).astype(np.float32)
        return RecordScores(fused, _evidence(dense_part, fused, lexical, dense))


FUSIONS: dict[str, Callable[[], Fusion]] = {
    "saturating": lambda: WeightedFusion(bm25_norm="saturate"),
    "weighted": lambda: WeightedFusion(dense_weight=0.7, bm25_weight=0.3, bm25_norm="max"),
    "rrf": RRFFusion,
}
