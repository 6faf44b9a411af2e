"""What a search returns: typed hits and the result around them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from index.filters import Filters
from index.query import AnalyzedQuery
from ingest.models import Chunk, CodeBlock, Question, QuickRef


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
    # Refused, and a neighbouring subject's question matches it clearly better than the banks:
    # (subject, question).
    neighbour: tuple[str, str] | None = None
    neighbour_cosine: float | None = None  # the query's cosine to that question
    # The query named this company ("uber svm questions"), which asks none of the records that
    # answer it: the hits are the whole bank's (``filters`` without the company).
    unasked: str | None = None


@dataclass(frozen=True, slots=True)
class Passage:
    """A part of a full answer (a section or the insight) that discusses a topic."""

    record: Question
    chunk: Chunk
    dense_score: float
    bm25_score: float

    @property
    def heading(self) -> str:
        return self.chunk.heading or "Interviewer's Insight"

    @property
    def markdown(self) -> str:
        """The passage verbatim: the whole section the chunk is from, or the insight."""
        if self.chunk.section_index is not None:
            return self.record.sections[self.chunk.section_index].markdown
        return self.record.insight or ""


_CODE_FENCE = re.compile(r"```.*?(```|$)", re.DOTALL)


SNIPPET_CHARS = 320


SNIPPETS_KEPT = 4096
"""Snippets remembered, of each kind (markdown and plain text).  A snippet
depends on its chunk's text alone, and the same chunks come back query after
query, while writing one (splitting, dropping code, and for plain text the
markdown and LaTeX passes) cost a cached search more CPU than the search
itself (BENCHMARKS.md).  Keyed by the index's own text objects, so a full
cache adds a few MB of snippets; after an index is replaced, its texts stay
referenced until newer snippets push them out."""


def below_heading(chunk: Chunk) -> bool:
    """Whether the chunk's text starts with a heading line after its title line."""
    return bool(chunk.heading) and chunk.kind != "quick_reference"


def linked_row(chunk: Chunk) -> bool:
    """A quick-reference row linked into a full answer (its chunk is the answer's, its text the
    row's own title and category)."""
    return chunk.kind == "quick_reference" and chunk.record_id != chunk.doc_id


def row_line(text: str) -> str:
    """A linked row's text as its snippet: the row's title and category ("Decision Trees — Tree-based
    Models"); the category alone, under the answer's title, named nothing."""
    return " — ".join(line.strip() for line in text.split("\n") if line.strip())


def body_of(text: str, after_heading: bool) -> str:
    """The part of a chunk's ``text`` a snippet shows: without the record's title
    and the section heading it starts with (``after_heading``), and without code."""
    lines = text.split("\n", 2 if after_heading else 1)
    body = lines[-1] if len(lines) > 1 else text
    return _CODE_FENCE.sub(" ", body)


def cut_snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """``text`` on one line, cut at a word to at most ``limit`` characters (and " …")."""
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0] + " …"
    return text


def make_snippet(chunk: Chunk | None, limit: int = SNIPPET_CHARS) -> str:
    if chunk is None:
        return ""
    return (
        cut_snippet(row_line(chunk.text), limit)
        if linked_row(chunk)
        else _snippet(chunk.text, below_heading(chunk), limit)
    )


@lru_cache(maxsize=SNIPPETS_KEPT)
def _snippet(text: str, after_heading: bool, limit: int) -> str:
    return cut_snippet(body_of(text, after_heading), limit)
