"""Practice in Slack: ``/ask practice [scope]`` deals cards in a direct message.

The learner is the Slack user, as ``slack:<user id>``: a colon never appears
in the web's learner ids (22 characters of base64url), so the two never name
the same learner.  The use cases are the web's (``service.practice``: FSRS,
the scope, the daily limit of new cards, the mock scorer); this module turns
Slack's requests into calls to them and posts what they return
(``service.slack.practice_cards``).

- ``/ask practice google medium`` opens a DM with the user
  (``conversations.open``) and posts the next card there; only the user
  sees the acknowledgement in the channel they typed it in.
- *Reveal* replaces the card with the answer and the four grades; a grade is
  recorded (once per card shown), the card says when it comes back, and the
  next card from the same scope is posted below, or what is left today.
- A reply typed in a card's thread is scored like the web's mock interview
  (``SlackBot`` sends such replies here instead of answering them as questions).
- ``/ask practice remind on|off``: the daily "N cards due" DM
  (``service.slack.reminders``).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from ingest.models import Question
from qbank.settings import Settings
from service import practice, usecases
from service.schemas import clean_text
from service.slack.blocks import LOADING_TEXT
from service.slack.delivery import UNREACHABLE, post_answer, slack_error
from service.slack.jobs import Seen
from service.slack.mrkdwn import escape, from_slack
from service.slack.practice_cards import (
    GRADE_ACTIONS,
    REVEAL_ACTION,
    START_ACTION,
    CardRef,
    counts_line,
    finished_text,
    graded_blocks,
    question_blocks,
    revealed_blocks,
    score_blocks,
)
from service.slack.practice_words import Remind, Scope, ScopeWords
from service.state import Engine, ServiceState
from service.store.practice import CardState
from service.store.reminders import ReminderStore

log = logging.getLogger(__name__)

SHOWINGS_KEPT_S = 7 * 24 * 3600.0  # how long a card shown is remembered as graded

PRACTICE_WORD = "practice"
LEARNER_PREFIX = "slack:"
_SLACK_USER = re.compile(r"[A-Z0-9]{2,32}")
_GRADE = re.compile("^(?:" + "|".join(map(re.escape, GRADE_ACTIONS.values())) + ")$")
RATING_OF = {action_id: rating for rating, action_id in GRADE_ACTIONS.items()}
STALE_TEXT = "Sorry, that card no longer works: its question is not in the banks any more. `/ask practice` for another."
SENT_TEXT = "Your practice card is in our direct messages: open *qbank* under Apps in the sidebar."
NO_DM_TEXT = "I couldn't open a direct message with you (Slack said `{error}`), so there is no card to show."
NOT_POSTED_TEXT = "I couldn't post your practice card (Slack said `{error}`); try `/ask practice` again."
GRADED_TWICE_TEXT = "You graded this card already; the next one is below."
REMIND_ON = (
    "Reminders on: each day from {hour:02d}:00 UTC, when you have cards due, I'll tell you how many in a "
    "direct message. `/ask practice remind off` stops them."
)
REMIND_OFF = "Reminders off: no more daily messages. `/ask practice remind on` starts them again."
REMIND_STATE = "Your daily reminders are {state}: `/ask practice remind on` or `/ask practice remind off` changes that."
REMIND_HINT = " `/ask practice remind on` and I'll tell you each day when cards are due."


def practice_words(text: str) -> str | None:
    """The words after ``practice`` when ``text`` asks to practise ("practice google" → "google"), else None."""
    first, *rest = text.split(maxsplit=1) or [""]
    return (rest[0] if rest else "") if first.lower() == PRACTICE_WORD else None


def learner_id(user_id: str) -> str:
    """The learner a Slack user practises as."""
    if not _SLACK_USER.fullmatch(user_id):
        raise usecases.Invalid(f"{user_id!r} is not a Slack user id")
    return LEARNER_PREFIX + user_id


def open_dm(client: WebClient, user_id: str) -> tuple[str | None, str | None]:
    """The DM channel with ``user_id`` (``conversations.open``), or None and Slack's error."""
    try:
        return str(client.conversations_open(users=user_id)["channel"]["id"]), None
    except SlackApiError as exc:
        return None, slack_error(exc)
    except OSError as exc:
        return None, f"{UNREACHABLE} ({exc})"
    except (KeyError, TypeError) as exc:
        return None, f"no channel in Slack's answer ({exc})"


