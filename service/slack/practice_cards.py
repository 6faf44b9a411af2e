"""A practice card in Block Kit, in each of its states, and what its buttons carry.

- **question**: the question's title, its difficulty, companies and tags, how
  many cards are due, and an invitation to answer (typed in the card's
  thread, it is scored like the web's mock interviewer), then *Reveal*;
- **revealed** (the same message, replaced): the curated answer in the short
  form of every Slack answer (the main section and code, cut), the
  interviewer's insight, and Again / Hard / Good / Easy, each saying when
  the card would come back;
- **graded**: the answer stays, the grade and the next review replace the buttons;
- **scored**: a typed answer's signals hit and missed, its key terms and the
  follow-ups an interviewer may ask, then the revealed card's answer and grades.

Every state keeps a ``qbank_practice`` actions block whose buttons carry a
``CardRef``: the question, the scope it was drawn from (the next card comes
from the same one) and this showing's id (one grade per showing), so a
click, or a reply in the card's thread, needs nothing kept on our side.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime

from ingest.models import Question
from ingest.textutil import without_code
from qbank.mock import MockScore
from service.practice import RATINGS, STATES, Next, RatingName, in_words
from service.schemas import question_url
from service.slack.blocks import insight_blocks, meta, section_text
from service.slack.buttons import OPEN_ACTION
from service.slack.kit import Block, code_blocks, context, cut, header, section, sections
from service.slack.mrkdwn import escape
from service.slack.practice_words import Scope
from service.slack.short import CODE_CHARS, CODE_LINES, PROSE_CHARS, PROSE_LINES
from service.store.practice import CardState

PRACTICE_BLOCK = "qbank_practice"
REVEAL_ACTION = "qbank_practice_reveal"
START_ACTION = "qbank_practice_start"
GRADE_ACTIONS: dict[RatingName, str] = {name: f"qbank_practice_{name}" for name in RATINGS}
EVIDENCE_CHARS = 200
INVITE = (
    "Answer it as you would in the interview: out loud, or *typed as a reply in this thread*, and I'll score it "
    "against what the interviewer listens for. Then *Reveal* the answer and grade yourself."
)
GRADE_PROMPT = "How well did you know it? Each grade says when you'll see this card again."


@dataclass(frozen=True, slots=True)
class CardRef:
    """Which card a message shows: the question, the scope it came from, and this showing's id."""

    question_id: str
    scope: Scope
    showing: str

    @classmethod
    def new(cls, question_id: str, scope: Scope) -> CardRef:
        return cls(question_id, scope, secrets.token_hex(6))

    def value(self) -> str:
        return json.dumps({"card": self.question_id, "scope": self.scope.as_dict(), "showing": self.showing})

    @classmethod
    def parse(cls, value: str) -> CardRef | None:
        try:
            data = json.loads(value)
        except (TypeError, ValueError):
            return None
        if not isinstance(data, dict) or not isinstance(data.get("card"), str) or not data["card"]:
            return None
        showing = data["showing"] if isinstance(data.get("showing"), str) else ""
        return cls(data["card"], Scope.from_dict(data.get("scope")), showing)


def card_ref(blocks: list[Block] | None) -> CardRef | None:
    """The card a message of ours shows, read back from its practice buttons; None for any other message."""
    for block in blocks or ():
        if block.get("block_id") == PRACTICE_BLOCK:
            for element in block.get("elements", ()):
                ref = CardRef.parse(element.get("value", ""))
                if ref is not None:
                    return ref
    return None


