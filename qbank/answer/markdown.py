"""An ``Answer`` as markdown: the ``answer`` text of the JSON/SSE API, and what
the web UI renders to HTML (``service.render``)."""

from __future__ import annotations

from collections.abc import Sequence

from index.results import SearchHit
from ingest.models import CodeBlock, Question, QuickRef
from qbank.answer.model import Answer


def meta_line(record: Question | QuickRef) -> str:
    parts = []
    if record.difficulty:
        parts.append(f"**Difficulty:** {record.difficulty}")
    if record.companies:
        parts.append(f"**Asked by:** {', '.join(record.companies)}")
    if record.tags:
        parts.append(f"**Tags:** {', '.join(record.tags)}")
    return " · ".join(parts)


def _code(block: CodeBlock) -> list[str]:
    return ["**Code:**", "", f"```{block.language}", block.code, "```", ""]


def _links(hits: Sequence[SearchHit]) -> str:
    return " · ".join(f"[{h.record.title}](/q/{h.record.id})" for h in hits)


def abstain_markdown(answer: Answer) -> str:
    examples = "\n".join(f"- {q}" for q in answer.examples)
    return f"{answer.message}\n\nTry questions like:\n\n{examples}\n"


def to_markdown(answer: Answer) -> str:
    record = answer.record
    if answer.abstained or record is None:
        return abstain_markdown(answer)
    out = [f"### {record.title}", meta_line(record), ""]
    if isinstance(record, QuickRef):
        out.append(answer.message or "")
        if record.practice_url:
            out.append(f"Practice it here: [{record.practice_label or record.practice_url}]({record.practice_url})")
        questions = [h for h in answer.related if h.record.kind == "question"]
        if questions:
            out += ["", "**Related answered questions:** " + _links(questions)]
        return "\n".join(out).strip() + "\n"
    if answer.code_first:
        for block in answer.code:
            out += _code(block)
    for s in answer.sections:
        if s.heading:
            out += [f"**{s.heading}:**", ""]
        out += [s.markdown, ""]
    if not answer.code_first:
        for block in answer.code:
            out += _code(block)
    if answer.insight:
        quoted = "\n".join(f"> {line}" if line else ">" for line in answer.insight.splitlines())
        out += ["**Interviewer's Insight:**", "", quoted, ""]
    out.append(
        f"[Full answer](/q/{record.id})" + (f" · [Practice]({record.practice_url})" if record.practice_url else "")
    )
    if answer.related:
        out += ["", "**Related:** " + _links(answer.related)]
    return "\n".join(out).strip() + "\n"
