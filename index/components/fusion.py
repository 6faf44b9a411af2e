"""Fusion: one record score from the lexical and the dense record scores.

Named strategies (``FUSIONS``): ``saturating`` (the default: BM25 squashed as
x / (x + K), then a weighted sum with the cosine), ``weighted`` (BM25 divided
by the best allowed record's, then a weighted sum) and ``rrf`` (reciprocal
rank fusion).

Title-only records (quick-reference rows no full answer covers: their whole
text is a title and a few topic words) get weights of their own: a query that
describes such a topic shares no words with it, so its BM25 side is
structurally near zero while every long answer collects BM25 from common
words, and the one fusion for both kinds buries the row that the cosine
ranks first.  The weights are fitted on the eval dev split, per model
(``qbank tune``, ``index/calibration.py``).  ``LexicalOnly`` and ``DenseOnly`` pass one side through, for
the single-retriever pipelines.  Each returns, per record, the chunk of the
side that contributed more, so a hit shows the evidence that ranked it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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


def blend(
    bm25: np.ndarray,
    dense: np.ndarray,
    dense_weight: float,
    bm25_weight: float,
    title_only: np.ndarray | None = None,
    row_weights: tuple[float, float, float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The weighted sum of normalised BM25 and cosine, title-only records with
    their own weights and bias; returns (fused, the cosine's part of it).
    Works on one query's records or on a (queries x records) matrix: the one
    formula search, ``qbank tune`` and ``scripts/levers.py`` use."""
    dense_part = dense_weight * dense
    fused = dense_part + bm25_weight * bm25
    if title_only is not None and row_weights is not None:
        row_dense, row_bm25, row_bias = row_weights
        row_dense_part = row_dense * dense
        dense_part = np.where(title_only, row_dense_part, dense_part)
        fused = np.where(title_only, row_dense_part + row_bm25 * bm25 + row_bias, fused)
    return fused, dense_part


def _evidence(dense_part: np.ndarray, fused: np.ndarray, lexical: RecordScores, dense: RecordScores) -> np.ndarray:
    return np.where(dense_part >= fused - dense_part, dense.best_chunk, lexical.best_chunk)


@dataclass(frozen=True, slots=True)
class FusionWeights:
    """The saturating fusion's settings.  Defaults: fitted for the packaged
    MiniLM on both eval sets' dev split (``qbank tune``, eval/README.md)."""

    dense_weight: float = 0.65
    bm25_weight: float = 0.35
    saturation: float = 15.0
    row_dense_weight: float = 0.75  # title-only records (quick-reference rows)
    row_bm25_weight: float = 0.0
    row_bias: float = 0.06
    # Short queries (at most sentence_max_terms topic words): + sentence_weight x each record's
    # best sentence unit cosine (index.components.units.SentenceBonus).
    sentence_weight: float = 0.2
    sentence_max_terms: float = 7.0

    @property
    def row_weights(self) -> tuple[float, float, float]:
        return (self.row_dense_weight, self.row_bm25_weight, self.row_bias)

    def __post_init__(self) -> None:
        if self.dense_weight < 0 or self.bm25_weight < 0 or self.dense_weight + self.bm25_weight == 0:
            raise ValueError("fusion weights must be non-negative and not both zero")
        if self.row_dense_weight < 0 or self.row_bm25_weight < 0:
            raise ValueError("title-only record weights must be non-negative")
        if self.saturation <= 0:
            raise ValueError(f"saturation must be positive, got {self.saturation}")
        if self.sentence_weight < 0 or self.sentence_max_terms < 0:
            raise ValueError("sentence_weight and sentence_max_terms must be non-negative")


class WeightedFusion:
    """``dense_weight * cosine + bm25_weight * normalised BM25``; title-only
    records (``title_only``, a mask over the records) score
    ``row_dense_weight * cosine + row_bm25_weight * normalised BM25 + row_bias``.

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
        title_only: np.ndarray | None = None,
        row_weights: tuple[float, float, float] | None = None,
    ) -> None:
        if dense_weight < 0 or bm25_weight < 0 or dense_weight + bm25_weight == 0:
            raise ValueError("fusion weights must be non-negative and not both zero")
        if bm25_norm not in self.NORMS:
            raise ValueError(f"unknown bm25_norm {bm25_norm!r}: use one of {', '.join(self.NORMS)}")
        if saturation <= 0:
            raise ValueError(f"saturation must be positive, got {saturation}")
        if (title_only is None) != (row_weights is None):
            raise ValueError("give title_only and row_weights together")
        self.dense_weight = dense_weight
        self.bm25_weight = bm25_weight
        self.bm25_norm = bm25_norm
        self.saturation = saturation
        self.title_only = None if title_only is None else np.asarray(title_only, dtype=bool)
        self.row_weights = row_weights

    @classmethod
    def calibrated(cls, weights: FusionWeights, title_only: np.ndarray) -> WeightedFusion:
        """The saturating fusion with ``weights``, title-only records apart."""
        return cls(
            weights.dense_weight,
            weights.bm25_weight,
            "saturate",
            weights.saturation,
            title_only,
            weights.row_weights,
        )

    def normalise(self, bm25: np.ndarray, pool: np.ndarray) -> np.ndarray:
        if self.bm25_norm == "saturate":
            return (bm25 / (bm25 + self.saturation)).astype(np.float32)
        top = float(bm25[pool].max()) if len(pool) else 0.0
        return bm25 / top if top > 0 else bm25

    def run(self, lexical: RecordScores, dense: RecordScores, pool: np.ndarray) -> RecordScores:
        if self.title_only is not None and len(self.title_only) != len(dense.scores):
            raise ValueError(f"title_only covers {len(self.title_only)} records, the scores {len(dense.scores)}")
        bm25 = self.normalise(lexical.scores, pool)
        fused, dense_part = blend(
            bm25, dense.scores, self.dense_weight, self.bm25_weight, self.title_only, self.row_weights
        )
        fused = fused.astype(np.float32, copy=False)
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


# Each strategy, built from the calibrated weights and the title-only mask of the index.
FUSIONS: dict[str, Callable[[FusionWeights, np.ndarray], Fusion]] = {
    "saturating": WeightedFusion.calibrated,
    "weighted": lambda weights, title_only: WeightedFusion(dense_weight=0.7, bm25_weight=0.3, bm25_norm="max"),
    "rrf": lambda weights, title_only: RRFFusion(),
}