@dataclass(frozen=True, slots=True)
class Clicked:
    """A practice button's click: the card it stands for, its question, who clicked, the engine."""

    ref: CardRef
    record: Question
    user: str
    engine: Engine


class SlackPractice:
    def __init__(
        self, settings: Settings, get_state: Callable[[], ServiceState], public_url: Callable[[], str]
    ) -> None:
        self.settings = settings
        self.get_state = get_state
        self.public_url = public_url
        self.graded = Seen(ttl_s=SHOWINGS_KEPT_S)  # the showings graded, so that a double click grades once
        self._words: tuple[Engine, ScopeWords] | None = None

    def register(self, app: App) -> None:
        app.action(REVEAL_ACTION)(ack=_ack, lazy=[self._reveal])
        app.action(_GRADE)(ack=_ack, lazy=[self._grade])
        app.action(START_ACTION)(ack=_ack, lazy=[self._start])

    # -- /ask practice ---------------------------------------------------------------

    def command(self, words: str, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        """``/ask practice [scope]`` or ``/ask practice remind on|off``, answered to the user alone."""
        user = command.get("user_id", "")
        engine = self.get_state().engine
        if engine is None:
            _tell(respond, LOADING_TEXT)
            return
        try:
            learner_id(user)
            asked = self.scope_words(engine).parse(words)
        except usecases.Invalid as exc:
            _tell(respond, escape(str(exc)))
            return
        if isinstance(asked, Remind):
            _tell(respond, self.remind(user, asked.on))
            return
        dm, error = open_dm(client, user)
        if dm is None:
            _tell(respond, NO_DM_TEXT.format(error=escape(error or "")))
            return
        error = self.post_next(client, dm, user, asked)
        if error is not None:
            _tell(respond, NOT_POSTED_TEXT.format(error=escape(error)))
        elif command.get("channel_id") != dm:
            _tell(respond, SENT_TEXT)

    def scope_words(self, engine: Engine) -> ScopeWords:
        """The names scopes can use, read once per loaded index."""
        if self._words is None or self._words[0] is not engine:
            self._words = (engine, ScopeWords(usecases.facets(engine)))
        return self._words[1]

    def remind(self, user: str, on: bool | None) -> str:
        reminders = ReminderStore(self.get_state().store)
        if on is None:
            return REMIND_STATE.format(state="on" if reminders.enabled(user) else "off")
        reminders.set(user, on, datetime.now(UTC))
        return REMIND_ON.format(hour=self.settings.slack_reminder_hour) if on else REMIND_OFF

    # -- cards -------------------------------------------------------------------------

    def post_next(self, client: WebClient, channel: str, user: str, scope: Scope) -> str | None:
        """Post the user's next card in ``scope`` in ``channel`` (or what is left today);
        None when posted, else Slack's error."""
        state = self.get_state()
        engine = state.engine
        if engine is None:
            return post_answer(client, channel, None, LOADING_TEXT, None, "practice")
        now = datetime.now(UTC)
        per_day = self.settings.practice_new_per_day
        found = practice.next_card(
            engine, state.practice, learner_id(user), scope.filters, now, per_day, weak=scope.weak
        )
        if found.item is None:
            text = finished_text(found, scope, now, per_day)
            if not ReminderStore(state.store).enabled(user):
                text += REMIND_HINT
            return post_answer(client, channel, None, text, None, "practice")
        record = found.item.record
        ref = CardRef.new(record.id, scope)
        blocks = question_blocks(record, found.item.card, counts_line(found, scope), now, ref)
        return post_answer(client, channel, None, f"Practice: {escape(record.title)}", blocks, "practice")

    def _clicked(self, body: dict[str, Any], action: dict[str, Any]) -> Clicked | str:
        """The card a button stands for, its question and the clicker; or what to tell them."""
        ref = CardRef.parse(action.get("value", ""))
        user = (body.get("user") or {}).get("id", "")
        engine = self.get_state().engine
        if engine is None:
            return LOADING_TEXT
        record = engine.searcher.records.get(ref.question_id) if ref is not None else None
        if ref is None or not isinstance(record, Question):
            return STALE_TEXT
        try:
            learner_id(user)
        except usecases.Invalid as exc:
            return escape(str(exc))
        return Clicked(ref, record, user, engine)

    def _state_of(self, user: str, question_id: str) -> CardState | None:
        cards = self.get_state().practice.cards(learner_id(user))
        return next((c for c in cards if c.question_id == question_id), None)

    def _reveal(self, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        """Reveal: the card replaced in place by the answer and the four grades."""
        clicked = self._clicked(body, action)
        if isinstance(clicked, str):
            _tell(respond, clicked)
            return
        now = datetime.now(UTC)
        card = self._state_of(clicked.user, clicked.record.id)
        previews = practice.previews(card, now)
        blocks = revealed_blocks(clicked.record, card, previews, now, self.public_url(), clicked.ref)
        respond(text=f"Practice: {escape(clicked.record.title)}", blocks=blocks, replace_original=True)

    def _grade(self, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient) -> None:
        """A grade: recorded once per card shown, shown on the card, then the next card below."""
        clicked = self._clicked(body, action)
        if isinstance(clicked, str):
            _tell(respond, clicked)
            return
        rating = RATING_OF.get(action.get("action_id", ""), "good")  # only the grades' ids reach here
        record, user = clicked.record, clicked.user
        key = f"{user}:{clicked.ref.showing}"
        if not self.graded.first(key):
            _tell(respond, GRADED_TWICE_TEXT)
            return
        now = datetime.now(UTC)
        try:
            graded = practice.grade(clicked.engine, self.get_state().practice, learner_id(user), record.id, rating, now)
        except Exception as exc:
            self.graded.forget(key)  # not recorded: the button may be pressed again
            if isinstance(exc, usecases.Invalid):
                _tell(respond, f"Sorry, I couldn't record that grade: {escape(str(exc))}")
            else:
                log.exception("grading %s for %s failed", record.id, user)
                _tell(respond, "Sorry, I couldn't record that grade; it has been logged. Press it again in a moment.")
            return
        shown = graded_blocks(record, rating, graded, now, self.public_url(), clicked.ref)
        respond(text=f"Practised: {escape(record.title)}", blocks=shown, replace_original=True)
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id", "")
        error = self.post_next(client, channel, user, clicked.ref.scope)
        if error is not None:
            _tell(respond, NOT_POSTED_TEXT.format(error=escape(error)))

    def _start(self, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient) -> None:
        """A reminder's *Practise now*: the next card, in the DM it was clicked in."""
        user = (body.get("user") or {}).get("id", "")
        channel = (body.get("channel") or {}).get("id", "")
        try:
            learner_id(user)
        except usecases.Invalid:
            return
        scope = Scope.from_dict(_json(action.get("value", "")))
        error = self.post_next(client, channel, user, scope)
        if error is not None:
            _tell(respond, NOT_POSTED_TEXT.format(error=escape(error)))

    # -- a typed answer in a card's thread ---------------------------------------------

    def score_reply(self, event: dict[str, Any], ref: CardRef, client: WebClient, bot_user_id: str | None) -> None:
        """Score a reply in a card's thread as the card's mock-interview answer, and answer it in the thread."""
        channel, thread_ts = event["channel"], event["thread_ts"]
        typed = from_slack(event.get("text", ""), bot_user_id)
        state = self.get_state()
        engine = state.engine
        if engine is None:
            post_answer(client, channel, thread_ts, LOADING_TEXT, None, typed)
            return
        try:
            said = clean_text(typed, practice.MAX_MOCK_ANSWER_CHARS, "answer", "type what you would say")
            score = practice.mock(engine, ref.question_id, said)
        except (ValueError, usecases.Invalid) as exc:
            text = STALE_TEXT if isinstance(exc, usecases.Invalid) else f"Sorry, I can't score that: {exc}."
            post_answer(client, channel, thread_ts, escape(text), None, typed)
            return
        user = event.get("user", "")
        now = datetime.now(UTC)
        card = self._state_of(user, ref.question_id) if _SLACK_USER.fullmatch(user) else None
        blocks = score_blocks(score, practice.previews(card, now), now, self.public_url(), ref)
        total = len(score.signals)
        text = f"Your answer hit {score.hits} of {total} signals." if total else "Your answer, and the curated one."
        post_answer(client, channel, thread_ts, text, blocks, typed)


def _json(value: str) -> object:
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return None


def _tell(respond: Respond, text: str) -> None:
    """Say ``text`` to the clicker alone."""
    respond(text=text, response_type="ephemeral", replace_original=False)


def _ack(ack: Ack) -> None:
    ack()
