"""Block Kit pieces within Slack's limits: sections, context lines, headers,
code blocks, and the measure of a message's size.

Slack's limits are kept here, so a post never fails on size: section text is
at most 3,000 characters (longer text is split over several sections), a
header 150, a context element 2,000 (Slack allows 3,000), a message 50 blocks,
and long code is cut at a line with a link to the full answer.  Slack also
refuses a message whose blocks are too long in total (``msg_blocks_too_long``,
at about 13,000 characters, undocumented), and a button click sends the whole
message back to us, so a message is kept under ``MESSAGE_CHARS`` of Block Kit
JSON (see ``size``).
"""

from __future__ import annotations

import json
import re
from typing import Any

from ingest.models import CodeBlock
from service.slack.mrkdwn import code_block, escape, link, split_mrkdwn

Block = dict[str, Any]

MAX_BLOCKS = 50
SECTION_CHARS = 3000
HEADER_CHARS = 150
CONTEXT_CHARS = 2000
CODE_CHARS = 2400
MESSAGE_CHARS = 12_000  # Block Kit JSON of one message

_HEADING_LINE = re.compile(r"^\*[^*\n]+\*:?$")  # a line that is only bold: a heading in mrkdwn


def section(text: str) -> Block:
    if len(text) > SECTION_CHARS:
        raise ValueError(f"section text is {len(text)} characters; Slack's limit is {SECTION_CHARS}")
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def sections(text: str) -> list[Block]:
    return [section(piece) for piece in split_mrkdwn(text, SECTION_CHARS)]


def context(text: str) -> Block:
    if len(text) > CONTEXT_CHARS:
        text = cut(text, CONTEXT_CHARS - 2)
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def header(title: str) -> Block:
    if len(title) > HEADER_CHARS:
        title = title[: HEADER_CHARS - 1].rstrip() + "…"
    return {"type": "header", "text": {"type": "plain_text", "text": title, "emoji": True}}


def size(blocks: list[Block]) -> int:
    """Characters of Block Kit JSON, the measure ``MESSAGE_CHARS`` limits."""
    return len(json.dumps(blocks, ensure_ascii=False))


def is_heading(line: str) -> bool:
    """A mrkdwn line that is only a bold phrase: a heading, which must not end a text."""
    return bool(_HEADING_LINE.match(line.strip()))


def without_trailing_headings(text: str) -> str:
    lines = text.rstrip().split("\n")
    while lines and (not lines[-1].strip() or is_heading(lines[-1])):
        lines.pop()
    return "\n".join(lines)


def cut(text: str, budget: int, max_lines: int | None = None) -> str:
    """``text`` cut to ``budget`` characters (and ``max_lines`` lines) at a line
    (or word) end, not inside a <link>, and not after a heading, marked " …"."""
    if len(text) <= budget and (max_lines is None or text.count("\n") < max_lines):
        return text
    if max_lines is not None:
        text = "\n".join(text.split("\n")[:max_lines])
    if len(text) > budget:
        text = text[:budget]
        end = text.rfind("\n")
        text = text[:end] if end > budget // 2 else text[: max(text.rfind(" "), budget // 2)]
    if text.rfind("<") > text.rfind(">"):
        text = text[: text.rfind("<")]
    return without_trailing_headings(text) + " …"


def code_blocks(
    code: CodeBlock, url: str, label: str = "Code", max_chars: int = CODE_CHARS, max_lines: int | None = None
) -> list[Block]:
    """One section: the bold ``label`` (and the language), then the code, cut at
    a line to ``max_chars`` (escaped) and ``max_lines`` with a link to the full answer."""
    title = f"*{escape(label)}*" + (f" (`{escape(code.language)}`)" if code.language != "text" else "")
    lines = code.code.split("\n")
    if len(escape(code.code)) <= max_chars and (max_lines is None or len(lines) <= max_lines):
        return [section(f"{title}\n{code_block(code.code)}")]
    kept: list[str] = []
    used = 0
    for line in lines[:max_lines]:
        used += len(escape(line)) + 1
        if used > max_chars:
            break
        kept.append(line)
    shown = "\n".join(kept) if kept else code.code[: max_chars // 2]
    note = f"_Code shortened for Slack: {link(url, 'see the full answer')}_"
    return [section(f"{title}\n{code_block(shown + chr(10) + '…')}\n{note}")]
