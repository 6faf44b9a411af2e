"""An answer's buttons, and what they carry.

Every button of one answer carries the same value, an ``AnswerRef`` as JSON:
the question it answered with and the query searched (the feedback is stored
with them, and a thread's history reads the query back from our own
answers), and the user turns it answered, so that "Show full answer" and
"Share in channel" compose the same answer again from the index, with nothing
kept on our side between the post and the click.  Slack allows a value 2,000
characters; the oldest turns are dropped (then the last is cut) to fit.

A vote shows on the message: the pressed 👍 or 👎 is the primary (green)
button (``with_vote``), and stays so when the message is expanded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from service.slack.kit import Block

ACTIONS_BLOCK = "qbank_actions"
OPEN_ACTION = "qbank_open"
EXPAND_ACTION = "qbank_expand"
SHARE_ACTION = "qbank_share"
FEEDBACK_UP = "qbank_feedback_up"
FEEDBACK_DOWN = "qbank_feedback_down"

BUTTON_VALUE_CHARS = 2000
QUERY_IN_VALUE = 500  # characters of the query, and of each turn, in a value


@dataclass(frozen=True, slots=True)
class AnswerRef:
    """Which answer a message shows: ``question_id`` (empty for a company list),
    the ``query`` searched, and the user ``turns`` that composed it, oldest first."""

    question_id: str
    query: str
    turns: tuple[str, ...] = ()

    def value(self) -> str:
        """The JSON a button carries, within Slack's 2,000 characters."""
        query = self.query[:QUERY_IN_VALUE]
        turns = [t[:QUERY_IN_VALUE] for t in self.turns]
        value = self._json(query, turns)
        while len(value) > BUTTON_VALUE_CHARS and len(turns) > 1:
            turns.pop(0)
            value = self._json(query, turns)
        while len(value) > BUTTON_VALUE_CHARS and (query or any(turns)):
            over = len(value) - BUTTON_VALUE_CHARS + 1
            if turns and turns[-1]:
                turns[-1] = turns[-1][: max(0, len(turns[-1]) - over)]
            else:
                query = query[: max(0, len(query) - over)]
            value = self._json(query, turns)
        return value

    def _json(self, query: str, turns: list[str]) -> str:
        data: dict[str, object] = {"question_id": self.question_id, "query": query}
        if turns:
            data["turns"] = turns
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def parse(cls, value: str) -> AnswerRef | None:
        """The ref a button carries; None for anything else.  A value without
        turns (from before they were carried) stands for its query alone."""
        try:
            data = json.loads(value)
        except (TypeError, ValueError):
            return None
        if not isinstance(data, dict) or not isinstance(data.get("question_id"), str):
            return None
        query = data["query"] if isinstance(data.get("query"), str) else ""
        turns = data.get("turns")
        if not isinstance(turns, list) or not all(isinstance(t, str) for t in turns):
            turns = [query] if query else []
        return cls(data["question_id"], query, tuple(t for t in turns if t.strip()))


def asked_query(blocks: list[Block] | None) -> str | None:
    """The question an answer of ours was for, read back from its buttons: the person's own
    words (the last turn it answered), not the query searched ("go on" searched as "explain l1
    vs l2 go on": a thread's history then had a turn nobody wrote, and reading on broke)."""
    for block in blocks or ():
        if block.get("block_id") == ACTIONS_BLOCK:
            for element in block.get("elements", ()):
                if element.get("action_id") == FEEDBACK_UP:
                    ref = AnswerRef.parse(element.get("value", ""))
                    if ref is None:
                        return None
                    return (ref.turns[-1] if ref.turns else ref.query) or None
    return None


def _button(action_id: str, text: str, **extra: str) -> Block:
    label = {"type": "plain_text", "text": text, "emoji": True}
    return {"type": "button", "action_id": action_id, "text": label, **extra}


def actions(url: str | None, ref: AnswerRef, expand: bool = False, share: bool = False, feedback: bool = True) -> Block:
    """The answer's buttons: Share in channel (an /ask answer only its asker
    sees), Show full answer (a short answer), Open (the web page), 👍 and 👎."""
    value = ref.value()
    elements = []
    if share:
        elements.append(_button(SHARE_ACTION, "Share in channel", value=value, style="primary"))
    if expand:
        style = {} if share else {"style": "primary"}  # one primary button: Share when there is one
        elements.append(_button(EXPAND_ACTION, "Show full answer", value=value, **style))
    if url:
        elements.append(_button(OPEN_ACTION, "Open", url=url))
    if feedback:
        elements += [_button(FEEDBACK_UP, "👍", value=value), _button(FEEDBACK_DOWN, "👎", value=value)]
    return {"type": "actions", "block_id": ACTIONS_BLOCK, "elements": elements}


def with_vote(blocks: list[Block], helpful: bool) -> list[Block]:
    """``blocks`` with a vote shown: the pressed feedback button primary, the
    other plain; everything else as it was."""
    pressed = FEEDBACK_UP if helpful else FEEDBACK_DOWN
    shown = []
    for block in blocks:
        if block.get("type") == "actions" and block.get("block_id") == ACTIONS_BLOCK:
            elements = []
            for element in block.get("elements", ()):
                if element.get("action_id") in (FEEDBACK_UP, FEEDBACK_DOWN):
                    element = {k: v for k, v in element.items() if k != "style"}
                    if element["action_id"] == pressed:
                        element["style"] = "primary"
                elements.append(element)
            block = {**block, "elements": elements}
        shown.append(block)
    return shown


def shown_vote(blocks: list[Block] | None) -> bool | None:
    """The vote ``with_vote`` shows on a message: True (👍), False (👎) or None."""
    for block in blocks or ():
        if block.get("block_id") == ACTIONS_BLOCK:
            for element in block.get("elements", ()):
                if element.get("style") == "primary" and element.get("action_id") in (FEEDBACK_UP, FEEDBACK_DOWN):
                    return element["action_id"] == FEEDBACK_UP
    return None
