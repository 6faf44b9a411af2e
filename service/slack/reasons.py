"""After a 👎: why?  The reasons as buttons, and a comment in a modal.

The "thanks" a 👎 gets (only the voter sees it) asks what was wrong, with the
four reasons of ``service.feedback.REASONS`` as buttons and *Add a comment…*.
A reason is stored as the same user's vote again on the same message, so it
replaces their 👎 (``usecases.record_feedback``: one vote per user and
message) and the thanks says what was noted.  *Add a comment…* opens a modal
(``views.open`` with the click's ``trigger_id``): the reason (a menu, the one
picked already chosen) and the comment; sent, it replaces the vote once more
and the thanks says so.  A comment without a reason is "other", as on the web.

Every button carries a ``VoteRef`` (the question, the query and the message
voted on, and the reason once there is one); the modal carries it in its
``private_metadata`` with the thanks message's ``response_url``, so nothing is
kept on our side between the clicks.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from service import usecases
from service.feedback import REASONS
from service.schemas import clean_text
from service.slack.buttons import QUERY_IN_VALUE
from service.slack.delivery import slack_error
from service.slack.kit import Block, section
from service.slack.mrkdwn import escape
from service.state import ServiceState

log = logging.getLogger(__name__)

REASON_BLOCK = "qbank_reason"
REASON_ACTIONS = {key: f"qbank_reason_{key}" for key in REASONS}
COMMENT_ACTION = "qbank_reason_comment"
COMMENT_VIEW = "qbank_feedback_comment"
REASON_INPUT, REASON_SELECT = "qbank_reason_input", "reason"
COMMENT_INPUT, COMMENT_FIELD = "qbank_comment_input", "comment"
COMMENT_CHARS = 2000  # as the web's feedback comment
ASK_WHY = "What was wrong with it? Pick one, or add a comment."
NOT_NOTED = "Sorry, I couldn't note that: {why}"


@dataclass(frozen=True, slots=True)
class VoteRef:
    """The 👎 a reason is for: the question and query voted on, the message
    (``channel:ts``) the vote is kept under, and the reason once given."""

    question_id: str
    query: str
    message_id: str
    reason: str | None = None

    def value(self) -> str:
        data = {"question_id": self.question_id, "query": self.query[:QUERY_IN_VALUE], "message": self.message_id}
        return json.dumps(data | ({"reason": self.reason} if self.reason else {}), ensure_ascii=False)

    @classmethod
    def parse(cls, value: str) -> VoteRef | None:
        try:
            data = json.loads(value)
        except (TypeError, ValueError):
            return None
        if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("question_id", "message")):
            return None
        query = data["query"] if isinstance(data.get("query"), str) else ""
        reason = data["reason"] if isinstance(data.get("reason"), str) and data["reason"] in REASONS else None
        return cls(data["question_id"], query, data["message"], reason)


def _button(action_id: str, text: str, value: str) -> Block:
    return {"type": "button", "action_id": action_id, "text": {"type": "plain_text", "text": text}, "value": value}


def ask_why_blocks(thanks: str, ref: VoteRef) -> list[Block]:
    """The thanks for a 👎, asking why: the four reasons and *Add a comment…*."""
    value = ref.value()
    buttons = [_button(REASON_ACTIONS[key], label, value) for key, label in REASONS.items()]
    buttons.append(_button(COMMENT_ACTION, "Add a comment…", value))
    return [section(f"{escape(thanks)} {ASK_WHY}"), {"type": "actions", "block_id": REASON_BLOCK, "elements": buttons}]


def noted_text(reason: str, commented: bool) -> str:
    return f"Thanks: noted as “{REASONS[reason]}”" + (", with your comment." if commented else ".")


def noted_blocks(reason: str, ref: VoteRef) -> list[Block]:
    """A reason noted; a comment can still be added."""
    comment = _button(COMMENT_ACTION, "Add a comment…", ref.value())
    actions = {"type": "actions", "block_id": REASON_BLOCK, "elements": [comment]}
    return [section(escape(noted_text(reason, False))), actions]


def _option(key: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": REASONS[key]}, "value": key}


def comment_view(ref: VoteRef, response_url: str) -> dict[str, Any]:
    """The modal: the reason (the one given already chosen) and the comment."""
    select: dict[str, Any] = {
        "type": "static_select",
        "action_id": REASON_SELECT,
        "placeholder": {"type": "plain_text", "text": "Pick a reason"},
        "options": [_option(key) for key in REASONS],
    }
    if ref.reason is not None:
        select["initial_option"] = _option(ref.reason)
    comment = {
        "type": "plain_text_input",
        "action_id": COMMENT_FIELD,
        "multiline": True,
        "max_length": COMMENT_CHARS,
        "placeholder": {"type": "plain_text", "text": "What did you expect?"},
    }
    return {
        "type": "modal",
        "callback_id": COMMENT_VIEW,
        "private_metadata": json.dumps({"vote": ref.value(), "response_url": response_url}, ensure_ascii=False),
        "title": {"type": "plain_text", "text": "What was wrong?"},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            _input(REASON_INPUT, "Reason", select, optional=True),
            _input(COMMENT_INPUT, "Comment", comment, optional=False),
        ],
    }


def _input(block_id: str, label: str, element: dict[str, Any], optional: bool) -> Block:
    text = {"type": "plain_text", "text": label}
    return {"type": "input", "block_id": block_id, "optional": optional, "element": element, "label": text}


@dataclass(frozen=True, slots=True)
class Submitted:
    """A comment modal as sent: the vote, the reason ("other" when none was picked), the comment."""

    ref: VoteRef
    response_url: str | None
    comment: str


def submitted(view: dict[str, Any]) -> Submitted | str:
    """What a comment modal's submission says, or the error to show under the comment."""
    try:
        meta = json.loads(view.get("private_metadata") or "")
    except ValueError:
        meta = None
    ref = VoteRef.parse(meta.get("vote", "")) if isinstance(meta, dict) else None
    if ref is None:
        return "This form no longer works; press 👎 again."
    values = (view.get("state") or {}).get("values") or {}
    chosen = (values.get(REASON_INPUT, {}).get(REASON_SELECT) or {}).get("selected_option") or {}
    typed = (values.get(COMMENT_INPUT, {}).get(COMMENT_FIELD) or {}).get("value") or ""
    try:
        comment = clean_text(typed, COMMENT_CHARS, "the comment", "say what was wrong")
    except ValueError as exc:
        return str(exc).capitalize()
    reason = chosen.get("value") if chosen.get("value") in REASONS else "other"
    url = meta.get("response_url") if isinstance(meta.get("response_url"), str) else None
    return Submitted(replace(ref, reason=reason), url, comment)


