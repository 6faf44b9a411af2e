"""Company lists: "what does Uber ask?" ranks every record the company is named on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from index.components.scores import RecordScores
from index.query import AnalyzedQuery
from ingest.models import Question, QuickRef


class CompanyListRanking:
    """A query that names a company and no topic ranks by record alone: full
    questions first, then the most specific company lists (fewest companies).
    The ranking does not depend on the query, so it is computed once."""

    def __init__(self, records: Mapping[str, Question | QuickRef], doc_ids: Sequence[str]) -> None:
        rank = [1.0 + (records[d].kind == "question") - 0.01 * len(records[d].companies) for d in doc_ids]
        self.rank = np.asarray(rank, dtype=np.float32)
        self.rank.flags.writeable = False

    def run(self, analyzed: AnalyzedQuery, fused: RecordScores, pool: np.ndarray) -> RecordScores:
        if not analyzed.company_only:
            return fused
        return RecordScores(self.rank, fused.best_chunk)
