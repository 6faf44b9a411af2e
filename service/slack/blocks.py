"""Block Kit for one answer: a pure function from the typed ``Answer`` to Slack blocks.

Layout: the question's title, a context line (difficulty, the companies that
ask it, tags), the sections most relevant to the question, the main code
block, the interviewer's insight, related questions, then the buttons: "Open
full answer" (the web UI's question page), 👍 and 👎.

A section heading never stands alone: a section whose text is all code (its
code shown in the code block) loses its heading, or lends it to the code
block when the code shown is its own.

Slack's limits are kept here, so a post never fails on size: section text is
at most 3,000 characters (longer text is split over several sections), a
header 150, a message 50 blocks, and long code is cut at a line with a link to
the full answer.  Slack also refuses a message whose blocks are too long in
total (``msg_blocks_too_long``, at about 13,000 characters, undocumented), and a
button click sends the whole message back to us, so a message is kept under
``MESSAGE_CHARS`` of Block Kit JSON: the prose is cut (with a note and a link)
so that the title, code, insight and buttons always fit.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from ingest.models import CodeBlock, Question, QuickRef, Section
from qbank.answer import Answer
from qbank.answer.markdown import abstain_markdown, listing_groups
from service.schemas import question_url
from service.slack.mrkdwn import code_block, escape, link, split_mrkdwn, to_mrkdwn

Block = dict[str, Any]

MAX_BLOCKS = 50
SECTION_CHARS = 3000
HEADER_CHARS = 150
CONTEXT_CHARS = 2000
BUTTON_VALUE_CHARS = 2000
CODE_CHARS = 2400
FALLBACK_CHARS = 2000
MESSAGE_CHARS = 12_000  # Block Kit JSON of one message
QUERY_IN_VALUE = 500  # the question as carried by the feedback buttons

ACTIONS_BLOCK = "qbank_actions"
OPEN_ACTION = "qbank_open"
FEEDBACK_UP = "qbank_feedback_up"
FEEDBACK_DOWN = "qbank_feedback_down"

USAGE_TEXT = (
    "Ask me a machine-learning interview question and I'll answer from the curated bank: "
    "`/ask how does dropout work`, mention me with a question, or send me a direct message. "
    "Reply in my thread to follow up."
)
LOADING_TEXT = "The question bank is still loading; try again in a minute."

_FENCED = re.compile(r"^([ \t]*)(`{3,}|~{3,})[ \t]*([\w+#.-]*)[ \t]*\n(.*?)\n[ \t]*\2[ \t]*$", re.M | re.S)
_HEADING_LINE = re.compile(r"^\*[^*\n]+\*:?$")  # a line that is only bold: a heading in mrkdwn


@dataclass(frozen=True, slots=True)
class FeedbackValue:
    question_id: str
    query: str


def without_code(markdown: str) -> str:
    return re.sub(r"\n{3,}", "\n\n", _FENCED.sub("", markdown)).strip()


def is_heading(line: str) -> bool:
    """A mrkdwn line that is only a bold phrase: a heading, which must not end a text."""
    return bool(_HEADING_LINE.match(line.strip()))


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
    all of (that heading would otherwise head nothing), else "Code"."""
    code = answer.main_code
    for s in answer.sections:
        if code is not None and code in s.code_blocks and s.heading and not without_code(s.markdown):
            return s.heading
    return "Code"


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


def section(text: str) -> Block:
    if len(text) > SECTION_CHARS:
        raise ValueError(f"section text is {len(text)} characters; Slack's limit is {SECTION_CHARS}")
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def sections(text: str) -> list[Block]:
    return [section(piece) for piece in split_mrkdwn(text, SECTION_CHARS)]


def context(text: str) -> Block:
    if len(text) > CONTEXT_CHARS:
        text = _cut(text, CONTEXT_CHARS - 2)
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def header(title: str) -> Block:
    if len(title) > HEADER_CHARS:
        title = title[: HEADER_CHARS - 1].rstrip() + "…"
    return {"type": "header", "text": {"type": "plain_text", "text": title, "emoji": True}}


