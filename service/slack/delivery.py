"""How the bot's messages reach Slack, and what happens when they do not.

The bot's ``WebClient`` retries with slack_sdk's own handlers: a dropped or
reset connection (``ConnectionErrorRetryHandler``, with backoff) and HTTP 429
(``RateLimitErrorRetryHandler``, which waits the ``Retry-After`` Slack sends).
A 429 asking for a longer wait than ``RATE_LIMIT_MAX_WAIT_S`` is not slept on:
the answer is written on one of a few worker threads, and one asleep for
minutes helps nobody.  A request that timed out waiting for Slack's answer is
not retried (Slack may have posted it), as slack_sdk decides.

When a post fails for good, ``post_answer`` logs the channel and the question
and returns the error, and ``tell_asker`` says what happened and what to do
(``not_in_channel``: "invite me to the channel with /invite @qbank") to the
asker alone: an ephemeral message in the channel where Slack allows one, else a
direct message.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler, RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from service.slack.kit import Block
from service.slack.mrkdwn import escape

log = logging.getLogger(__name__)

TIMEOUT_S = 15
CONNECTION_RETRIES = 2
RATE_LIMIT_RETRIES = 2
RATE_LIMIT_MAX_WAIT_S = 30.0
LOGGED_QUESTION_CHARS = 200
UNREACHABLE = "unreachable"  # the error of a post that never got an answer from Slack

NOT_A_MEMBER = ("not_in_channel", "channel_not_found")
INVITE_TEXT = (
    "I couldn't answer you in {where}: I'm not in that channel. "
    "Invite me to the channel with /invite {bot}, then ask again, or send me a direct message."
)
RATE_LIMITED_TEXT = "Slack is limiting how fast I can post in {where}, so my answer didn't get through: ask again soon."
FAILED_POST_TEXT = "I couldn't post my answer in {where} (Slack said `{error}`): ask again, or send me a DM."


class RateLimitRetry(RateLimitErrorRetryHandler):
    """slack_sdk's 429 handler (sleep ``Retry-After``, try again), for waits of
    at most ``max_wait_s``."""

    def __init__(self, max_retry_count: int = RATE_LIMIT_RETRIES, max_wait_s: float = RATE_LIMIT_MAX_WAIT_S) -> None:
        if max_retry_count < 0 or max_wait_s < 0:
            raise ValueError("max_retry_count and max_wait_s must not be negative")
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait_s = max_wait_s

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if not super()._can_retry(state=state, request=request, response=response, error=error):
            return False
        wait = retry_after(response.headers if response is not None else {})
        return wait is None or wait <= self.max_wait_s  # no header: slack_sdk waits a second or two


def retry_after(headers: dict[str, Any]) -> float | None:
    """Seconds in a ``Retry-After`` header (its values are lists in slack_sdk's
    retry responses); None when absent or unreadable."""
    for name, value in headers.items():
        if name.lower() == "retry-after":
            first = value[0] if isinstance(value, list | tuple) and value else value
            try:
                return float(first)
            except (TypeError, ValueError):
                return None
    return None


def retry_handlers() -> list[RetryHandler]:
    return [ConnectionErrorRetryHandler(max_retry_count=CONNECTION_RETRIES), RateLimitRetry()]


def web_client(token: str, base_url: str) -> WebClient:
    """The bot's Web API client, with the retries above."""
    return WebClient(token=token, base_url=base_url, timeout=TIMEOUT_S, retry_handlers=retry_handlers())


def slack_error(exc: SlackApiError) -> str:
    """The ``error`` of a failed Web API call (``not_in_channel``, ``ratelimited``…)."""
    response = exc.response
    error = response.get("error") if isinstance(response.data, dict) else None
    return str(error) if error else f"HTTP {response.status_code}"


def clipped(question: str) -> str:
    return question if len(question) <= LOGGED_QUESTION_CHARS else question[: LOGGED_QUESTION_CHARS - 1] + "…"


def post_answer(
    client: WebClient, channel: str, thread_ts: str | None, text: str, blocks: list[Block] | None, question: str
) -> str | None:
    """Post an answer in its thread (``thread_ts`` None: in the channel itself),
    after the client's retries; None when it is posted, else Slack's error (or
    "unreachable (why)"), logged with the channel and the question."""
    try:
        client.chat_postMessage(
            channel=channel,
            thread_ts=thread_ts,
            text=text,
            blocks=blocks,
            unfurl_links=False,
            unfurl_media=False,
        )
        return None
    except SlackApiError as exc:
        error = slack_error(exc)
    except OSError as exc:  # URLError, a dropped connection, a timeout: after the retries
        error = f"{UNREACHABLE} ({exc})"
    log.warning("answer to %r not posted in %s (thread %s): %s", clipped(question), channel, thread_ts, error)
    return error


def undelivered_text(error: str, channel: str, bot_user_id: str | None) -> str:
    """What to tell the asker whose answer Slack refused with ``error``."""
    where = f"<#{escape(channel)}>" if channel[:1] in ("C", "G") else "this conversation"
    if error in NOT_A_MEMBER:
        return INVITE_TEXT.format(where=where, bot=f"<@{escape(bot_user_id)}>" if bot_user_id else "@qbank")
    if error == "ratelimited":
        return RATE_LIMITED_TEXT.format(where=where)
    return FAILED_POST_TEXT.format(where=where, error=escape(error))


def tell_asker(client: WebClient, channel: str, user: str, text: str) -> str | None:
    """Say ``text`` to ``user`` alone: ephemeral in ``channel`` (chat.postEphemeral)
    where Slack allows it, else in a DM (conversations.open, chat.postMessage).
    How it went ("ephemeral", "dm"), or None when neither worked; logged."""
    try:
        client.chat_postEphemeral(channel=channel, user=user, text=text)
        log.info("told %s in %s (ephemeral): %s", user, channel, text)
        return "ephemeral"
    except (SlackApiError, OSError) as exc:
        first = slack_error(exc) if isinstance(exc, SlackApiError) else str(exc)
    try:
        dm = client.conversations_open(users=user)["channel"]["id"]
        if dm == channel:
            raise ValueError("the DM is where the post failed")
        client.chat_postMessage(channel=dm, text=text)
    except (SlackApiError, OSError, KeyError, TypeError, ValueError) as exc:
        second = slack_error(exc) if isinstance(exc, SlackApiError) else str(exc)
        log.warning("could not tell %s about their answer in %s: ephemeral %s, DM %s", user, channel, first, second)
        return None
    log.info("told %s in a DM (no ephemeral in %s: %s): %s", user, channel, first, text)
    return "dm"