class SlackReasons:
    """The listeners of the reason buttons and the comment modal."""

    def __init__(self, get_state: Callable[[], ServiceState]) -> None:
        self.get_state = get_state

    def register(self, app: App) -> None:
        for action_id in REASON_ACTIONS.values():
            app.action(action_id)(ack=_ack, lazy=[self._reason])
        app.action(COMMENT_ACTION)(ack=_ack, lazy=[self._open_comment])
        app.view(COMMENT_VIEW)(ack=self._check_comment, lazy=[self._comment])

    def record(self, ref: VoteRef, user: str, comment: str | None = None) -> str | None:
        """Store the user's 👎 again, with its reason (and comment); None, or why it could not be.
        A reason from an older message after the user changed their vote to 👍 is not
        stored: it would turn the 👍 back into a 👎."""
        state = self.get_state()
        if user and ref.message_id and state.feedback.current("slack", ref.message_id, user) is True:
            return "your vote on this answer is 👍 now; press 👎 first to say what was wrong"
        try:
            usecases.record_feedback(
                state,
                ref.question_id,
                False,
                source="slack",
                message_id=ref.message_id,
                query=ref.query or None,
                comment=comment,
                user_id=user or None,
                reason=ref.reason,
            )
        except usecases.Invalid as exc:
            log.warning("Slack 👎 reason not recorded (%s): %r", exc, ref)
            return str(exc)
        return None

    def _reason(self, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ref = VoteRef.parse(action.get("value", ""))
        key = next((k for k, a in REASON_ACTIONS.items() if a == action.get("action_id")), None)
        if ref is None or key is None:
            _tell(respond, NOT_NOTED.format(why="the button carries no vote"))
            return
        ref = replace(ref, reason=key)
        error = self.record(ref, (body.get("user") or {}).get("id", ""))
        if error is not None:
            _tell(respond, NOT_NOTED.format(why=escape(error)))
            return
        respond(text=noted_text(key, False), blocks=noted_blocks(key, ref), replace_original=True)

    def _open_comment(self, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ref = VoteRef.parse(action.get("value", ""))
        if ref is None:
            _tell(respond, NOT_NOTED.format(why="the button carries no vote"))
            return
        try:
            view = comment_view(ref, body.get("response_url", ""))
            client.views_open(trigger_id=body.get("trigger_id", ""), view=view)
        except SlackApiError as exc:  # expired_trigger_id: the click waited too long for us
            log.warning("could not open the 👎 comment form: %s", slack_error(exc))
            _tell(respond, "Sorry, the comment form didn't open; press *Add a comment…* again.")

    @staticmethod
    def _check_comment(ack: Ack, view: dict[str, Any]) -> None:
        """Close the modal, or keep it open with what is wrong under the comment."""
        found = submitted(view)
        if isinstance(found, str):
            ack(response_action="errors", errors={COMMENT_INPUT: found})
        else:
            ack()

    def _comment(self, body: dict[str, Any], view: dict[str, Any]) -> None:
        found = submitted(view)
        if isinstance(found, str):
            return  # the modal said it
        error = self.record(found.ref, (body.get("user") or {}).get("id", ""), found.comment)
        if found.response_url is None:
            return
        respond = Respond(response_url=found.response_url)
        if error is None:
            respond(text=noted_text(found.ref.reason or "other", True), replace_original=True)
        else:
            _tell(respond, NOT_NOTED.format(why=escape(error)))


def _tell(respond: Respond, text: str) -> None:
    """Say ``text`` to the clicker alone, below the message clicked."""
    respond(text=text, response_type="ephemeral", replace_original=False)


def _ack(ack: Ack) -> None:
    ack()
