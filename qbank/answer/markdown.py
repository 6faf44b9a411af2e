"""An ``Answer`` as markdown: the ``answer`` text of the JSON/SSE API, and what
the web UI renders to HTML (``service.render``)."""

from __future__ import annotations

from collections.abc import Sequence

from index.filters import shown
from index.results import SearchHit
from ingest.models import CodeBlock, Expansion, Question, QuickRef
from qbank.answer.model import Answer, restarted_line, unasked_line


def meta_line(record: Question | QuickRef) -> str:
    parts = []
    if record.difficulty:
        parts.append(f"**Difficulty:** {record.difficulty}")
    if record.companies:
        parts.append(f"**Asked by:** {', '.join(record.companies)}")
    if record.tags:
        parts.append(f"**Tags:** {', '.join(record.tags)}")
    return " · ".join(parts)


def heading_label(heading: str) -> str:
    """A section heading as the label in front of its text: with a colon,
    unless it already ends in punctuation ("What is Imbalanced Data?", never
    "What is Imbalanced Data?:")."""
    heading = heading.rstrip()
    return heading if heading.endswith(("?", "!", ":", ".", "…")) else f"{heading}:"


def overview_label(expansion: Expansion) -> str:
    """What a row's generated overview is, said before it wherever it is shown."""
    return (
        f"written by the model {expansion.generated_by} when the index was built; it is not the bank's text "
        "and was not checked against any source"
    )


def overview_markdown(expansion: Expansion) -> list[str]:
    quoted = "\n".join(f"> {line}" if line else ">" for line in expansion.text.splitlines())
    return [f"**Generated overview** ({overview_label(expansion)}):", "", quoted]


def _code(block: CodeBlock, heading: str | None = None) -> list[str]:
    """A code block shown apart from the sections, under the heading of the section it
    comes from when that is not shown, else "Code:"."""
    return [f"**{heading_label(heading) if heading else 'Code:'}**", "", f"```{block.language}", block.code, "```", ""]


def _links(hits: Sequence[SearchHit]) -> str:
    return " · ".join(f"[{h.record.title}](/q/{h.record.id})" for h in hits)


def bank_line(answer: Answer) -> str:
    """Which bank the answer is from, and another bank's answer to the same question."""
    assert answer.record is not None
    line = f"_From the “{answer.record.bank}” bank._"
    other = answer.other_bank
    if other is not None:
        line += f" The “{other.record.bank}” bank answers this too: [{other.record.title}](/q/{other.record.id})."
    return line


def _without(markdown: str, shown: Sequence[CodeBlock]) -> str:
    """A section's markdown without the code blocks already shown above it (so
    no code appears twice), noting where each one went."""
    for block in shown:
        fence = f"```{block.language}\n{block.code}\n```"
        if fence in markdown:
            markdown = markdown.replace(fence, "_(The code is shown above.)_", 1)
    return markdown


def offered(answer: Answer) -> tuple[str, tuple[str, ...]]:
    """What an answer in words only (an abstention, a reply) offers to ask next, under which
    heading: questions to try, or the questions related to the topic so far (maybe none)."""
    if answer.examples or answer.kind != "reply":
        return "Try questions like:", answer.examples
    return "Related:", answer.suggestions


RETRY_LEAD = "Meant as a follow-up? Ask:"


def message_markdown(answer: Answer) -> str:
    """An answer in words only (an abstention, a reply): its words, the follow-up it may have
    meant (``retry``), and what to ask next."""
    heading, asks = offered(answer)
    text = answer.message or ""
    if answer.retry:
        text += f"\n\n{RETRY_LEAD} {answer.retry}"  # a line, not one of the questions offered to pick
    if not asks:
        return f"{text}\n"
    listed = "\n".join(f"- {q}" for q in asks)
    return f"{text}\n\n{heading}\n\n{listed}\n"


DIFFICULTY_ORDER = ("Easy", "Medium", "Hard")


def listing_groups(answer: Answer) -> list[tuple[str, list[Question | QuickRef]]]:
    """A company list's records by difficulty, easy to hard, then those without one."""
    groups = [(d, [r for r in answer.listing if r.difficulty == d]) for d in DIFFICULTY_ORDER]
    groups.append(("Other", [r for r in answer.listing if r.difficulty not in DIFFICULTY_ORDER]))
    return [(name, records) for name, records in groups if records]


