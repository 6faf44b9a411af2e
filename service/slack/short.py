"""The short card every answer starts as, about one phone screen.

The question's title, the one most relevant section cut to a few lines, the
main code cut to a dozen, the sources as numbered links ("1. <url|title>"),
then the buttons: "Show full answer" (which expands the message in place to
the full card of ``service.slack.blocks``), Open (the web page), 👍 and 👎, and
"Share in channel" on an /ask answer only its asker sees.  A company list and
"not in my banks" are short already and are the same in both views.
"""

from __future__ import annotations

from collections.abc import Sequence

from ingest.models import Question, QuickRef, Section
from ingest.textutil import without_code
from qbank.answer import Answer
from service.schemas import question_url
from service.slack.blocks import (
    abstain_blocks,
    code_label,
    default_ref,
    listing_blocks,
    note_blocks,
    passage_text,
    quick_ref_intro,
    section_text,
)
from service.slack.buttons import AnswerRef, actions
from service.slack.kit import MAX_BLOCKS, Block, code_blocks, context, cut, header, section
from service.slack.mrkdwn import escape, link

PROSE_CHARS = 700
PROSE_LINES = 6
CODE_CHARS = 900
CODE_LINES = 12
SOURCES = 5


def lead_section(answer: Answer) -> Section | None:
    """The chosen section that answers best and has prose: the one the best
    hit matched, else the first chosen with prose."""
    with_prose = [s for s in answer.sections if without_code(s.markdown)]
    best = answer.sources[0] if answer.sources else None
    record = answer.record
    if best is not None and record is not None and best.record.id == record.id and isinstance(record, Question):
        index = best.chunk.section_index if best.chunk is not None else None
        if index is not None and 0 <= index < len(record.sections) and record.sections[index] in with_prose:
            return record.sections[index]
    return with_prose[0] if with_prose else None


def sources_block(answer: Answer, base_url: str) -> list[Block]:
    """The answering record and the others the answer stands on, numbered."""
    records: list[Question | QuickRef] = []
    for r in [*(h.record for h in answer.sources), *(p.record for p in answer.passages)]:
        if all(r.id != seen.id for seen in records):
            records.append(r)
    lines = [f"{n}. {link(question_url(base_url, r.id), escape(r.title))}" for n, r in enumerate(records[:SOURCES], 1)]
    return [context("\n".join(lines))] if lines else []


def _prose(answer: Answer, base_url: str) -> str:
    record = answer.record
    if isinstance(record, QuickRef):
        text = quick_ref_intro(record, answer)
        if answer.passages:
            return text + "\n\n" + cut(passage_text(answer, 0, base_url), PROSE_CHARS, PROSE_LINES)
        return text + "\nNone of the bank's full answers discusses it either."
    lead = lead_section(answer)
    return cut(section_text(lead, base_url), PROSE_CHARS, PROSE_LINES) if lead is not None else ""


def short_blocks(
    answer: Answer, base_url: str, ref: AnswerRef | None = None, share: bool = False, above: Sequence[Block] = ()
) -> list[Block]:
    """The short answer in Block Kit; ``above`` are blocks to put on top (who asked a shared answer)."""
    if answer.kind == "company_list":
        return listing_blocks(answer, base_url, ref, share, above)
    record = answer.record
    if answer.abstained or record is None:
        return [*above, *abstain_blocks(answer, base_url)][:MAX_BLOCKS]
    url = question_url(base_url, record.id)
    text = _prose(answer, base_url)
    prose = [section(text)] if text else []
    code = answer.main_code if isinstance(record, Question) else None
    shown = code_blocks(code, url, code_label(answer), CODE_CHARS, CODE_LINES) if code else []
    main = [*shown, *prose] if answer.code_first else [*prose, *shown]
    more = isinstance(record, Question) or bool(answer.passages)  # a quick reference alone has no more to show
    buttons = actions(url, ref or default_ref(answer), expand=more, share=share)
    return [
        *above,
        header(record.title),
        *note_blocks(answer, base_url),
        *main,
        *sources_block(answer, base_url),
        buttons,
    ]
