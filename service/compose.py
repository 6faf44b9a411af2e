"""Compose a chat answer from the curated bank (extractive, nothing invented).

The best question's title and metadata, its sections most relevant to the
query, its code (first when the user asked for code), the interviewer's
insight, and links to the full answer and the next-best related questions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from index.embed import Embedder
from index.query import rewrite_followup
from index.search import Filters, Searcher, SearchHit, SearchResult
from index.tokenize import tokenize
from ingest.models import Question, QuickRef, Section

CODE_REQUEST = re.compile(r"\b(code|implement\w*|snippet|example|python|sklearn|scikit|script|write|program)\b", re.I)

EXAMPLE_QUESTIONS = (
    "How do I handle class imbalance?",
    "Why does lasso zero out weights?",
    "Explain the bias-variance tradeoff",
    "Show me sklearn code for stratified k-fold",
    "What does Uber ask in ML interviews?",
)

ABSTAIN_TEXT = (
    "I couldn't find that in the question banks I cover, so I won't guess. "
    "I answer machine-learning interview questions from a curated bank: concepts, formulas, "
    "Python code and what interviewers look for."
)


@dataclass(frozen=True, slots=True)
class ComposedAnswer:
    answer: str
    abstained: bool
    result: SearchResult
    rewritten_query: str
    suggestions: tuple[str, ...]
    sections: tuple[Section, ...]


def wants_code(query: str) -> bool:
    return bool(CODE_REQUEST.search(query))


class AnswerComposer:
    """Retrieves for a conversation and writes the extractive markdown answer."""

    def __init__(self, searcher: Searcher, embedder: Embedder, max_sections: int = 2, related: int = 3) -> None:
        if max_sections <= 0 or related < 0:
            raise ValueError("max_sections must be positive and related non-negative")
        self.searcher = searcher
        self.embedder = embedder
        self.max_sections = max_sections
        self.related = related

    def rewrite(self, messages: Sequence[tuple[str, str]]) -> str:
        """Standalone query for the last user message, using earlier user turns."""
        users = [content for role, content in messages if role == "user"]
        return rewrite_followup(users[-1], users[:-1])

    def compose(
        self, messages: Sequence[tuple[str, str]], filters: Filters | None = None, k: int = 5
    ) -> ComposedAnswer:
        query = self.rewrite(messages)
        result = self.searcher.search(query, k=max(k, self.related + 1), mode="hybrid", filters=filters)
        if not result.answerable or not result.hits:
            return ComposedAnswer(
                answer=self.abstain_markdown(),
                abstained=True,
                result=result,
                rewritten_query=query,
                suggestions=EXAMPLE_QUESTIONS[:3],
                sections=(),
            )
        best = result.hits[0]
        record = best.record
        if isinstance(record, QuickRef):
            answer, sections = self._quick_ref_answer(record, result), tuple[Section, ...]()
        else:
            sections = self.relevant_sections(record, query, best)
            answer = self._question_answer(record, sections, best, result, wants_code(messages[-1][1]))
        suggestions = tuple(h.record.title for h in result.hits[1 : 1 + self.related])
        return ComposedAnswer(
            answer=answer,
            abstained=False,
            result=result,
            rewritten_query=query,
            suggestions=suggestions,
            sections=sections,
        )

    def relevant_sections(self, q: Question, query: str, best: SearchHit) -> tuple[Section, ...]:
        """The sections that best match the query: the hit's section, then the
        next by lexical overlap (cheap; the dense score already chose the question)."""
        if not q.sections:
            return ()
        terms = set(tokenize(query))
        scores = []
        for idx, s in enumerate(q.sections):
            words = tokenize(f"{s.heading or ''} {s.markdown}")
            overlap = len(terms & set(words)) / (1 + np.log1p(len(words)))
            scores.append((overlap, -idx, idx))
        order = [i for _, _, i in sorted(scores, reverse=True)]
        first = best.chunk.section_index if best.chunk and best.chunk.section_index is not None else order[0]
        if best.chunk is not None and best.chunk.kind == "title":
            first = 0
        chosen = [first] + [i for i in order if i != first]
        return tuple(q.sections[i] for i in sorted(chosen[: self.max_sections]))

    @staticmethod
    def meta_line(record: Question | QuickRef) -> str:
        parts = []
        if record.difficulty:
            parts.append(f"**Difficulty:** {record.difficulty}")
        if record.companies:
            parts.append(f"**Asked by:** {', '.join(record.companies)}")
        if record.tags:
            parts.append(f"**Tags:** {', '.join(record.tags)}")
        return " · ".join(parts)

    def _question_answer(
        self, q: Question, sections: tuple[Section, ...], best: SearchHit, result: SearchResult, code_first: bool
    ) -> str:
        out = [f"### {q.title}", self.meta_line(q), ""]
        code_blocks = best.code[:1]
        if code_first and code_blocks:
            c = code_blocks[0]
            out += ["**Code:**", "", f"```{c.language}", c.code, "```", ""]
        for s in sections:
            if s.heading:
                out += [f"**{s.heading}:**", ""]
            out += [s.markdown, ""]
        if not code_first and code_blocks and not any(c in s.code_blocks for s in sections for c in code_blocks):
            c = code_blocks[0]
            out += ["**Code:**", "", f"```{c.language}", c.code, "```", ""]
        if q.insight:
            quoted = "\n".join(f"> {line}" if line else ">" for line in q.insight.splitlines())
            out += ["**Interviewer's Insight:**", "", quoted, ""]
        out.append(f"[Full answer](/q/{q.id})" + (f" · [Practice]({q.practice_url})" if q.practice_url else ""))
        related = [h for h in result.hits[1 : 1 + self.related]]
        if related:
            out += ["", "**Related:** " + " · ".join(f"[{h.record.title}](/q/{h.record.id})" for h in related)]
        return "\n".join(out).strip() + "\n"

    def _quick_ref_answer(self, r: QuickRef, result: SearchResult) -> str:
        out = [
            f"### {r.title}",
            self.meta_line(r),
            "",
            "This topic is in the bank's quick-reference list, without a full curated answer.",
        ]
        if r.practice_url:
            out.append(f"Practice it here: [{r.practice_label or r.practice_url}]({r.practice_url})")
        related = [h for h in result.hits[1 : 1 + self.related] if h.record.kind == "question"]
        if related:
            out += [
                "",
                "**Related answered questions:** "
                + " · ".join(f"[{h.record.title}](/q/{h.record.id})" for h in related),
            ]
        return "\n".join(out).strip() + "\n"

    @staticmethod
    def abstain_markdown() -> str:
        examples = "\n".join(f"- {q}" for q in EXAMPLE_QUESTIONS)
        return f"{ABSTAIN_TEXT}\n\nTry questions like:\n\n{examples}\n"
