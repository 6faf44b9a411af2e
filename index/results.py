"""What a search returns: typed hits and the result around them."""

from __future__ import annotations

import re
from dataclasses import dataclass

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


def snippet_body(chunk: Chunk) -> str:
    """The part of a chunk a snippet shows: its text without the record's
    title and the section heading it starts with, and without code."""
    body = chunk.text.split("\n", 2 if chunk.heading and chunk.kind != "quick_reference" else 1)
    text = body[-1] if len(body) > 1 else chunk.text
    return _CODE_FENCE.sub(" ", text)


def cut_snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """``text`` on one line, cut at a word to at most ``limit`` characters (and " …")."""
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0] + " …"
    return text


def make_snippet(chunk: Chunk | None, limit: int = SNIPPET_CHARS) -> str:
    return cut_snippet(snippet_body(chunk), limit) if chunk is not None else ""