def feedback_value(question_id: str, query: str) -> str:
    """The buttons' value: JSON {question_id, query}, within Slack's 2,000 characters."""
    query = query[:QUERY_IN_VALUE]
    value = json.dumps({"question_id": question_id, "query": query}, ensure_ascii=False)
    while len(value) > BUTTON_VALUE_CHARS and query:
        query = query[: max(0, len(query) - (len(value) - BUTTON_VALUE_CHARS) - 1)]
        value = json.dumps({"question_id": question_id, "query": query}, ensure_ascii=False)
    return value


def parse_feedback_value(value: str) -> FeedbackValue | None:
    try:
        data = json.loads(value)
    except (TypeError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("question_id"), str):
        return None
    query = data.get("query")
    return FeedbackValue(data["question_id"], query if isinstance(query, str) else "")


def asked_query(blocks: list[Block] | None) -> str | None:
    """The question an answer of ours was for, read back from its buttons."""
    for block in blocks or ():
        if block.get("block_id") == ACTIONS_BLOCK:
            for element in block.get("elements", ()):
                if element.get("action_id") == FEEDBACK_UP:
                    parsed = parse_feedback_value(element.get("value", ""))
                    return parsed.query if parsed and parsed.query else None
    return None


def actions(url: str, question_id: str, query: str) -> Block:
    value = feedback_value(question_id, query)

    def button(action_id: str, text: str, **extra: str) -> Block:
        label = {"type": "plain_text", "text": text, "emoji": True}
        return {"type": "button", "action_id": action_id, "text": label, **extra}

    return {
        "type": "actions",
        "block_id": ACTIONS_BLOCK,
        "elements": [
            button(OPEN_ACTION, "Open full answer", url=url, style="primary"),
            button(FEEDBACK_UP, "👍", value=value),
            button(FEEDBACK_DOWN, "👎", value=value),
        ],
    }


