"""The daily "N cards due" direct message, for those who asked for it
(``/ask practice remind on``).

A thread started with the app (``service.slack.mount``) looks every
``QBANK_SLACK_REMINDER_EVERY_S`` seconds: from ``QBANK_SLACK_REMINDER_HOUR``
(UTC) on, each user who wants reminders and has not had today's, and has
cards due (``practice.next_card`` over every question), gets one, in a DM
(``conversations.open``, ``chat.postMessage``) with a *Practise now* button.
A user with nothing due is looked at again next time, so cards that fall due
later in the day still get their reminder that day.

With several replicas on one database each looks, and each user's day goes to
the one replica that claims it in the store (``ReminderStore.claim``); a
reminder Slack could not take for a reason that may pass (unreachable,
rate-limited) is given back and tried again at the next look, any other
failure is logged and the day is over for that user.  ``stop()`` (at
shutdown) ends the waiting at once and lets a send in progress finish.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime

from slack_sdk import WebClient

from index.filters import Filters
from qbank.settings import Settings
from service import practice
from service.slack.delivery import UNREACHABLE, post_answer
from service.slack.kit import Block, context, section
from service.slack.practice import learner_id, open_dm
from service.slack.practice_cards import START_ACTION
from service.slack.practice_words import Scope
from service.state import Engine, ServiceState
from service.store.reminders import ReminderStore

log = logging.getLogger(__name__)

TRANSIENT = ("ratelimited",)  # besides UNREACHABLE: errors worth trying again at the next look
OFF_HINT = "`/ask practice remind off` stops these messages."


def reminder_text(due: int, new_left: int) -> str:
    cards = "1 card" if due == 1 else f"{due} cards"
    new = f", and {new_left} new {'one' if new_left == 1 else 'ones'} if you like" if new_left else ""
    return f"You have *{cards} due* for practice today{new}."


def reminder_blocks(text: str) -> list[Block]:
    button = {
        "type": "button",
        "action_id": START_ACTION,
        "text": {"type": "plain_text", "text": "Practise now", "emoji": True},
        "value": json.dumps(Scope().as_dict()),
        "style": "primary",
    }
    return [section(text), {"type": "actions", "elements": [button]}, context(OFF_HINT)]


class Reminders:
    def __init__(self, client: WebClient, get_state: Callable[[], ServiceState], settings: Settings) -> None:
        self.client = client
        self.get_state = get_state
        self.hour = settings.slack_reminder_hour
        self.every_s = settings.slack_reminder_every_s
        self.per_day = settings.practice_new_per_day
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name="qbank-slack-reminders", daemon=True)
            self._thread.start()

    def stop(self, timeout_s: float = 20.0) -> None:
        """Stop looking; a reminder being sent is finished first (within ``timeout_s``)."""
        self._stopping.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout_s)
            if thread.is_alive():
                log.warning("the Slack reminder job is still sending at shutdown; left to finish")

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.run_once(datetime.now(UTC))
            except Exception:  # the store or the index failed: logged, and tried again at the next look
                log.exception("Slack reminders: this look failed")
            if self._stopping.wait(self.every_s):
                return

    def run_once(self, now: datetime) -> int:
        """One look: send today's reminders that are due and not yet sent (by anyone); how many were sent."""
        if now.astimezone(UTC).hour < self.hour:
            return 0
        state = self.get_state()
        engine = state.engine
        if engine is None:
            return 0  # still loading: the next look
        reminders = ReminderStore(state.store)
        today = now.astimezone(UTC).date()
        sent = 0
        for user in reminders.unsent(today):
            if self._stopping.is_set():
                break
            try:
                sent += self._remind(reminders, engine, state, user, today, now)
            except Exception:  # one user's failure (the store, a bad card) must not hold up the others
                log.exception("Slack reminder to %s failed; trying again at the next look", user)
        return sent

    def _remind(
        self, reminders: ReminderStore, engine: Engine, state: ServiceState, user: str, today: date, now: datetime
    ) -> int:
        """Remind one user if they have cards due and no replica has today; 1 when sent."""
        found = practice.next_card(engine, state.practice, learner_id(user), Filters(), now, self.per_day)
        if found.due == 0:
            return 0
        claim = reminders.claim(user, today)
        if claim is None:
            return 0  # another replica has it, or they turned reminders off meanwhile
        try:
            error = self._send(user, reminder_text(found.due, found.new_left))
        except Exception:
            reminders.release(claim)  # an unexpected failure: the day is not lost
            raise
        if error is None:
            log.info("Slack reminder sent to %s: %d cards due", user, found.due)
            return 1
        if error.startswith(UNREACHABLE) or error in TRANSIENT:
            reminders.release(claim)
            log.warning("Slack reminder to %s not sent (%s); trying again at the next look", user, error)
        else:
            log.warning("Slack reminder to %s not sent (%s); none today", user, error)
        return 0

    def _send(self, user: str, text: str) -> str | None:
        dm, error = open_dm(self.client, user)
        if dm is None:
            return error or "no DM"
        return post_answer(self.client, dm, None, text, reminder_blocks(text), "practice reminder")
