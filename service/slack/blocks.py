"""An ``Answer`` as its full Block Kit card, a company list, or "not in my banks".

The full card (what "Show full answer" expands a short answer to): the
question's title, a context line (difficulty, the companies that ask it,
tags), the sections most relevant to the question, the main code block, the
interviewer's insight, related questions, then the buttons: Open (the web
UI's question page), 👍 and 👎, and for an /ask answer only its asker sees,
"Share in channel".  The short card every answer starts as is in
``service.slack.short``; both keep Slack's limits (``service.slack.kit``).

A section heading never stands alone: a section whose text is all code (its
code shown in the code block) loses its heading, or lends it to the code
block when the code shown is its own.  The prose is what gets cut to keep a
message under ``MESSAGE_CHARS``: the title, code, insight and buttons always fit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from ingest.models import Question, QuickRef, Section
from ingest.textutil import without_code
from qbank.answer import Answer
from qbank.answer.markdown import bank_line, listing_groups, message_markdown, overview_label, whole_bank_line
from qbank.answer.model import restarted_line, unasked_line
from service.schemas import question_url
from service.slack.buttons import AnswerRef, actions
from service.slack.kit import (
    MAX_BLOCKS,
    MESSAGE_CHARS,
    SECTION_CHARS,
    Block,
    code_blocks,
    context,
    cut,
    header,
    is_heading,
    section,
    sections,
    size,
)
from service.slack.mrkdwn import escape, link, to_mrkdwn

FALLBACK_CHARS = 2000

USAGE_TEXT = (
    "Ask me a machine-learning interview question and I'll answer from the curated bank: "
    "`/ask how does dropout work`, mention me with a question, or send me a direct message. "
    "Reply in my thread to follow up."
)
PRACTICE_USAGE = (
    "Practise with flashcards in a direct message: `/ask practice`, or a scope such as "
    "`/ask practice google medium` or `/ask practice weak` (the cards you last graded Again or Hard); "
    "`/ask practice remind on` (or `off`) for a message each day you have cards due."
)
HELP_TEXT = f"{USAGE_TEXT}\n{PRACTICE_USAGE}"  # what an empty /ask gets
LOADING_TEXT = "The question bank is still loading; try again in a minute."


def note_blocks(answer: Answer, base_url: str) -> list[Block]:
    """The notes under the title: that the company the question named asks none of the
    questions on it; with several banks loaded, which one answers, and another bank's
    answer to the same question."""
    notes = [context(escape(unasked_line(answer.unasked)))] if answer.unasked else []
    if answer.restarted and answer.record:
        notes.append(context(escape(restarted_line(answer.record.title))))
    if answer.banks and answer.record:
        notes.append(context(to_mrkdwn(bank_line(answer), base_url)))
    return notes


def meta(record: Question | QuickRef) -> str:
    """Difficulty, the companies that ask it ("Asked at", as read in Slack), tags."""
    parts = []
    if record.difficulty:
        parts.append(f"*Difficulty:* {escape(record.difficulty)}")
    if record.companies:
        parts.append(f"*Asked at:* {escape(', '.join(record.companies))}")
    if record.tags:
        parts.append(f"*Tags:* {escape(', '.join(record.tags))}")
    return " · ".join(parts)


def without_bare_headings(text: str) -> str:
    """``text`` without heading lines that head nothing: followed only by
    another heading or by the end (their code went to the code block)."""
    lines = text.split("\n")
    kept: list[str] = []
    for i, line in enumerate(lines):
        following = next((rest for rest in lines[i + 1 :] if rest.strip()), None)
        if is_heading(line) and (following is None or is_heading(following)):
            continue
        kept.append(line)
    return "\n".join(kept).strip()


def section_text(s: Section, base_url: str) -> str:
    """A section as mrkdwn without its code: its heading, then its prose; "" when it has no prose."""
    heading = f"*{escape(s.heading)}*\n" if s.heading else ""
    return without_bare_headings(heading + to_mrkdwn(without_code(s.markdown), base_url))


def code_label(answer: Answer) -> str:
    """The code block's label: the heading of the chosen section the code is
    all of (that heading would otherwise head nothing), or of the bank's section
    it comes from when that is not chosen ("Choosing K (Elbow Method)"), else "Code"."""
    code = answer.main_code
    if code is None:
        return "Code"
    for s in answer.sections:
        if code in s.code_blocks and s.heading and not without_code(s.markdown):
            return s.heading
    return answer.code_heading(code) or "Code"


def default_ref(answer: Answer) -> AnswerRef:
    """The ref of an answer to its rewritten query alone (the bot passes the real turns)."""
    record_id = answer.record.id if answer.record is not None else ""
    return AnswerRef(record_id, answer.rewritten_query, (answer.rewritten_query,))


@dataclass(frozen=True, slots=True)
class _Body:
    """An answer's blocks by part: the prose is what gets cut to fit."""

    prose: list[Block]
    code: list[Block]
    insight: list[Block]
    related: list[Block]
    code_first: bool = False

    def fit(self, head: list[Block], tail: list[Block], url: str) -> list[Block]:
        note = context(f"_Answer shortened for Slack: {link(url, 'open the full answer')}_")
        fixed = [*head, *self.code, *self.insight, *self.related, *tail]
        room_blocks = MAX_BLOCKS - len(fixed) - 1
        room_chars = MESSAGE_CHARS - size(fixed) - size([note])
        prose: list[Block] = []
        for block in self.prose:
            if len(prose) == room_blocks or size([*prose, block]) > room_chars:
                budget = min(room_chars - size([*prose, section("")]), SECTION_CHARS - 2)
                while budget > 200 and len(prose) < room_blocks:  # as much of this block as fits
                    part = section(cut(block["text"]["text"], budget))
                    if size([*prose, part]) <= room_chars:
                        prose.append(part)
                        break
                    budget = budget * 9 // 10
                prose.append(note)
                break
            prose.append(block)
        main = [*self.code, *prose] if self.code_first else [*prose, *self.code]
        return [*head, *main, *self.insight, *self.related, *tail]


