"""Hybrid search: BM25 and dense scores per chunk, aggregated to records, fused.

Chunk scores are aggregated to the record a user wants (the question, or an
unlinked quick-reference row) by taking each record's best chunk.  BM25 is
normalised by the query's best record; dense scores are cosines.  The fused
score is a weighted sum whose weights were chosen on the eval set's dev split
(see eval/README.md).  ``answerable`` is false when the best record's dense
and lexical evidence both fall below calibrated floors.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from index.embed import Embedder
from index.query import AnalyzedQuery, QueryAnalyzer, SpellCorrector
from index.store import IndexArtifact
from index.tokenize import tokenize
from ingest.models import Chunk, CodeBlock, Question, QuickRef

Mode = Literal["hybrid", "bm25", "dense"]
MODES: tuple[str, ...] = ("hybrid", "bm25", "dense")


@dataclass(frozen=True, slots=True)
class Filters:
    company: str | None = None
    difficulty: str | None = None
    tag: str | None = None
    bank: str | None = None

    def matches(self, record: Question | QuickRef) -> bool:
        if self.company and self.company.lower() not in {c.lower() for c in record.companies}:
            return False
        if self.difficulty and (record.difficulty or "").lower() != self.difficulty.lower():
            return False
        if self.tag and self.tag.lower() not in {t.lower() for t in record.tags}:
            return False
        return not self.bank or self.bank.lower() in (record.bank_slug.lower(), record.bank.lower())

    def is_empty(self) -> bool:
        return not (self.company or self.difficulty or self.tag or self.bank)


@dataclass(frozen=True, slots=True)
class SearchConfig:
    """Fusion weights and abstention floors, tuned on the dev split."""

    dense_weight: float = 0.55
    bm25_weight: float = 0.45
    bm25_norm: str = "saturate"
    bm25_saturation: float = 15.0
    dense_candidates: int = 300
    kind_boost: dict[str, float] = field(
        default_factory=lambda: {"title": 1.0, "quick_reference": 1.0, "section": 1.0, "insight": 0.95}
    )
    second_chunk_weight: float = 0.0
    abstain_dense_floor: float = 0.39
    abstain_bm25_floor: float = 7.5
    abstain_dense_low: float = 0.17
    abstain_min_idf: float = 3.5

    def __post_init__(self) -> None:
        if self.dense_weight < 0 or self.bm25_weight < 0 or self.dense_weight + self.bm25_weight == 0:
            raise ValueError("fusion weights must be non-negative and not both zero")
        if self.dense_candidates <= 0:
            raise ValueError(f"dense_candidates must be positive, got {self.dense_candidates}")


@dataclass(frozen=True, slots=True)
class SearchHit:
    record: Question | QuickRef
    score: float
    dense_score: float
    bm25_score: float
    chunk: Chunk | None
    section: str | None
    snippet: str
    code: tuple[CodeBlock, ...]


@dataclass(frozen=True, slots=True)
class SearchResult:
    query: str
    analyzed: AnalyzedQuery
    mode: str
    hits: tuple[SearchHit, ...]
    answerable: bool
    took_ms: float
    filters: Filters


_CODE_FENCE = re.compile(r"```.*?(```|$)", re.DOTALL)


def make_snippet(chunk: Chunk | None, limit: int = 320) -> str:
    if chunk is None:
        return ""
    body = chunk.text.split("\n", 2 if chunk.heading and chunk.kind != "quick_reference" else 1)
    text = body[-1] if len(body) > 1 else chunk.text
    text = _CODE_FENCE.sub(" ", text)
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0] + " …"
    return text


def top_positions(values: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` largest values, largest first, ties in position
    order (what a stable descending sort gives), without sorting them all."""
    candidates = np.arange(len(values))
    if len(values) > 4 * k:
        kth = np.partition(values, len(values) - k)[len(values) - k]
        candidates = np.flatnonzero(values >= kth)
    return candidates[np.argsort(-values[candidates], kind="stable")][:k]


