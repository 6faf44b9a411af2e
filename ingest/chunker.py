"""Section-aware chunking of records.

Every chunk carries its question's id, title and section heading, and the
text that is embedded and BM25-indexed starts with them.  A code block is
never split; a long section is split at paragraph boundaries so the embedded
text fits the model's 256-token window.  The title, the insight box and each
quick-reference row get chunks of their own; so do a row's practice-link
article and its generated overview, when ingest added them (``ingest.enrich``),
each scoring for the row as its own chunk does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ingest.models import Chunk, ChunkKind, Question, QuickRef

_TOKEN = re.compile(r"\w+|[^\w\s]")
_FENCE_OPEN = re.compile(r"^\s*(`{3,}|~{3,})")


def estimate_tokens(text: str) -> int:
    """Rough word-piece count: words and punctuation, long words counted twice."""
    return sum(2 if len(t) > 8 else 1 for t in _TOKEN.findall(text))


def paragraphs(markdown: str) -> list[str]:
    """Split at blank lines, keeping each fenced code block whole."""
    out: list[str] = []
    buf: list[str] = []
    fence: str | None = None
    for line in markdown.split("\n"):
        m = _FENCE_OPEN.match(line)
        if m:
            if fence is None:
                if buf:
                    out.append("\n".join(buf))
                    buf = []
                fence = m.group(1)
                buf.append(line)
                continue
            if line.strip().startswith(fence):
                buf.append(line)
                out.append("\n".join(buf))
                buf, fence = [], None
                continue
        if fence is None and not line.strip():
            if buf:
                out.append("\n".join(buf))
                buf = []
            continue
        buf.append(line)
    if buf:
        out.append("\n".join(buf))
    return [p for p in out if p.strip()]


def pack_greedy(
    units: Iterable[str], budget: int, sep: str, split: Callable[[str], list[str]] = lambda unit: [unit]
) -> list[str]:
    """Join consecutive units with ``sep`` into pieces of at most ``budget``
    estimated tokens, filling each piece before starting the next.  A unit over
    the budget never shares a piece: ``split`` turns it into pieces of its own
    (by default it stands alone)."""
    pieces: list[str] = []
    buf: list[str] = []
    size = 0
    for unit in units:
        n = estimate_tokens(unit)
        if buf and size + n > budget:
            pieces.append(sep.join(buf))
            buf, size = [], 0
        if n > budget:
            pieces.extend(split(unit))
            continue
        buf.append(unit)
        size += n
    if buf:
        pieces.append(sep.join(buf))
    return pieces


class Chunker:
    """Turns records into chunks.  ``max_tokens`` bounds the estimated size."""

    def __init__(self, max_tokens: int = 200) -> None:
        if max_tokens < 32:
            raise ValueError(f"max_tokens must be at least 32, got {max_tokens}")
        self.max_tokens = max_tokens

    def run(self, questions: Iterable[Question], quick_refs: Iterable[QuickRef]) -> list[Chunk]:
        chunks: list[Chunk] = []
        for q in questions:
            chunks.extend(self._question(q))
        for ref in quick_refs:
            chunks.append(self._quick_ref(ref))
            chunks.extend(self.row_knowledge(ref))
        return chunks

    def _question(self, q: Question) -> Iterator[Chunk]:
        meta = {"bank": q.bank_slug}
        tags = ", ".join(q.tags)
        yield Chunk(
            id=f"{q.id}#title",
            doc_id=q.id,
            record_id=q.id,
            kind="title",
            title=q.title,
            heading=None,
            text=f"{q.title}\n{tags}".strip(),
            meta=meta,
        )
        for s_idx, section in enumerate(q.sections):
            yield from self._pieces(
                q, section.markdown, "section", section.heading, id_stem=f"s{s_idx}", meta=meta, section_index=s_idx
            )
        if q.insight:
            yield from self._pieces(q, q.insight, "insight", "Interviewer's Insight", id_stem="insight", meta=meta)

    def _pieces(
        self,
        q: Question,
        markdown: str,
        kind: ChunkKind,
        heading: str | None,
        *,
        id_stem: str,
        meta: dict[str, Any],
        section_index: int | None = None,
    ) -> Iterator[Chunk]:
        """One chunk per packed piece of ``markdown``, ids ``<question>#<id_stem>.<n>``,
        each text headed by the question title and ``heading``."""
        header = f"{q.title}\n{heading}" if heading else q.title
        for p_idx, piece in enumerate(self._pack(paragraphs(markdown), header)):
            yield Chunk(
                id=f"{q.id}#{id_stem}.{p_idx}",
                doc_id=q.id,
                record_id=q.id,
                kind=kind,
                title=q.title,
                heading=heading,
                text=f"{header}\n{piece}",
                section_index=section_index,
                meta=meta,
            )

    def _quick_ref(self, ref: QuickRef) -> Chunk:
        topics = ", ".join(ref.topics)
        return Chunk(
            id=f"{ref.id}#row",
            doc_id=ref.question_id or ref.id,
            record_id=ref.id,
            kind="quick_reference",
            title=ref.title,
            heading="Quick reference",
            text=f"{ref.title}\n{topics}".strip(),
            meta={"bank": ref.bank_slug},
        )

    def row_knowledge(self, ref: QuickRef) -> list[Chunk]:
        """The chunks of what a row carries beyond its title: its practice-link
        article (``<row>#article.<n>``), then its generated overview
        (``<row>#expansion.<n>``).  Each text starts with the row title and one
        more line (the page's title; the row's topics), which a snippet drops;
        the heading says where the text comes from."""
        chunks: list[Chunk] = []
        owner = ref.question_id or ref.id
        if ref.article is not None:
            article = ref.article
            second = article.title or ref.practice_label or article.url
            heading = f"Practice link: {second}"
            chunks += self._row_pieces(ref, owner, "article", heading, second, article.text, {"source": article.url})
        if ref.expansion is not None:
            expansion = ref.expansion
            heading = f"Generated overview ({expansion.generated_by})"
            second = ", ".join(ref.topics) or ref.title
            meta = {"generated": True, "generated_by": expansion.generated_by}
            chunks += self._row_pieces(ref, owner, "expansion", heading, second, expansion.text, meta)
        return chunks

    def _row_pieces(
        self, ref: QuickRef, owner: str, kind: ChunkKind, heading: str, second: str, text: str, meta: dict[str, Any]
    ) -> list[Chunk]:
        header = f"{ref.title}\n{second}"
        return [
            Chunk(
                id=f"{ref.id}#{kind}.{p_idx}",
                doc_id=owner,
                record_id=ref.id,
                kind=kind,
                title=ref.title,
                heading=heading,
                text=f"{header}\n{piece}",
                meta={"bank": ref.bank_slug, **meta},
            )
            for p_idx, piece in enumerate(self._pack(paragraphs(text), header))
        ]

    def _pack(self, paras: list[str], header: str) -> list[str]:
        """Greedily pack paragraphs into pieces that fit the token budget.

        A code block over the budget stays whole; a prose paragraph over it is
        split at line, then sentence ends."""
        budget = max(16, self.max_tokens - estimate_tokens(header))
        return pack_greedy(
            paras,
            budget,
            "\n\n",
            split=lambda para: [para] if _FENCE_OPEN.match(para) else self._split_long(para, budget),
        )

    @staticmethod
    def _split_long(para: str, budget: int) -> list[str]:
        """A prose paragraph longer than the budget: split at line, then sentence ends."""
        units = [u for line in para.split("\n") for u in re.split(r"(?<=[.!?])\s+", line) if u.strip()]
        return pack_greedy(units, budget, "\n")
