"""The Slack surface: ``POST /slack/events`` for slash commands, events and
button clicks, served by a slack-bolt app on the service's own FastAPI app.

``mount(app, settings)`` is called by ``service.app`` when
``QBANK_SLACK_BOT_TOKEN`` and ``QBANK_SLACK_SIGNING_SECRET`` are both set.
With ``QBANK_SLACK_APP_TOKEN`` also set, the bot connects to Slack over Socket
Mode as the app starts (for workspaces that cannot reach a public URL), in the
background and retrying with backoff until it is connected or the app stops
(``service.slack.socket_mode``); the HTTP endpoint stays mounted either way.
The daily practice reminders (``service.slack.reminders``) run beside it, from
start to shutdown.  See service/slack/README.md.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI, Request, Response
from slack_bolt import BoltRequest
from slack_bolt.adapter.starlette.handler import to_starlette_response

from qbank.settings import Settings
from service.deps import base_url
from service.slack.bot import SlackBot
from service.slack.socket_mode import SocketModeConnector

if TYPE_CHECKING:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

log = logging.getLogger(__name__)

DRAIN_S = 10.0  # at shutdown, how long answers being written may take to finish

router = APIRouter(tags=["slack"], include_in_schema=False)


MAX_HEADERS = 100  # a Slack request carries about 15; thousands of tiny ones were a way to stall the loop
LOGGED_BYTES = 200  # of a refused body


@router.post("/slack/events")
async def slack_events(request: Request) -> Response:
    """Check the request before anything else looks at it: too many headers is a
    431; a missing, malformed, wrong or stale signature a 401 (with a bounded
    excerpt logged once); a signed request seen before (a replay, within the
    five minutes a signature is good for) is acknowledged and not handled
    again.  Then bolt gets it (and checks the signature again).  ``dispatch``
    runs in a worker thread: it blocks on the first request's ``auth.test`` and
    on the ack."""
    bot: SlackBot = request.app.state.slack
    raw_headers = request.scope.get("headers") or []
    if len(raw_headers) > MAX_HEADERS:
        return Response(f"too many headers (over {MAX_HEADERS})", status_code=431)
    body = await request.body()
    timestamp = request.headers.get("x-slack-request-timestamp")
    signature = request.headers.get("x-slack-signature")
    if not bot.signed(body, timestamp, signature):
        log.info("refused an unsigned or stale Slack request (%d bytes): %r", len(body), body[:LOGGED_BYTES])
        return Response("invalid request signature", status_code=401)
    bot.seen_at(base_url(request, bot.settings))
    if not bot.seen.first(f"signed:{timestamp}:{signature}"):
        log.info("a signed Slack request was replayed (timestamp %s): acknowledged, not handled again", timestamp)
        return Response(status_code=200)
    headers: dict[str, list[str]] = {}
    for name, value in raw_headers:  # one pass; request.headers.getlist per name was quadratic
        headers.setdefault(name.decode("latin-1").lower(), []).append(value.decode("latin-1"))
    text = body.decode("utf-8")  # signed, so UTF-8 (SlackBot.signed)
    try:  # bolt parses the body here: JSON when the content type says so, else a form
        bolt_request = BoltRequest(body=text, query=request.url.query, headers=dict[str, str | Sequence[str]](headers))
    # not JSON (or a form); JSON but no object ("[1]"); JSON nested thousands deep (RecursionError)
    except (ValueError, AttributeError, TypeError, RecursionError) as e:
        log.info("refused a signed Slack request whose body does not parse (%s): %r", e, body[:LOGGED_BYTES])
        return Response(f"the body does not parse as its content type says: {e}", status_code=400)
    problem = shape_problem(bolt_request.body)
    if problem is not None:
        log.info("refused a signed Slack request of the wrong shape (%s): %r", problem, body[:LOGGED_BYTES])
        return Response(f"the request is not one Slack sends: {problem}", status_code=400)
    return to_starlette_response(await asyncio.to_thread(bot.app.dispatch, bolt_request))


INTERACTIVE = ("block_actions", "view_submission", "view_closed", "shortcut", "message_action", "block_suggestion")


def shape_problem(body: object) -> str | None:
    """What makes a parsed, signed body one that Slack does not send, or None: the fields bolt's
    middleware and our listeners read, of the types they read them as.  Each of these was a
    500 from inside bolt or our listeners ("actions": null, an action without a string
    action_id, "view": null, "event": null, a view's "state": "x", a command's "text": 5)."""
    if not isinstance(body, dict):
        return "the body is not an object"
    if "command" in body:
        if not isinstance(body["command"], str) or not isinstance(body.get("text", ""), str):
            return "a command or its text is not a string"
        return None
    kind = body.get("type")
    if not isinstance(kind, str):
        return "no type"
    if kind == "event_callback":
        event = body.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            return "the event has no type"
        return None if isinstance(event.get("text", ""), str) else "the event's text is not a string"
    if kind not in INTERACTIVE:
        return None
    user = body.get("user")
    if not isinstance(user, dict) or not isinstance(user.get("id"), str):
        return "no user id"
    if kind == "block_actions":
        actions = body.get("actions")
        if not isinstance(actions, list) or not actions:
            return "no actions"
        if not all(isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions):
            return "an action without an action_id"
    if kind in ("view_submission", "view_closed"):
        view = body.get("view")
        if not isinstance(view, dict) or not isinstance(view.get("type"), str):
            return "no view, or a view without a type"
        if not isinstance(view.get("private_metadata", ""), str) or not isinstance(view.get("callback_id", ""), str):
            return "a view field of the wrong type"
        state = view.get("state", {})
        values = state.get("values", {}) if isinstance(state, dict) else None
        if not isinstance(values, dict) or not all(
            isinstance(block, dict) and all(isinstance(v, dict) for v in block.values()) for block in values.values()
        ):
            return "a view's state is not of inputs"
    return None


def socket_mode_handler(bot: SlackBot) -> SocketModeHandler:
    """The Socket Mode connection for ``bot`` (not yet connected)."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    token = bot.settings.slack_app_token
    if token is None:
        raise ValueError("Socket Mode needs QBANK_SLACK_APP_TOKEN")
    return SocketModeHandler(bot.app, token.get_secret_value())


def mount(app: FastAPI, settings: Settings) -> SlackBot:
    bot = SlackBot(settings, lambda: app.state.qbank)
    app.state.slack = bot
    app.include_router(router)
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(fastapi_app: FastAPI) -> AsyncIterator[Any]:
        async with inner(fastapi_app) as maybe_state:
            bot.socket = SocketModeConnector(lambda: socket_mode_handler(bot)) if bot.uses_socket_mode else None
            if bot.socket is not None:
                bot.socket.start()  # connects (and retries) in the background: startup does not wait for Slack
            bot.reminders.start()  # the daily "N cards due" DMs: its first look waits for nothing
            try:
                yield maybe_state
            finally:
                await asyncio.to_thread(bot.reminders.stop)
                if bot.socket is not None:
                    await asyncio.to_thread(bot.socket.stop)
                if not await asyncio.to_thread(bot.pool.wait_idle, DRAIN_S):
                    log.warning("shutting down with %d Slack answers unfinished", bot.pool.in_flight)

    app.router.lifespan_context = lifespan
    return bot


__all__ = ["SlackBot", "SocketModeConnector", "mount", "router", "socket_mode_handler"]