class Searcher:
    """Searches one loaded ``IndexArtifact``."""

    def __init__(self, artifact: IndexArtifact, embedder: Embedder, config: SearchConfig | None = None) -> None:
        self.artifact = artifact
        self.embedder = embedder
        self.config = config or SearchConfig()
        self.records: dict[str, Question | QuickRef] = artifact.records
        self.doc_ids: list[str] = sorted({c.doc_id for c in artifact.chunks})
        self._doc_pos = {d: i for i, d in enumerate(self.doc_ids)}
        self._chunk_doc = np.asarray([self._doc_pos[c.doc_id] for c in artifact.chunks], dtype=np.int64)
        # Chunk positions grouped by doc (ascending within a doc) and where each doc's group
        # starts: per-doc maxima are then one pass (reduceat), not a sort per query.
        self._by_doc = np.argsort(self._chunk_doc, kind="stable")
        self._grouped_doc = self._chunk_doc[self._by_doc]
        self._doc_starts = np.flatnonzero(np.r_[True, self._grouped_doc[1:] != self._grouped_doc[:-1]])
        boosts = self.config.kind_boost
        self._chunk_boost = np.asarray([boosts.get(c.kind, 1.0) for c in artifact.chunks], dtype=np.float32)
        companies = {c for r in self.records.values() for c in r.companies}
        corrector = SpellCorrector(c.text for c in artifact.chunks)
        self.analyzer = QueryAnalyzer(artifact.acronyms, corrector, companies)
        # "What does Uber ask?" ranks by record alone: full questions first, most
        # specific company lists first.  Query-independent, so computed once.
        self._company_rank = np.asarray(
            [1.0 + (self.records[d].kind == "question") - 0.01 * len(self.records[d].companies) for d in self.doc_ids],
            dtype=np.float32,
        )
        self._company_rank.flags.writeable = False
        self._masks: dict[Filters, np.ndarray] = {}

    def _allowed(self, filters: Filters) -> np.ndarray:
        """Which docs pass ``filters``: one pass over the records per distinct
        filter, then reused (queries repeat the same few companies and tags)."""
        mask = self._masks.get(filters)
        if mask is None:
            mask = np.asarray([filters.matches(self.records[d]) for d in self.doc_ids], dtype=bool)
            if len(self._masks) >= 256:
                self._masks.clear()
            self._masks[filters] = mask
        return mask

    # -- scoring ----------------------------------------------------------------

    def _aggregate(self, chunk_scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Best (boosted) chunk score per doc and which chunk gave it (on a tie,
        the doc's last such chunk)."""
        boosted = chunk_scores * self._chunk_boost
        if self.config.second_chunk_weight:
            return self._aggregate_two(boosted)
        grouped = boosted[self._by_doc]
        best = np.maximum.reduceat(grouped, self._doc_starts)
        is_best = grouped == best[self._grouped_doc]
        last_best = np.maximum.reduceat(np.where(is_best, np.arange(len(grouped)), -1), self._doc_starts)
        return best.astype(np.float32, copy=False), self._by_doc[last_best]

    def _aggregate_two(self, boosted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``_aggregate`` plus ``second_chunk_weight`` times each doc's second-best chunk."""
        n_docs = len(self.doc_ids)
        order = np.lexsort((boosted, self._chunk_doc))  # by doc, then score ascending
        docs_sorted = self._chunk_doc[order]
        last = np.r_[docs_sorted[1:] != docs_sorted[:-1], True]
        best_chunk = np.full(n_docs, -1, dtype=np.int64)
        best_chunk[docs_sorted[last]] = order[last]
        best = np.zeros(n_docs, dtype=np.float32)
        best[docs_sorted[last]] = boosted[order[last]]
        second_mask = np.r_[last[1:], False] & ~last
        second = np.zeros(n_docs, dtype=np.float32)
        second[docs_sorted[second_mask]] = boosted[order[second_mask]]
        return best + self.config.second_chunk_weight * second, best_chunk

    def _bm25_chunks(self, analyzed: AnalyzedQuery) -> np.ndarray:
        return self.artifact.sparse.scores(tokenize(analyzed.text))

    def _dense_chunks(self, analyzed: AnalyzedQuery, use_cache: bool) -> np.ndarray:
        vector = self.embedder.encode_query(analyzed.text, use_cache=use_cache)
        ids, sims = self.artifact.dense.search(vector, self.config.dense_candidates)
        scores = np.zeros(len(self.artifact.chunks), dtype=np.float32)
        if len(sims):
            scores[:] = float(sims.min()) - 0.05  # chunks outside the candidate set
            scores[ids] = sims
        return scores

    def search(
        self,
        query: str,
        k: int = 10,
        mode: str = "hybrid",
        filters: Filters | None = None,
        use_cache: bool = True,
    ) -> SearchResult:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
        if k <= 0:
            raise ValueError(f"k must be positive, got {k}")
        start = time.perf_counter()
        filters = filters or Filters()
        analyzed = self.analyzer.analyze(query)
        if analyzed.companies and not filters.company:
            filters = Filters(analyzed.companies[0], filters.difficulty, filters.tag, filters.bank)

        n_docs = len(self.doc_ids)
        bm25_doc = np.zeros(n_docs, dtype=np.float32)
        dense_doc = np.zeros(n_docs, dtype=np.float32)
        bm25_best = dense_best = np.full(n_docs, -1, dtype=np.int64)
        if mode in ("hybrid", "bm25"):
            bm25_doc, bm25_best = self._aggregate(self._bm25_chunks(analyzed))
        if mode in ("hybrid", "dense"):
            dense_doc, dense_best = self._aggregate(self._dense_chunks(analyzed, use_cache))

        allowed = self._allowed(filters) if not filters.is_empty() else None
        pool = np.flatnonzero(allowed) if allowed is not None else np.arange(n_docs)
        bm25_max = float(bm25_doc[pool].max()) if len(pool) else 0.0
        if mode == "bm25":
            fused, best_chunk = bm25_doc, bm25_best
        elif mode == "dense":
            fused, best_chunk = dense_doc, dense_best
        else:
            if self.config.bm25_norm == "saturate":
                bm25_norm = (bm25_doc / (bm25_doc + self.config.bm25_saturation)).astype(np.float32)
            else:
                bm25_norm = bm25_doc / bm25_max if bm25_max > 0 else bm25_doc
            fused = self.config.dense_weight * dense_doc + self.config.bm25_weight * bm25_norm
            dense_part = self.config.dense_weight * dense_doc
            best_chunk = np.where(dense_part >= fused - dense_part, dense_best, bm25_best)

        if analyzed.company_only:
            # "what does Uber ask?": every record the company is named on answers it.
            fused = self._company_rank
        order = pool[top_positions(fused[pool], k)]
        hits = tuple(
            self._hit(int(i), float(fused[i]), float(dense_doc[i]), float(bm25_doc[i]), int(best_chunk[i]))
            for i in order
        )
        answerable = self._answerable(analyzed, hits, mode, dense_doc, bm25_doc)
        return SearchResult(
            query=query,
            analyzed=analyzed,
            mode=mode,
            hits=hits,
            answerable=answerable,
            took_ms=(time.perf_counter() - start) * 1000,
            filters=filters,
        )

    def _answerable(
        self, analyzed: AnalyzedQuery, hits: Sequence[SearchHit], mode: str, dense_doc: np.ndarray, bm25_doc: np.ndarray
    ) -> bool:
        if not hits:
            return False
        if analyzed.company_only:
            return True
        cfg = self.config
        top_dense = float(dense_doc.max()) if mode != "bm25" else 0.0
        top_bm25 = float(bm25_doc.max()) if mode != "dense" else 0.0
        if mode == "bm25":
            return top_bm25 >= cfg.abstain_bm25_floor
        if mode == "dense":
            return top_dense >= cfg.abstain_dense_floor
        if top_dense >= cfg.abstain_dense_floor:
            return True
        if top_dense < cfg.abstain_dense_low:
            return False
        return top_bm25 >= cfg.abstain_bm25_floor or self._in_vocabulary(analyzed)

    def _in_vocabulary(self, analyzed: AnalyzedQuery) -> bool:
        """Every topic word is corpus vocabulary and one of them is distinctive:
        short in-domain queries ('bn before relu') that score low on both sides."""
        sparse_index = self.artifact.sparse
        terms = analyzed.topic_terms
        if not terms or any(t not in sparse_index.term_ids for t in terms):
            return False
        n = sparse_index.size
        best_idf = max(float(np.log(n / sparse_index.doc_freq[sparse_index.term_ids[t]])) for t in terms)
        return best_idf >= self.config.abstain_min_idf

    def _hit(self, doc: int, score: float, dense: float, bm25: float, chunk_pos: int) -> SearchHit:
        record = self.records[self.doc_ids[doc]]
        chunk = self.artifact.chunks[chunk_pos] if chunk_pos >= 0 else None
        code: tuple[CodeBlock, ...] = ()
        section = chunk.heading if chunk else None
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
            section=section,
            snippet=make_snippet(chunk),
            code=code,
        )