def whole_bank_line(n: int, company: str) -> str:
    """A company list that is the whole bank says so: the list tells nothing about the company."""
    return (
        f"The bank lists {shown(company)} for every one of its {n} questions, so this is the whole bank, easiest "
        'first. Narrow it ("which of those are hard?", "any on deep learning?"), or ask about any of them.'
    )


def listing_markdown(answer: Answer) -> str:
    out = [f"### {answer.title}", ""]
    if not answer.listing:
        out.append("The bank has no questions that match; ask for the whole list, or another company.")
        return "\n".join(out) + "\n"
    n = len(answer.listing)
    company = answer.list_filters.company if answer.list_filters is not None else None
    if answer.whole_bank and company:
        out += [whole_bank_line(n, company), ""]
    elif n == 1:
        out += ["1 question in the bank. Ask about it.", ""]
    elif answer.list_filters is not None and answer.list_filters.difficulty:  # narrowed to one difficulty
        out += [f"{n} questions in the bank. Ask about any of them.", ""]
    elif not answer.narrowable:  # nothing Hard to narrow to, or all of one difficulty
        out += [f"{n} questions in the bank, easiest first. Ask about any of them.", ""]
    else:
        out += [
            f"{n} questions in the bank, easiest first. Ask about any of them, "
            'or narrow the list ("which of those are hard?").',
            "",
        ]
    for name, records in listing_groups(answer):
        out += [f"**{name}**", ""]
        for r in records:
            tags = f" · {', '.join(r.tags)}" if r.tags else ""
            row = " (quick reference)" if r.kind == "quick_reference" else ""
            out.append(f"- [{r.title}](/q/{r.id}){row}{tags}")
        out.append("")
    return "\n".join(out).strip() + "\n"


def to_markdown(answer: Answer) -> str:
    if answer.kind == "company_list":
        return listing_markdown(answer)
    record = answer.record
    if answer.kind == "reply" or answer.abstained or record is None:
        return message_markdown(answer)
    out = [f"### {record.title}", meta_line(record), ""]
    if answer.unasked:
        out += [f"_{unasked_line(answer.unasked)}_", ""]
    if answer.restarted:
        out += [f"_{restarted_line(record.title)}_", ""]
    if answer.banks:
        out += [bank_line(answer), ""]
    if isinstance(record, QuickRef):
        out.append(answer.message or "")
        if record.practice_url:
            out.append(f"Practice it here: [{record.practice_label or record.practice_url}]({record.practice_url})")
        if record.expansion is not None:
            out += ["", *overview_markdown(record.expansion)]
        if answer.passages:
            out += ["", "**Where the bank's answers discuss it:**", ""]
            for p in answer.passages:
                out += [f"**{p.heading}**, from [{p.record.title}](/q/{p.record.id}):", "", p.markdown, ""]
        else:
            out += ["", "None of the bank's full answers discusses it either."]
        questions = [h for h in answer.related if h.record.kind == "question"]
        if questions:
            out += ["", "**Related answered questions:** " + _links(questions)]
        return "\n".join(out).strip() + "\n"
    shown_first = answer.code if answer.code_first else ()
    for block in shown_first:
        out += _code(block, answer.code_heading(block))
    for s in answer.sections:
        if s.heading:
            out += [f"**{heading_label(s.heading)}**", ""]
        out += [_without(s.markdown, shown_first), ""]
    if not answer.code_first:
        for block in answer.code:
            out += _code(block, answer.code_heading(block))
    if answer.insight:
        quoted = "\n".join(f"> {line}" if line else ">" for line in answer.insight.splitlines())
        out += ["**Interviewer's Insight:**", "", quoted, ""]
    out.append(
        f"[Full answer](/q/{record.id})"
        + (f" · [Practice article]({record.practice_url})" if record.practice_url else "")
    )
    if answer.related:
        out += ["", "**Related:** " + _links(answer.related)]
    return "\n".join(out).strip() + "\n"