def related_blocks(answer: Answer, base_url: str) -> list[Block]:
    if not answer.related:
        return []
    links = " · ".join(link(question_url(base_url, h.record.id), escape(h.record.title)) for h in answer.related)
    return [context(f"*Related:* {links}")]


def insight_blocks(q: Question, base_url: str) -> list[Block]:
    """The interviewer's insight box, quoted (none when the question has none)."""
    if not q.insight:
        return []
    quoted = "\n".join(f"> {line}" if line else ">" for line in to_mrkdwn(q.insight, base_url).split("\n"))
    said = f"*Interviewer's insight*\n{quoted}"
    return [section(said if len(said) <= SECTION_CHARS else cut(said, SECTION_CHARS - 2))]


def _question_body(q: Question, answer: Answer, base_url: str) -> _Body:
    url = question_url(base_url, q.id)
    text = "\n\n".join(t for t in (section_text(s, base_url) for s in answer.sections) if t)
    code = answer.main_code
    return _Body(
        prose=sections(text) if text else [],
        code=code_blocks(code, url, code_label(answer)) if code else [],
        insight=insight_blocks(q, base_url),
        related=related_blocks(answer, base_url),
        code_first=answer.code_first,
    )


def quick_ref_intro(r: QuickRef, answer: Answer) -> str:
    text = escape(answer.message or "")
    if r.practice_url:
        text += f"\nPractice it here: {link(r.practice_url, escape(r.practice_label or r.practice_url))}"
    if r.expansion is not None:
        quoted = "\n".join(f"> {line}" for line in escape(r.expansion.text).splitlines() if line.strip())
        text += f"\n\n*Generated overview* _({escape(overview_label(r.expansion))})_:\n{quoted}"
    return text


def passage_text(answer: Answer, index: int, base_url: str) -> str:
    p = answer.passages[index]
    source = link(question_url(base_url, p.record.id), escape(p.record.title))
    return f"*{escape(p.heading)}*, from {source}:\n" + to_mrkdwn(without_code(p.markdown), base_url)


