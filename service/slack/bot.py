"""The Slack bot: a slack-bolt ``App`` with the /ask command, @mentions, direct
messages, thread follow-ups and the feedback buttons.

Every request is checked by bolt's signing-secret verification before any
listener sees it.  Slack wants an answer within 3 seconds, so each listener
acknowledges at once and searches in a lazy listener: with
``process_before_response=True`` bolt runs the (instant) ack function inside
``dispatch`` and hands the lazy function to ``JobPool``, so the HTTP response
goes back while the search runs; the answer is then posted through the
command's ``response_url`` or ``chat.postMessage`` in a thread under the
question.  The engine is read from the service state on every question: the
index loads in the background, and a reload swaps it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, BoltContext, BoltRequest, BoltResponse, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from qbank.settings import Settings
from service import usecases
from service.schemas import clean_text
from service.slack.blocks import (
    FEEDBACK_UP,
    LOADING_TEXT,
    OPEN_ACTION,
    USAGE_TEXT,
    Block,
    answer_blocks,
    asked_query,
    fallback_text,
    parse_feedback_value,
)
from service.slack.jobs import JobPool, Seen
from service.slack.mrkdwn import escape, from_slack
from service.state import ServiceState

log = logging.getLogger(__name__)

HISTORY_MESSAGES = 50
FAILED_TEXT = "Sorry, something went wrong while answering; it has been logged."


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    blocks: list[Block] | None = None


def is_from_person(event: dict[str, Any], bot_user_id: str | None) -> bool:
    """Not a bot (ours or another), not an edit or deletion, and from someone."""
    if event.get("bot_id") or event.get("bot_profile") or event.get("subtype") not in (None, "thread_broadcast"):
        return False
    user = event.get("user")
    return bool(user) and user != bot_user_id


def is_own(message: dict[str, Any], bot_user_id: str | None, bot_id: str | None) -> bool:
    return bool((bot_id and message.get("bot_id") == bot_id) or (bot_user_id and message.get("user") == bot_user_id))


def thread_history(
    messages: list[dict[str, Any]], current_ts: str, bot_user_id: str | None, bot_id: str | None
) -> list[tuple[str, str]]:
    """A thread's earlier messages as chat turns: people's as ``user``, ours as
    ``assistant`` (preceded by the question it answered, when that is not already
    the last user turn); other bots' messages are left out."""
    turns: list[tuple[str, str]] = []
    for m in sorted(messages, key=lambda m: float(m.get("ts", 0))):
        if m.get("ts") == current_ts:
            continue
        if is_own(m, bot_user_id, bot_id):
            query = asked_query(m.get("blocks"))
            if query and (not turns or turns[-1] != ("user", query)):
                turns.append(("user", query))
            turns.append(("assistant", from_slack(m.get("text", ""))))
        elif is_from_person(m, bot_user_id):
            text = from_slack(m.get("text", ""), bot_user_id)
            if text:
                turns.append(("user", text))
    return turns


