"""Sentence units: the answers' sentences, embedded at ingest (``index.sentences``),
and two uses of their cosines with the query.

``UnitScorer`` holds the unit vectors grouped by chunk and scores only the
units of the chunks the dense search returned: a few hundred rows whatever
the bank's size.  ``SentenceBonus`` adds a record's dense evidence (the
larger of its best chunk's and best unit's cosine) to its fused score for
short queries: a question about one idea of a long answer
("gini impurity", "what is 5^d") is closer to the sentence that states it
than to the section that holds it, while a long question describing a
situation matches a whole answer better than any one of its sentences (on
the eval sets' dev split the bonus helps the first kind and costs the second
when given to every query; eval/README.md, "Levers on the hard set")."""

from __future__ import annotations

import threading

import numpy as np

from index.components.scores import ChunkScores, RecordScores
from index.query import AnalyzedQuery


class UnitScorer:
    """Unit vectors (one row each, unit length) and each unit's chunk position."""

    def __init__(self, vectors: np.ndarray, unit_chunks: np.ndarray) -> None:
        if len(unit_chunks) != len(vectors):
            raise ValueError("each sentence unit needs the position of its chunk")
        self.vectors = vectors
        self.unit_chunks = np.asarray(unit_chunks, dtype=np.int64)
        self._by_chunk = np.argsort(self.unit_chunks, kind="stable")  # unit rows grouped by chunk
        self._chunk_of = self.unit_chunks[self._by_chunk]
        self._has_units = np.zeros(int(self.unit_chunks.max()) + 1 if len(self.unit_chunks) else 0, dtype=bool)
        self._has_units[self.unit_chunks] = True
        self._n_unit_chunks = int(self._has_units.sum())
        self._last = threading.local()  # (the ChunkScores asked about, its answer), per thread

    def __len__(self) -> int:
        return len(self.vectors)

    def rows(self, chunks: np.ndarray) -> np.ndarray:
        """The rows of the units of ``chunks`` (chunk positions), chunk by chunk."""
        lo = np.searchsorted(self._chunk_of, chunks, side="left")
        counts = np.searchsorted(self._chunk_of, chunks, side="right") - lo
        total = int(counts.sum())
        # Each chunk's run lo .. lo + count - 1, all runs laid end to end without a Python loop.
        offsets = np.repeat(lo - (np.cumsum(counts) - counts), counts)
        return self._by_chunk[offsets + np.arange(total)]

    def cosines(self, cosines: ChunkScores | None) -> tuple[np.ndarray, np.ndarray] | None:
        """(rows, cosine of each) for the units of the chunks the dense search returned
        (every unit when it does not say which); None without a query vector.  The last
        answer is kept per thread: the bonus and the abstention of one search ask for the
        same ``cosines``, and the product is computed once."""
        if cosines is None or cosines.query is None:
            return None
        last = getattr(self._last, "value", None)
        if last is not None and last[0] is cosines:
            return last[1]
        candidates = cosines.candidates
        if candidates is None:
            found = np.arange(len(self.vectors)), self.vectors @ cosines.query
        elif 2 * len(candidates) >= self._n_unit_chunks:
            # Candidates for most chunks (a small bank): one product over every unit, then the
            # candidates' units by a mask, cheaper than finding and copying their rows.
            chunk_ok = np.zeros(len(self._has_units), dtype=bool)
            chunk_ok[candidates[candidates < len(chunk_ok)]] = True
            rows = np.flatnonzero(chunk_ok[self.unit_chunks])
            found = rows, (self.vectors @ cosines.query)[rows]
        else:
            rows = self.rows(candidates)
            found = rows, self.vectors[rows] @ cosines.query
        self._last.value = (cosines, found)
        return found

    def best(self, cosines: ChunkScores | None) -> float | None:
        """The best unit cosine among the dense candidates; None when there is none."""
        found = self.cosines(cosines)
        if found is None or not len(found[0]):
            return None
        return float(found[1].max())


class SentenceBonus:
    """``weight`` × each record's dense evidence, the larger of its best chunk's
    and its best sentence unit's cosine, added to its fused score for queries
    of at most ``max_terms`` topic words.  A record with no unit among the
    dense candidates (a quick-reference row has none) takes its best chunk's
    cosine, so every record gets a bonus on one scale, and a record never
    gets less than its chunk cosine (a row named by a short query is not
    pushed below an answer one of whose sentences mentions it)."""

    def __init__(
        self, units: UnitScorer, unit_records: np.ndarray, n_records: int, weight: float, max_terms: float
    ) -> None:
        if weight < 0 or max_terms < 0:
            raise ValueError(f"weight and max_terms must be non-negative, got {weight}, {max_terms}")
        if len(unit_records) != len(units):
            raise ValueError("each sentence unit needs the position of its record")
        self.units = units
        self.unit_records = np.asarray(unit_records, dtype=np.int64)
        self.n_records = n_records
        self.weight = weight
        self.max_terms = max_terms

    def is_short(self, analyzed: AnalyzedQuery) -> bool:
        """At most ``max_terms`` topic words, and some (a company list has none)."""
        return 0 < len(analyzed.topic_terms) <= self.max_terms

    def applies(self, analyzed: AnalyzedQuery) -> bool:
        return self.weight > 0 and self.is_short(analyzed)

    def signal(self, dense: RecordScores | None, cosines: ChunkScores | None) -> np.ndarray | None:
        """Per record: the larger of its best chunk's cosine and its best unit's among the
        dense candidates (the abstention's dense evidence, record by record)."""
        if dense is None:
            return None
        found = self.units.cosines(cosines)
        if found is None:
            return None
        rows, values = found
        best = np.full(self.n_records, -np.inf, dtype=np.float32)
        np.maximum.at(best, self.unit_records[rows], values.astype(np.float32, copy=False))
        return np.maximum(best, dense.scores).astype(np.float32, copy=False)

    def run(
        self, analyzed: AnalyzedQuery, fused: RecordScores, dense: RecordScores | None, cosines: ChunkScores | None
    ) -> RecordScores:
        if not self.applies(analyzed):
            return fused
        signal = self.signal(dense, cosines)
        if signal is None:
            return fused
        return RecordScores((fused.scores + self.weight * signal).astype(np.float32), fused.best_chunk)
