"""Passages: the sections of full answers that discuss a topic, for a topic
the bank has no answer of its own for (a quick-reference row)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from index.components.scores import ChunkScores, top_positions
from index.results import Passage
from ingest.models import Chunk, Question, QuickRef

PASSAGE_KINDS = frozenset(["section", "insight"])


class PassageFinder:
    """The best-scoring section or insight chunks of full questions, at most one
    per question, each clearing both bars: the words of the topic in it
    (BM25 ≥ ``min_bm25``) and its meaning close (cosine ≥ ``min_dense``).
    Conservative on purpose: a passage shown has to be about the topic."""

    def __init__(
        self,
        chunks: Sequence[Chunk],
        records: Mapping[str, Question | QuickRef],
        min_bm25: float = 5.0,
        min_dense: float = 0.3,
    ) -> None:
        if min_bm25 < 0 or not -1.0 <= min_dense <= 1.0:
            raise ValueError(f"need min_bm25 >= 0 and -1 <= min_dense <= 1, got {min_bm25}, {min_dense}")
        self.chunks = chunks
        self.records = records
        self.min_bm25 = min_bm25
        self.min_dense = min_dense
        eligible = [c.kind in PASSAGE_KINDS and isinstance(records.get(c.doc_id), Question) for c in chunks]
        self._eligible = np.asarray(eligible, dtype=bool)

    def run(
        self, lexical: ChunkScores, dense: ChunkScores, k: int = 3, required: np.ndarray | None = None
    ) -> tuple[Passage, ...]:
        """``required``: a mask of the chunks that may be shown (``Searcher.find_passages``:
        those with at least half the topic's distinctive words, "federated" and not only
        "learning")."""
        if k <= 0:
            raise ValueError(f"k must be positive, got {k}")
        bm25, cosine = lexical.values, dense.values
        ok = self._eligible & (bm25 >= self.min_bm25) & (cosine >= self.min_dense)
        if required is not None:
            ok &= required
        candidates = np.flatnonzero(ok)
        if not len(candidates):
            return ()
        score = cosine[candidates] + bm25[candidates] / (bm25[candidates] + 15.0)
        found: list[Passage] = []
        for pos in candidates[top_positions(score, len(candidates))]:
            chunk = self.chunks[int(pos)]
            record = self.records[chunk.doc_id]
            if not isinstance(record, Question) or any(p.record.id == record.id for p in found):
                continue
            found.append(Passage(record, chunk, float(cosine[pos]), float(bm25[pos])))
            if len(found) == k:
                break
        return tuple(found)
