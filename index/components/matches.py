"""Matches: which of the ranked records the query is about, not only the least bad."""

from __future__ import annotations

import numpy as np

from index.components.scores import RecordScores
from index.query import AnalyzedQuery


class MatchCut:
    """The ranked records that match the query.  Search always ranks ``k``
    records; a list of "results" should hold only those the query is about:

    - none when the query is not answerable (nonsense, off-topic);
    - for a company and no topic ("what does Uber ask?"), every record of the
      company (the list a company question asks for);
    - else the records scoring at least ``ratio`` of the best record's score
      in the whole index.  The best is taken before any filter, so a filter
      only ever removes matches, never promotes a weak record to one.
    """

    def __init__(self, ratio: float = 0.5) -> None:
        if not 0.0 < ratio <= 1.0:
            raise ValueError(f"ratio must be in (0, 1], got {ratio}")
        self.ratio = ratio

    def run(self, analyzed: AnalyzedQuery, fused: RecordScores, order: np.ndarray, answerable: bool) -> np.ndarray:
        if not answerable or not len(order):
            return order[:0]
        if analyzed.company_only:
            return order
        best = float(fused.scores.max())
        return order[fused.scores[order] >= self.ratio * best] if best > 0 else order[:0]
