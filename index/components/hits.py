"""Hit building: the ranked records as typed ``SearchHit``s with their evidence."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from index.components.scores import RecordScores
from index.results import SearchHit, make_snippet
from ingest.models import Chunk, CodeBlock, Question, QuickRef


class HitBuilder:
    """For each ranked record: its scores, the chunk that ranked it (its
    section and a snippet), and its code, the ranking section's first."""

    def __init__(
        self, records: Mapping[str, Question | QuickRef], doc_ids: Sequence[str], chunks: Sequence[Chunk]
    ) -> None:
        self.records = records
        self.doc_ids = doc_ids
        self.chunks = chunks

    def run(
        self, order: np.ndarray, fused: RecordScores, lexical: RecordScores, dense: RecordScores
    ) -> tuple[SearchHit, ...]:
        return tuple(
            self._hit(
                int(i),
                float(fused.scores[i]),
                float(dense.scores[i]),
                float(lexical.scores[i]),
                int(fused.best_chunk[i]),
            )
            for i in order
        )

    def _hit(self, doc: int, score: float, dense: float, bm25: float, chunk_pos: int) -> SearchHit:
        record = self.records[self.doc_ids[doc]]
        chunk = self.chunks[chunk_pos] if chunk_pos >= 0 else None
        code: tuple[CodeBlock, ...] = ()
        if isinstance(record, Question):
            first: tuple[CodeBlock, ...] = ()
            if chunk is not None and chunk.section_index is not None:
                first = record.sections[chunk.section_index].code_blocks
            code = first + tuple(c for c in record.code_blocks if c not in first)
        return SearchHit(
            record=record,
            score=score,
            dense_score=dense,
            bm25_score=bm25,
            chunk=chunk,
            section=chunk.heading if chunk else None,
            snippet=make_snippet(chunk),
            code=code,
        )