def slack_date(when: datetime) -> str:
    """``when`` in the reader's own time zone (Slack's date formatting), UTC where it cannot be shown."""
    fallback = when.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(when.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def _button(action_id: str, text: str, value: str, **extra: str) -> Block:
    label = {"type": "plain_text", "text": text, "emoji": True}
    return {"type": "button", "action_id": action_id, "text": label, "value": value, **extra}


def _status(card: CardState | None, now: datetime) -> str:
    if card is None:
        return "New card"
    state = STATES.get(card.state, "review").capitalize()
    if card.due >= now:
        return f"{state} card"
    return f"{state} card, due for {in_words(now - card.due)}"  # how long since it fell due


def _head(record: Question, status: str, counts: str | None) -> list[Block]:
    described = meta(record)
    blocks = [header(record.title), context(" · ".join(p for p in (f"*{status}*", described) if p))]
    return [*blocks, context(counts)] if counts else blocks


def counts_line(found: Next, scope: Scope) -> str:
    return f"{found.due} due · {found.new_left} new left today · {escape(scope.describe())}"


def question_blocks(record: Question, card: CardState | None, counts: str, now: datetime, ref: CardRef) -> list[Block]:
    """The card as first shown: the question, the answer hidden behind Reveal."""
    reveal = _button(REVEAL_ACTION, "Reveal the answer", ref.value(), style="primary")
    actions = {"type": "actions", "block_id": PRACTICE_BLOCK, "elements": [reveal]}
    return [*_head(record, _status(card, now), counts), section(INVITE), actions]


def answer_blocks(record: Question, base_url: str) -> list[Block]:
    """The curated answer, short: its first section with prose and its first code, cut as a short
    answer is, then the interviewer's insight."""
    url = question_url(base_url, record.id)
    lead = next((s for s in record.sections if without_code(s.markdown)), None)
    prose = cut(section_text(lead, base_url), PROSE_CHARS, PROSE_LINES) if lead is not None else ""
    code = next((c for s in record.sections for c in s.code_blocks), None) or next(iter(record.code_blocks), None)
    shown = code_blocks(code, url, "Code", CODE_CHARS, CODE_LINES) if code is not None else []
    return [*([section(prose)] if prose else []), *shown, *insight_blocks(record, base_url)]


def grade_actions(previews: dict[RatingName, datetime], now: datetime, ref: CardRef, base_url: str) -> Block:
    value = ref.value()
    grades = [
        _button(GRADE_ACTIONS[name], f"{name.capitalize()} · {in_words(previews[name] - now)}", value)
        for name in RATINGS
    ]
    grades[2]["style"] = "primary"  # Good: the usual answer
    open_ = _button(OPEN_ACTION, "Open", value, url=question_url(base_url, ref.question_id))
    return {"type": "actions", "block_id": PRACTICE_BLOCK, "elements": [*grades, open_]}


def revealed_blocks(
    record: Question,
    card: CardState | None,
    previews: dict[RatingName, datetime],
    now: datetime,
    base_url: str,
    ref: CardRef,
) -> list[Block]:
    return [
        *_head(record, _status(card, now), None),
        *answer_blocks(record, base_url),
        context(GRADE_PROMPT),
        grade_actions(previews, now, ref, base_url),
    ]


def graded_blocks(
    record: Question, rating: RatingName, graded: CardState, now: datetime, base_url: str, ref: CardRef
) -> list[Block]:
    said = f"Graded *{rating.capitalize()}*: next review {slack_date(graded.due)} (in {in_words(graded.due - now)})."
    open_ = _button(OPEN_ACTION, "Open", ref.value(), url=question_url(base_url, ref.question_id))
    actions = {"type": "actions", "block_id": PRACTICE_BLOCK, "elements": [open_]}
    return [*_head(record, "Practised", None), *answer_blocks(record, base_url), context(said), actions]


def score_blocks(
    score: MockScore, previews: dict[RatingName, datetime], now: datetime, base_url: str, ref: CardRef
) -> list[Block]:
    """A typed answer scored, as the web's mock mode shows it: each signal hit or missed (a hit with the
    sentence that made it), the key terms, the follow-ups, then the answer and the grades."""
    total = len(score.signals)
    if total:
        lines = [f"*Your answer hit {score.hits} of {total} signals* the interviewer listens for:"]
        for s in score.signals:
            lines.append(f"{'✅ Hit' if s.hit else '❌ Missed'}: {escape(s.signal.text)}")
            if s.evidence:
                lines.append(f"> {escape(cut(' '.join(s.evidence.split()), EVIDENCE_CHARS))}")
    else:
        lines = ["This question's insight lists no signals to score against: compare yours with the answer below."]
    blocks = sections("\n".join(lines))  # what they are testing is in the insight below
    used = [escape(k.term) for k in score.key_terms if k.used]
    unused = [escape(k.term) for k in score.key_terms if not k.used]
    terms = [f"Key terms you used: {', '.join(used)}."] if used else []
    terms += [f"Terms the answer uses that you did not: {', '.join(unused)}."] if unused else []
    if terms:
        blocks.append(context(" ".join(terms)))
    if score.probes:
        blocks.append(section("*They may follow up with:*\n" + "\n".join(f"• {escape(p)}" for p in score.probes)))
    return [
        *blocks,
        *answer_blocks(score.question, base_url),
        context(GRADE_PROMPT),
        grade_actions(previews, now, ref, base_url),
    ]


def finished_text(found: Next, scope: Scope, now: datetime, per_day: int) -> str:
    """What to say when there is no card to show: an empty scope, or nothing due and no new card left today."""
    where = escape(scope.describe())
    if found.questions == 0:
        if scope.weak:
            narrowed = Scope(scope.filters)
            within = f" in {escape(narrowed.describe())}" if narrowed != Scope() else ""
            return f"No weak cards{within}: none you last graded Again or Hard, so nothing to go over."
        return f"No questions in this selection ({where})."
    text = f"Nothing due in {where} right now, and no new card left today ({per_day} a day)."
    if found.next_due is not None:
        text += f" The next card is due {slack_date(found.next_due)} (in {in_words(found.next_due - now)})."
    return text
