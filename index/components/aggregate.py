"""Per-record aggregation: a record scores as its best chunk."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from index.components.scores import ChunkScores, RecordScores
from ingest.models import Chunk

DEFAULT_KIND_BOOST: Mapping[str, float] = {"title": 1.0, "quick_reference": 1.0, "section": 1.0, "insight": 0.95}


class RecordAggregator:
    """Each record's best chunk score, after a per-chunk-kind boost, and which
    chunk gave it (on a tie, the record's last such chunk).

    With ``second_chunk_weight`` > 0 a record also gets that share of its
    second-best chunk (measured: no gain, so off by default; eval/README.md).
    """

    def __init__(
        self,
        chunks: Sequence[Chunk],
        doc_ids: Sequence[str],
        kind_boost: Mapping[str, float] | None = None,
        second_chunk_weight: float = 0.0,
    ) -> None:
        boosts = dict(DEFAULT_KIND_BOOST if kind_boost is None else kind_boost)
        if any(b < 0 for b in boosts.values()):
            raise ValueError(f"kind boosts must be non-negative, got {boosts}")
        if second_chunk_weight < 0:
            raise ValueError(f"second_chunk_weight must be non-negative, got {second_chunk_weight}")
        self.second_chunk_weight = second_chunk_weight
        self.n_docs = len(doc_ids)
        position = {d: i for i, d in enumerate(doc_ids)}
        self.chunk_doc = np.asarray([position[c.doc_id] for c in chunks], dtype=np.int64)
        # Chunk positions grouped by doc (ascending within a doc) and where each doc's group
        # starts: per-doc maxima are then one pass (reduceat), not a sort per query.
        self._by_doc = np.argsort(self.chunk_doc, kind="stable")
        self._grouped_doc = self.chunk_doc[self._by_doc]
        self._doc_starts = np.flatnonzero(np.r_[True, self._grouped_doc[1:] != self._grouped_doc[:-1]])
        self._chunk_boost = np.asarray([boosts.get(c.kind, 1.0) for c in chunks], dtype=np.float32)

    def run(self, chunk_scores: ChunkScores) -> RecordScores:
        boosted = chunk_scores.values * self._chunk_boost
        if self.second_chunk_weight:
            return self._with_second(boosted)
        grouped = boosted[self._by_doc]
        best = np.maximum.reduceat(grouped, self._doc_starts)
        is_best = grouped == best[self._grouped_doc]
        last_best = np.maximum.reduceat(np.where(is_best, np.arange(len(grouped)), -1), self._doc_starts)
        return RecordScores(best.astype(np.float32, copy=False), self._by_doc[last_best])

    def _with_second(self, boosted: np.ndarray) -> RecordScores:
        order = np.lexsort((boosted, self.chunk_doc))  # by doc, then score ascending
        docs_sorted = self.chunk_doc[order]
        last = np.r_[docs_sorted[1:] != docs_sorted[:-1], True]
        best_chunk = np.full(self.n_docs, -1, dtype=np.int64)
        best_chunk[docs_sorted[last]] = order[last]
        best = np.zeros(self.n_docs, dtype=np.float32)
        best[docs_sorted[last]] = boosted[order[last]]
        second_mask = np.r_[last[1:], False] & ~last
        second = np.zeros(self.n_docs, dtype=np.float32)
        second[docs_sorted[second_mask]] = boosted[order[second_mask]]
        return RecordScores(best + self.second_chunk_weight * second, best_chunk)
