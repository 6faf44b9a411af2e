"""Filters: which records a search may return."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from index.filters import Filters
from ingest.models import Question, QuickRef


class FilterMask:
    """The positions of the records that pass the filters.  One pass over the
    records per distinct filter, then reused: queries repeat the same few
    companies and tags."""

    MAX_CACHED = 256

    def __init__(
        self, records: Mapping[str, Question | QuickRef], doc_ids: Sequence[str], rows: Sequence[QuickRef] = ()
    ) -> None:
        """``rows``: the quick-reference rows; a row linked to another bank's
        answer lists that answer in the row's bank too, so a bank filter keeps
        it (the row's own text searches into that answer, having no record)."""
        self.records = records
        self.doc_ids = list(doc_ids)
        self.listed: dict[str, list[Question | QuickRef]] = {}
        for row in rows:
            answer = records.get(row.question_id) if row.question_id else None
            if answer is not None and answer.bank_slug != row.bank_slug:
                self.listed.setdefault(answer.id, []).append(replace(answer, bank=row.bank, bank_slug=row.bank_slug))
        self._every = np.arange(len(self.doc_ids))
        self._pools: dict[Filters, np.ndarray] = {}

    def run(self, filters: Filters) -> np.ndarray:
        if filters.is_empty():
            return self._every
        pool = self._pools.get(filters)
        if pool is None:
            mask = np.asarray([self._matches(filters, d) for d in self.doc_ids], dtype=bool)
            pool = np.flatnonzero(mask)
            if len(self._pools) >= self.MAX_CACHED:
                self._pools.clear()
            self._pools[filters] = pool
        return pool

    def allows(self, filters: Filters, record_id: str) -> bool:
        """``record_id`` passes ``filters`` (a bank filter also passes an answer a row of that bank links to)."""
        return record_id in self.records and self._matches(filters, record_id)

    def _matches(self, filters: Filters, record_id: str) -> bool:
        if filters.matches(self.records[record_id]):
            return True
        return bool(filters.bank) and any(filters.matches(as_listed) for as_listed in self.listed.get(record_id, ()))