class SlackBot:
    def __init__(self, settings: Settings, get_state: Callable[[], ServiceState], workers: int = 8) -> None:
        if settings.slack_bot_token is None or settings.slack_signing_secret is None:
            raise ValueError("the Slack bot needs QBANK_SLACK_BOT_TOKEN and QBANK_SLACK_SIGNING_SECRET")
        self.settings = settings
        self.get_state = get_state
        self.pool = JobPool(workers)
        self.seen = Seen()
        client = WebClient(
            token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url, timeout=15
        )
        self.app = App(
            name="qbank",
            client=client,
            signing_secret=settings.slack_signing_secret.get_secret_value(),
            token_verification_enabled=False,  # auth.test runs on the first request, not at import/startup
            process_before_response=True,
            listener_executor=self.pool,
        )
        self.app.use(self._once_per_event)
        self.app.command("/ask")(ack=self._ack_ask, lazy=[self._answer_ask])
        self.app.event("app_mention", matchers=[self._mention_from_person])(ack=_ack, lazy=[self._answer_mention])
        self.app.event("app_mention")(_ack)  # bots' mentions: acknowledged, ignored
        self.app.event("message", matchers=[self._wanted_message])(ack=_ack, lazy=[self._answer_message])
        self.app.event("message")(_ack)  # everything else in the channels we are in
        self.app.action(re.compile(r"^qbank_feedback_(up|down)$"))(ack=_ack, lazy=[self._record_feedback])
        self.app.action(OPEN_ACTION)(_ack)  # a URL button still sends an action; Slack wants it acknowledged

    @property
    def uses_socket_mode(self) -> bool:
        return self.settings.slack_app_token is not None

    # -- middleware and matchers (run inside dispatch, before the ack) ---------

    def _once_per_event(self, req: BoltRequest, body: dict[str, Any], next: Callable[[], None]) -> BoltResponse | None:
        """Answer each ``event_id`` once: Slack's retries (``X-Slack-Retry-Num``) of
        an event already handled are acknowledged and dropped; a retry of one never
        seen (its first delivery lost) is handled like a first delivery."""
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not req.lazy_only and not self.seen.first(f"event:{event_id}"):
            retry = (req.headers.get("x-slack-retry-num") or ["?"])[0]
            log.info("Slack event %s delivered again (retry %s); already handled", event_id, retry)
            return BoltResponse(status=200, body="")
        next()
        return None

    @staticmethod
    def _mention_from_person(event: dict[str, Any], context: BoltContext) -> bool:
        return is_from_person(event, context.bot_user_id)

    @staticmethod
    def _wanted_message(event: dict[str, Any], context: BoltContext) -> bool:
        """Direct messages, and replies in channel threads (answered only in threads
        we are part of); a reply that mentions us comes as ``app_mention`` instead."""
        if not is_from_person(event, context.bot_user_id):
            return False
        if event.get("channel_type") == "im":
            return True
        thread_ts = event.get("thread_ts")
        mentioned = bool(context.bot_user_id) and f"<@{context.bot_user_id}>" in event.get("text", "")
        return bool(thread_ts) and thread_ts != event.get("ts") and not mentioned

    # -- listeners ----------------------------------------------------------------

    @staticmethod
    def _ack_ask(ack: Ack, command: dict[str, Any]) -> None:
        if command.get("text", "").strip():
            ack()
        else:
            ack(text=USAGE_TEXT)

    def _answer_ask(self, command: dict[str, Any], respond: Respond) -> None:
        text = from_slack(command.get("text", ""))
        if not text:
            return  # the ack showed the usage
        reply = self.reply([("user", text)], text)
        respond(text=reply.text, blocks=reply.blocks, response_type="in_channel", replace_original=False)

    def _answer_mention(self, event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        self._answer_in_thread(event, client, context, ours_only=False)

    def _answer_message(self, event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        self._answer_in_thread(event, client, context, ours_only=event.get("channel_type") != "im")

    def _answer_in_thread(
        self, event: dict[str, Any], client: WebClient, context: BoltContext, ours_only: bool
    ) -> None:
        channel, ts = event["channel"], event["ts"]
        if not self.seen.first(f"message:{channel}:{ts}"):
            return
        thread_ts = event.get("thread_ts")
        history: list[tuple[str, str]] = []
        if thread_ts and thread_ts != ts:
            thread = self._thread(client, channel, thread_ts)
            if ours_only and not any(is_own(m, context.bot_user_id, context.bot_id) for m in thread):
                return  # a conversation between people that we are not part of
            history = thread_history(thread, ts, context.bot_user_id, context.bot_id)
        text = from_slack(event.get("text", ""), context.bot_user_id)
        reply = self.reply([*history, ("user", text)], text) if text else Reply(escape(USAGE_TEXT))
        client.chat_postMessage(
            channel=channel,
            thread_ts=thread_ts or ts,
            text=reply.text,
            blocks=reply.blocks,
            unfurl_links=False,
            unfurl_media=False,
        )

    def _thread(self, client: WebClient, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        try:
            response = client.conversations_replies(channel=channel, ts=thread_ts, limit=HISTORY_MESSAGES)
        except SlackApiError as exc:
            log.warning("could not read thread %s in %s: %s", thread_ts, channel, exc.response.get("error"))
            return []
        return list(response.get("messages") or [])[-HISTORY_MESSAGES:]

    def _record_feedback(self, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        helpful = action.get("action_id") == FEEDBACK_UP
        value = parse_feedback_value(action.get("value", ""))
        channel = (body.get("channel") or {}).get("id", "")
        message_ts = (body.get("container") or {}).get("message_ts") or (body.get("message") or {}).get("ts", "")
        try:
            if value is None:
                raise usecases.Invalid("the button carries no question id")
            usecases.record_feedback(
                self.get_state(),
                value.question_id,
                helpful,
                source="slack",
                message_id=f"{channel}:{message_ts}",
                query=value.query or None,
            )
        except usecases.Invalid as exc:
            log.warning("Slack feedback not recorded (%s): value %r", exc, action.get("value"))
            respond(text="Sorry, I couldn't record that feedback.", response_type="ephemeral", replace_original=False)
            return
        respond(text="Thanks for the feedback!", response_type="ephemeral", replace_original=False)

    # -- the answer itself ----------------------------------------------------------

    def reply(self, messages: list[tuple[str, str]], asked: str) -> Reply:
        """The answer to a conversation (last turn = the question), as Block Kit."""
        state = self.get_state()
        engine = state.engine
        if engine is None:
            if state.error:
                return Reply(escape(f"The question bank could not be loaded ({state.error}); ask an admin."))
            return Reply(LOADING_TEXT)
        limit = self.settings.max_query_chars
        *history, (_, question) = messages
        try:
            question = clean_text(question, limit, "question")
        except ValueError as exc:
            return Reply(escape(str(exc)))
        cleaned = [(role, _clipped(content, limit)) for role, content in history if content.strip()]
        cleaned.append(("user", question))
        try:
            answer = usecases.answer(engine, cleaned, limit)
            return Reply(fallback_text(answer), answer_blocks(answer, self.settings.public_url))
        except Exception:
            log.exception("answering %r for Slack failed", asked)
            return Reply(FAILED_TEXT)


def _clipped(text: str, limit: int) -> str:
    """An earlier turn, as context only: control characters dropped, cut to the limit."""
    return "".join(ch for ch in text if ch in "\n\t" or ch.isprintable())[:limit]


def _ack(ack: Ack) -> None:
    ack()