def code_blocks(code: CodeBlock, url: str, title: str = "Code") -> list[Block]:
    label = f"*{escape(title)}*" + (f" (`{escape(code.language)}`)" if code.language != "text" else "")
    body = code.code
    if len(escape(body)) <= CODE_CHARS:
        return [section(f"{label}\n{code_block(body)}")]
    kept: list[str] = []
    size = 0
    for line in body.split("\n"):
        size += len(escape(line)) + 1
        if size > CODE_CHARS:
            break
        kept.append(line)
    shown = "\n".join(kept) if kept else body[: CODE_CHARS // 2]
    note = f"_Code shortened for Slack: {link(url, 'see the full answer')}_"
    return [section(f"{label}\n{code_block(shown + chr(10) + '…')}\n{note}")]


def _related(answer: Answer, base_url: str) -> list[Block]:
    hits = answer.related
    if not hits:
        return []
    links = " · ".join(link(question_url(base_url, h.record.id), escape(h.record.title)) for h in hits)
    return [context(f"*Related:* {links}")]


def size(blocks: list[Block]) -> int:
    """Characters of Block Kit JSON, the measure ``MESSAGE_CHARS`` limits."""
    return len(json.dumps(blocks, ensure_ascii=False))


def _cut(text: str, budget: int) -> str:
    """``text`` cut to ``budget`` characters at a line (or word) end, not inside a <link>."""
    text = text[:budget]
    end = text.rfind("\n")
    text = text[:end] if end > budget // 2 else text[: max(text.rfind(" "), budget // 2)]
    if text.rfind("<") > text.rfind(">"):
        text = text[: text.rfind("<")]
    lines = text.rstrip().split("\n")
    while lines and (not lines[-1].strip() or is_heading(lines[-1])):
        lines.pop()  # a heading whose text was cut away
    return "\n".join(lines) + " …"


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
                    part = section(_cut(block["text"]["text"], budget))
                    if size([*prose, part]) <= room_chars:
                        prose.append(part)
                        break
                    budget = budget * 9 // 10
                prose.append(note)
                break
            prose.append(block)
        main = [*self.code, *prose] if self.code_first else [*prose, *self.code]
        return [*head, *main, *self.insight, *self.related, *tail]


def _question_body(q: Question, answer: Answer, base_url: str) -> _Body:
    url = question_url(base_url, q.id)
    text = "\n\n".join(t for t in (section_text(s, base_url) for s in answer.sections) if t)
    code = answer.main_code
    insight: list[Block] = []
    if q.insight:
        quoted = "\n".join(f"> {line}" if line else ">" for line in to_mrkdwn(q.insight, base_url).split("\n"))
        said = f"*Interviewer's insight*\n{quoted}"
        insight = [section(said if len(said) <= SECTION_CHARS else _cut(said, SECTION_CHARS - 2))]
    return _Body(
        prose=sections(text) if text else [],
        code=code_blocks(code, url, code_label(answer)) if code else [],
        insight=insight,
        related=_related(answer, base_url),
        code_first=answer.code_first,
    )


def _quick_ref_body(r: QuickRef, answer: Answer, base_url: str) -> _Body:
    text = escape(answer.message or "")
    if r.practice_url:
        text += f"\nPractice it here: {link(r.practice_url, escape(r.practice_label or r.practice_url))}"
    passages = [
        f"*{escape(p.heading)}*, from {link(question_url(base_url, p.record.id), escape(p.record.title))}:\n"
        + to_mrkdwn(without_code(p.markdown), base_url)
        for p in answer.passages
    ]
    if passages:
        text += "\n\n*Where the bank's answers discuss it:*\n\n" + "\n\n".join(passages)
    else:
        text += "\nNone of the bank's full answers discusses it either."
    return _Body(prose=sections(text), code=[], insight=[], related=_related(answer, base_url))


LIST_ITEMS = 30  # of a company list in one message; the rest are on the browse page
LIST_HINT = 'Reply in this thread to narrow the list ("which of those are hard?") or pick one ("the second one").'


def _listing_blocks(answer: Answer, base_url: str) -> list[Block]:
    """A company's questions, easy to hard, each linked to its page."""
    filters = answer.list_filters
    head = [header(answer.title or "Questions")]
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
    more = len(answer.listing) - shown
    if more and filters is not None and filters.company:
        browse = f"{base_url.rstrip('/')}/browse?{urlencode({'company': filters.company})}"
        lines.append(f"_…and {more} more: {link(browse, 'see them all')}_")
    return [*head, *sections("\n".join(lines))[: MAX_BLOCKS - 2], context(escape(LIST_HINT))]


def answer_blocks(answer: Answer, base_url: str) -> list[Block]:
    """The answer in Block Kit, within Slack's limits."""
    if answer.kind == "company_list":
        return _listing_blocks(answer, base_url)
    record = answer.record
    if answer.abstained or record is None:
        prose = sections(to_mrkdwn(abstain_markdown(answer), base_url))
        return [*prose[: MAX_BLOCKS - 1], context(escape(USAGE_TEXT))]
    url = question_url(base_url, record.id)
    described = meta(record)
    head = [header(record.title), *([context(described)] if described else [])]
    if isinstance(record, Question):
        body = _question_body(record, answer, base_url)
    else:
        body = _quick_ref_body(record, answer, base_url)
    return body.fit(head, [actions(url, record.id, answer.rewritten_query)], url)


def fallback_text(answer: Answer) -> str:
    """The message's plain ``text``: shown in notifications and read back as thread history."""
    text = answer.title if answer.kind == "company_list" or answer.record is not None else answer.message
    text = text or ""
    return escape(text[:FALLBACK_CHARS])
