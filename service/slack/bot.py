"""The Slack bot: a slack-bolt ``App`` with the /ask command, @mentions, direct
messages, thread follow-ups, the answers' buttons (Show full answer, Share in
channel, feedback) and the App Home tab.

Every request is checked by bolt's signing-secret verification before any
listener sees it.  Slack wants an answer within 3 seconds, so each listener
acknowledges at once and searches in a lazy listener: with
``process_before_response=True`` bolt runs the (instant) ack function inside
``dispatch`` and hands the lazy function to ``JobPool``, so the HTTP response
goes back while the search runs; the answer is then posted through the
command's ``response_url`` (only the asker sees it until they share it) or
``chat.postMessage`` in a thread under the question.  The engine is read from
the service state on every question: the index loads in the background, and a
reload swaps it.  How posts are retried, and what the asker is told when Slack
refuses one, is ``service.slack.delivery``; the Socket Mode connection is
``service.slack.socket_mode``; the scopes all this needs, ``service.slack.scopes``.
``/ask practice`` and the practice cards' buttons are ``service.slack.practice``
(a reply in a card's thread is scored there, not answered as a question), the
daily reminders ``service.slack.reminders``, and what a 👎 asks after it
``service.slack.reasons``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App, BoltContext, BoltRequest, BoltResponse, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier

from qbank.answer import Answer
from qbank.answer.conversation import turns_kept
from qbank.settings import Settings
from service import usecases
from service.headers import public_message
from service.querylog import Asked
from service.schemas import blank, clean_text, question_url
from service.slack.blocks import HELP_TEXT, LOADING_TEXT, USAGE_TEXT, answer_blocks, fallback_text
from service.slack.buttons import (
    EXPAND_ACTION,
    FEEDBACK_UP,
    OPEN_ACTION,
    QUERY_IN_VALUE,
    SHARE_ACTION,
    AnswerRef,
    asked_query,
    shown_vote,
    with_vote,
)
from service.slack.delivery import UNREACHABLE, post_answer, slack_error, tell_asker, undelivered_text, web_client
from service.slack.home import home_view
from service.slack.jobs import JobPool, Seen
from service.slack.kit import Block, context
from service.slack.mrkdwn import escape, from_slack, link
from service.slack.practice import SlackPractice, practice_words
from service.slack.practice_cards import CardRef, card_ref
from service.slack.reasons import SlackReasons, VoteRef, ask_why_blocks
from service.slack.reminders import Reminders
from service.slack.short import short_blocks
from service.state import ServiceState

if TYPE_CHECKING:
    from service.slack.socket_mode import SocketModeConnector

log = logging.getLogger(__name__)

TIMESTAMP_DIGITS = 12  # Slack sends Unix seconds: 10 digits until the year 2286

HISTORY_MESSAGES = 50
DIRECT = ("im", "mpim")  # direct messages and group direct messages: every message is for the bot
THREADS_KEPT_S = 7 * 24 * 3600.0  # how long the bot remembers the threads it answered in
THREAD_UNREAD_TEXT = "_I couldn't read this thread (Slack said `{error}`), so I answered this message on its own._"
FAILED_TEXT = "Sorry, something went wrong while answering; it has been logged."
CHANGED_TEXT = "That answer has changed since it was posted: {link}."
ASKED_BLOCK = "qbank_asked"
ASKED_CHARS = 300  # of the question, in the "<@U…> asked: …" line of a shared answer


@dataclass(frozen=True, slots=True)
class Reply:
    """What the bot says: an answer's text and blocks, or only a text (the
    usage, a loading or error message, which only the asker needs to see)."""

    text: str
    blocks: list[Block] | None = None


def asked_block(user_id: str, question: str) -> Block:
    """The line above a shared /ask answer: who asked, and what."""
    shown = question if len(question) <= ASKED_CHARS else question[: ASKED_CHARS - 1].rstrip() + "…"
    line = context(f"<@{escape(user_id)}> asked: {escape(shown)}")
    return {**line, "block_id": ASKED_BLOCK}


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
            if query and not (turns and turns[-1][0] == "user" and _same_turn(turns[-1][1], query)):
                turns.append(("user", query))
            turns.append(("assistant", from_slack(m.get("text", ""))))
        elif is_from_person(m, bot_user_id):
            text = from_slack(m.get("text", ""), bot_user_id)
            if text:
                turns.append(("user", text))
    return turns


def practice_card(thread: list[dict[str, Any]], thread_ts: str, context: BoltContext) -> CardRef | None:
    """The practice card a thread hangs under (its first message is one of ours
    with a card's buttons), or None for any other thread."""
    root = next((m for m in thread if m.get("ts") == thread_ts), None)
    if root is None or not is_own(root, context.bot_user_id, context.bot_id):
        return None
    return card_ref(root.get("blocks"))


class SlackBot:
    def __init__(self, settings: Settings, get_state: Callable[[], ServiceState], workers: int = 8) -> None:
        if settings.slack_bot_token is None or settings.slack_signing_secret is None:
            raise ValueError("the Slack bot needs QBANK_SLACK_BOT_TOKEN and QBANK_SLACK_SIGNING_SECRET")
        self.settings = settings
        self.get_state = get_state
        self.pool = JobPool(workers)
        self.seen = Seen()
        self.threads = Seen(ttl_s=THREADS_KEPT_S)  # "channel:thread_ts" of the threads we answered in
        self.socket: SocketModeConnector | None = None  # set while the app runs, with QBANK_SLACK_APP_TOKEN
        self.verifier = SignatureVerifier(settings.slack_signing_secret.get_secret_value())
        self._seen_url: str | None = None
        client = web_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url)
        self.app = App(
            name="qbank",
            client=client,
            signing_secret=settings.slack_signing_secret.get_secret_value(),
            token_verification_enabled=False,  # auth.test runs on the first request, not at import/startup
            process_before_response=True,
            listener_executor=self.pool,
        )
        self.practice = SlackPractice(settings, get_state, lambda: self.public_url)
        self.reminders = Reminders(client, get_state, settings)  # started and stopped with the app (mount)
        self.app.use(self._once_per_event)
        self.app.command("/ask")(ack=self._ack_ask, lazy=[self._answer_ask])
        self.app.event("app_mention", matchers=[self._mention_from_person])(ack=_ack, lazy=[self._answer_mention])
        self.app.event("app_mention")(_ack)  # bots' mentions: acknowledged, ignored
        self.app.event("message", matchers=[self._wanted_message])(ack=_ack, lazy=[self._answer_message])
        self.app.event("message")(_ack)  # everything else in the channels we are in
        self.app.event("app_home_opened", matchers=[self._home_tab])(ack=_ack, lazy=[self._publish_home])
        self.app.event("app_home_opened")(_ack)  # the Messages tab: nothing to publish
        self.app.action(re.compile(r"^qbank_feedback_(up|down)$"))(ack=_ack, lazy=[self._record_feedback])
        self.app.action(EXPAND_ACTION)(ack=_ack, lazy=[self._expand])
        self.app.action(SHARE_ACTION)(ack=_ack, lazy=[self._share])
        self.app.action(OPEN_ACTION)(_ack)  # a URL button still sends an action; Slack wants it acknowledged
        self.practice.register(self.app)  # the practice cards' buttons
        self.reasons = SlackReasons(get_state)
        self.reasons.register(self.app)  # after a 👎: the reasons' buttons and the comment form

    @property
    def public_url(self) -> str:
        """Where links point: ``QBANK_PUBLIC_URL`` when set, else the address the
        last signed request reached us on (``seen_at``), else the setting's default."""
        if self.settings.public_url_set or self._seen_url is None:
            return self.settings.public_url.rstrip("/")
        return self._seen_url

    def seen_at(self, url: str) -> None:
        """The address a signed request came in on (Slack calls a public URL)."""
        self._seen_url = url.rstrip("/")

    def signed(self, body: bytes, timestamp: str | None, signature: str | None) -> bool:
        """Slack's signature over ``body``, with a timestamp of digits within five minutes.  Slack
        sends UTF-8: a body that is not (which slack_sdk's verifier would fail to decode) is
        unsigned."""
        # ASCII digits of a plausible length ("²³" is a digit to isdigit(), and 4,400 digits are
        # past int()'s limit: both were 500s), and an ASCII signature (compare_digest refuses others)
        if not timestamp or not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > TIMESTAMP_DIGITS:
            return False
        if not signature or not signature.isascii():
            return False
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return self.verifier.is_valid(body, timestamp, signature)

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
        """Direct messages (group ones too), and replies in channel threads
        (answered only in threads we are part of); a reply in a channel that
        mentions us comes as ``app_mention`` instead."""
        if not is_from_person(event, context.bot_user_id):
            return False
        if event.get("channel_type") in DIRECT:
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
            ack(text=HELP_TEXT)

    def _answer_ask(self, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        """Only the asker sees the answer (and any error) until they share it;
        ``/ask practice …`` deals a practice card in a DM instead."""
        text = from_slack(command.get("text", ""))
        if not text:
            return  # the ack showed the usage
        words = practice_words(text)
        if words is not None:
            self.practice.command(words, command, respond, client)
            return
        reply = self.reply([("user", text)], text, share=True)
        respond(text=reply.text, blocks=reply.blocks, response_type="ephemeral", replace_original=False)

    def _answer_mention(self, event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        self._answer_in_thread(event, client, context, ours_only=False)

    def _answer_message(self, event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        self._answer_in_thread(event, client, context, ours_only=event.get("channel_type") not in DIRECT)

    def _answer_in_thread(
        self, event: dict[str, Any], client: WebClient, context: BoltContext, ours_only: bool
    ) -> None:
        channel, ts = event["channel"], event["ts"]
        if not self.seen.first(f"message:{channel}:{ts}"):
            return
        thread_ts = event.get("thread_ts")
        history: list[tuple[str, str]] = []
        note = None
        if thread_ts and thread_ts != ts:
            thread, error = self._thread(client, channel, thread_ts)
            card = practice_card(thread, thread_ts, context) if event.get("channel_type") == "im" else None
            if card is not None:  # an answer typed under a practice card: scored, not searched
                self.practice.score_reply(event, card, client, context.bot_user_id)
                return
            earlier = self._history(event, thread, error, context, ours_only)
            if earlier is None:
                return  # a conversation between people that we are not part of
            history, note = earlier
        text = from_slack(event.get("text", ""), context.bot_user_id)
        reply = self.reply([*history, ("user", text)], text, note=note) if text else Reply(escape(USAGE_TEXT))
        error = post_answer(client, channel, thread_ts or ts, reply.text, reply.blocks, text)
        if error is None:
            self.threads.first(f"{channel}:{thread_ts or ts}")
        elif not error.startswith(UNREACHABLE):  # Slack unreachable: no way to tell them
            tell_asker(client, channel, event["user"], undelivered_text(error, channel, context.bot_user_id))

    def _history(
        self,
        event: dict[str, Any],
        thread: list[dict[str, Any]],
        error: str | None,
        context: BoltContext,
        ours_only: bool,
    ) -> tuple[list[tuple[str, str]], str | None] | None:
        """A thread reply's earlier turns (``thread``, as read), and a note for
        the answer when the thread could not be read (``error``: then it is
        answered on its own); None when, with ``ours_only``, the thread is not
        ours to answer in.  Unread, a thread is ours when we answered in it (or
        started it)."""
        channel, thread_ts = event["channel"], event["thread_ts"]
        if error is not None:
            ours = f"{channel}:{thread_ts}" in self.threads or event.get("parent_user_id") == context.bot_user_id
            if ours_only and not ours:
                log.info("left a reply in thread %s of %s alone: unread, not known to be ours", thread_ts, channel)
                return None
            return [], THREAD_UNREAD_TEXT.format(error=escape(error))
        if ours_only and not any(is_own(m, context.bot_user_id, context.bot_id) for m in thread):
            return None
        return thread_history(thread, event["ts"], context.bot_user_id, context.bot_id), None

    def _thread(self, client: WebClient, channel: str, thread_ts: str) -> tuple[list[dict[str, Any]], str | None]:
        """The thread's last messages, or no messages and why Slack would not give them."""
        try:
            response = client.conversations_replies(channel=channel, ts=thread_ts, limit=HISTORY_MESSAGES)
        except SlackApiError as exc:
            error = slack_error(exc)
        except OSError as exc:
            error = f"{UNREACHABLE} ({exc})"
        else:
            return list(response.get("messages") or [])[-HISTORY_MESSAGES:], None
        log.warning("could not read thread %s in %s: %s", thread_ts, channel, error)
        return [], error

    def _record_feedback(self, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        """A 👍 or 👎: stored with the clicker's user id (a second click on the
        same message changes their vote), shown on the message (the pressed
        button primary, the rest of the message kept), and thanked privately;
        the thanks for a 👎 asks why (``service.slack.reasons``).
        An ephemeral message (a private /ask answer) is not sent back to us, so
        only the thanks says it."""
        helpful = action.get("action_id") == FEEDBACK_UP
        ref = AnswerRef.parse(action.get("value", ""))
        channel = (body.get("channel") or {}).get("id", "")
        message = body.get("message") or {}
        message_ts = (body.get("container") or {}).get("message_ts") or message.get("ts", "")
        message_id = f"{channel}:{message_ts}"
        try:
            if ref is None:
                raise usecases.Invalid("the button carries no question id")
            stored = usecases.record_feedback(
                self.get_state(),
                ref.question_id,
                helpful,
                source="slack",
                message_id=message_id,
                query=ref.query or None,
                user_id=(body.get("user") or {}).get("id") or None,
            )
        except usecases.Invalid as exc:
            log.warning("Slack feedback not recorded (%s): value %r", exc, action.get("value"))
            respond(text="Sorry, I couldn't record that feedback.", response_type="ephemeral", replace_original=False)
            return
        if message.get("blocks"):
            respond(text=message.get("text", ""), blocks=with_vote(message["blocks"], helpful), replace_original=True)
        if stored.previous is None:
            thanks = "Thanks for the feedback!"
        elif stored.previous != helpful:
            thanks = f"Changed your vote to {'👍' if helpful else '👎'}."
        else:
            thanks = f"You had already voted {'👍' if helpful else '👎'}; thanks!"
        why = None if helpful else ask_why_blocks(thanks, VoteRef(ref.question_id, ref.query, message_id))
        respond(text=thanks, blocks=why, response_type="ephemeral", replace_original=False)

    def _expand(self, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        """Show full answer: the message is replaced in place by the full card
        (composed again from the turns its button carries), keeping the line
        that says who asked and, while only the asker sees it, the Share button."""
        clicked = self._clicked(action)
        if isinstance(clicked, Reply):
            respond(text=clicked.text, response_type="ephemeral", replace_original=False)
            return
        ref, answer = clicked
        message_blocks = (body.get("message") or {}).get("blocks") or []
        asked = [b for b in message_blocks if b.get("block_id") == ASKED_BLOCK][:1]
        ephemeral = bool((body.get("container") or {}).get("is_ephemeral"))
        blocks = answer_blocks(answer, self.public_url, ref, share=ephemeral, above=asked)
        vote = shown_vote(message_blocks)
        respond(
            text=fallback_text(answer),
            blocks=blocks if vote is None else with_vote(blocks, vote),
            replace_original=True,
        )

    def _share(self, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        """Share in channel: the short answer, for everyone, under "<@asker> asked: …";
        the private copy is removed."""
        clicked = self._clicked(action)
        if isinstance(clicked, Reply):
            respond(text=clicked.text, response_type="ephemeral", replace_original=False)
            return
        ref, answer = clicked
        user = (body.get("user") or {}).get("id", "")
        asked = asked_block(user, ref.turns[-1] if ref.turns else ref.query)
        blocks = short_blocks(answer, self.public_url, ref, above=[asked])
        respond(text=fallback_text(answer), blocks=blocks, response_type="in_channel", replace_original=False)
        respond(delete_original=True)

    @staticmethod
    def _home_tab(event: dict[str, Any]) -> bool:
        return event.get("tab", "home") == "home"

    def _publish_home(self, event: dict[str, Any], client: WebClient) -> None:
        try:
            engine = self.get_state().engine
            catalog = engine.composer.catalog if engine is not None else None
            client.views_publish(user_id=event["user"], view=home_view(self.public_url, catalog))
        except SlackApiError as exc:
            log.warning("could not publish the Home tab for %s: %s", event.get("user"), exc.response.get("error"))

    # -- the answer itself ----------------------------------------------------------

    def reply(self, messages: list[tuple[str, str]], asked: str, share: bool = False, note: str | None = None) -> Reply:
        """The short answer to a conversation (last turn = the question), as
        Block Kit; with ``share``, a found answer gets the Share button; a
        ``note`` (mrkdwn) goes above it."""
        composed = self.compose(messages, asked, record=True)
        if isinstance(composed, Reply):
            return Reply(f"{note}\n{composed.text}") if note else composed
        answer, turns = composed
        record_id = answer.record.id if answer.record is not None else ""
        # The turns a button composes the answer from again: the last, and the ones the resolver reads
        # before it ("thanks" and the like are no turns, but "hi" before a pick of what it offered is).
        ref = AnswerRef(record_id, answer.rewritten_query, tuple(turns_kept(turns)))
        above = [context(note)] if note else []
        blocks = short_blocks(answer, self.public_url, ref, share=share and not answer.abstained, above=above)
        return Reply(fallback_text(answer), blocks)

    def compose(
        self, messages: list[tuple[str, str]], asked: str, record: bool = False
    ) -> tuple[Answer, tuple[str, ...]] | Reply:
        """The ``Answer`` to a conversation and the user turns it was composed
        from (cleaned), or the message that says why there is none (the bank is
        loading, the question is invalid, answering failed).  With ``record`` (a
        new question, not a button composing an answer again), the turn goes
        into the query log, without the Slack user."""
        state = self.get_state()
        engine = state.engine
        if engine is None:
            if state.error:
                error = public_message(state.error)
                return Reply(escape(f"The question bank could not be loaded ({error}); ask an admin."))
            return Reply(LOADING_TEXT)
        limit = self.settings.max_query_chars
        *history, (_, question) = messages
        try:
            question = clean_text(question, limit, "question")
        except ValueError as exc:
            return Reply(escape(str(exc)))
        # a turn with nothing readable once clipped ("\u200b") is left out: the answer refuses an
        # empty turn, and one in a thread failed every later answer there
        cleaned = [(role, text) for role, content in history if not blank(text := _clipped(content, limit))]
        cleaned.append(("user", question))
        try:
            logged = Asked(state.query_log, "slack") if record else None
            answer = usecases.answer(engine, cleaned, limit, asked=logged)
            return answer, tuple(text for role, text in cleaned if role == "user")
        except Exception:
            log.exception("answering %r for Slack failed", asked)
            return Reply(FAILED_TEXT)

    def _clicked(self, action: dict[str, Any]) -> tuple[AnswerRef, Answer] | Reply:
        """The answer a clicked button stands for, composed again from the turns
        it carries; a Reply when it cannot be (the bank changed so that another
        question answers, or the value is not ours)."""
        ref = AnswerRef.parse(action.get("value", ""))
        if ref is None or not ref.turns:
            return Reply("Sorry, that button no longer works; ask again.")
        composed = self.compose([("user", turn) for turn in ref.turns], ref.turns[-1])
        if isinstance(composed, Reply):
            return composed
        answer = composed[0]
        if answer.record is not None:
            same = answer.record.id == ref.question_id
        else:
            same = answer.kind == "company_list" and not ref.question_id
        if not same:
            base = self.public_url
            url = question_url(base, ref.question_id) if ref.question_id else base
            return Reply(CHANGED_TEXT.format(link=link(url, "open it on the web")))
        return ref, answer


def _same_turn(said: str, carried: str) -> bool:
    """A button's copy of a turn is the turn: whole, or cut to ``QUERY_IN_VALUE`` characters
    (a question of 690 characters came back as a second turn of its first 500)."""
    return said == carried or (len(carried) >= QUERY_IN_VALUE and said.startswith(carried))


def _clipped(text: str, limit: int) -> str:
    """An earlier turn, as context only: control characters dropped, cut to the limit."""
    return "".join(ch for ch in text if ch in "\n\t" or ch.isprintable())[:limit]


def _ack(ack: Ack) -> None:
    ack()
