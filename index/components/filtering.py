"""Filters: which records a search may return."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from index.filters import Filters
from ingest.models import Question, QuickRef


class FilterMask:
    """The positions of the records that pass the filters.  One pass over the
    records per distinct filter, then reused: queries repeat the same few
    companies and tags."""

    MAX_CACHED = 256

    def __init__(self, records: Mapping[str, Question | QuickRef], doc_ids: Sequence[str]) -> None:
        self.records = records
        self.doc_ids = list(doc_ids)
        self._every = np.arange(len(self.doc_ids))
        self._pools: dict[Filters, np.ndarray] = {}

    def run(self, filters: Filters) -> np.ndarray:
        if filters.is_empty():
            return self._every
        pool = self._pools.get(filters)
        if pool is None:
            mask = np.asarray([filters.matches(self.records[d]) for d in self.doc_ids], dtype=bool)
            pool = np.flatnonzero(mask)
            if len(self._pools) >= self.MAX_CACHED:
                self._pools.clear()
            self._pools[filters] = pool
        return pool