def _quick_ref_body(r: QuickRef, answer: Answer, base_url: str) -> _Body:
    text = quick_ref_intro(r, answer)
    passages = [passage_text(answer, i, base_url) for i in range(len(answer.passages))]
    if passages:
        text += "\n\n*Where the bank's answers discuss it:*\n\n" + "\n\n".join(passages)
    else:
        text += "\nNone of the bank's full answers discusses it either."
    return _Body(prose=sections(text), code=[], insight=[], related=related_blocks(answer, base_url))


LIST_ITEMS = 30  # of a company list in one message; the rest are on the browse page
LIST_HINT = 'Reply in this thread to narrow the list ("which of those are hard?") or pick one ("the second one").'
PICK_HINT = 'Reply in this thread to pick one ("the second one").'


def listing_blocks(
    answer: Answer, base_url: str, ref: AnswerRef | None = None, share: bool = False, above: Sequence[Block] = ()
) -> list[Block]:
    """A company's questions, easy to hard, each linked to its page (and a
    Share button when only the asker sees it)."""
    filters = answer.list_filters
    head = [*above, header(answer.title or "Questions")]
    if not answer.listing:
        return [*head, section(escape("The bank has no questions that match; ask for the whole list."))]
    lines: list[str] = []
    shown = 0
    for name, records in listing_groups(answer):
        lines.append(f"*{escape(name)}*")
        for r in records:
            if shown == LIST_ITEMS:
                break
            row = " _(quick reference)_" if r.kind == "quick_reference" else ""
            lines.append(f"• {link(question_url(base_url, r.id), escape(r.title))}{row}")
            shown += 1
    browse = None
    if filters is not None and filters.company:
        browse = f"{base_url.rstrip('/')}/browse?{urlencode({'company': filters.company})}"
    more = len(answer.listing) - shown
    if more and browse:
        lines.append(f"_…and {more} more: {link(browse, 'see them all')}_")
    tail = [actions(browse, ref or default_ref(answer), share=True, feedback=False)] if share else []
    listed = sections("\n".join(lines))[: MAX_BLOCKS - len(head) - 2]
    hint = LIST_HINT if answer.narrowable else PICK_HINT
    if answer.whole_bank and filters is not None and filters.company:
        hint = whole_bank_line(len(answer.listing), filters.company)
    return [*head, *listed, context(escape(hint)), *tail]


def abstain_blocks(answer: Answer, base_url: str) -> list[Block]:
    """An abstention, or a reply to courtesy ("thanks!"): its words, and how to ask."""
    prose = sections(to_mrkdwn(message_markdown(answer), base_url))
    return [*prose[: MAX_BLOCKS - 1], context(escape(USAGE_TEXT))]


def answer_blocks(
    answer: Answer, base_url: str, ref: AnswerRef | None = None, share: bool = False, above: Sequence[Block] = ()
) -> list[Block]:
    """The full answer in Block Kit, within Slack's limits; ``above`` are blocks
    to keep on top (who asked a shared answer)."""
    if answer.kind == "company_list":
        return listing_blocks(answer, base_url, ref, share, above)
    record = answer.record
    if answer.abstained or record is None:
        return [*above, *abstain_blocks(answer, base_url)][:MAX_BLOCKS]
    url = question_url(base_url, record.id)
    described = meta(record)
    head = [*above, header(record.title), *([context(described)] if described else []), *note_blocks(answer, base_url)]
    if isinstance(record, Question):
        body = _question_body(record, answer, base_url)
    else:
        body = _quick_ref_body(record, answer, base_url)
    return body.fit(head, [actions(url, ref or default_ref(answer), share=share)], url)


def fallback_text(answer: Answer) -> str:
    """The message's plain ``text``: shown in notifications and read back as thread history."""
    text = answer.title if answer.kind == "company_list" or answer.record is not None else answer.message
    text = _MD_LINK.sub(r"\1", text or "")  # "[Practice](/practice)": a notification shows no relative link
    return escape(text[:FALLBACK_CHARS])


_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)\s]*\)")
