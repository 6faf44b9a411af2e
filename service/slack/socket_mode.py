"""Socket Mode: the bot's connection out to Slack, kept trying in the background.

``SocketModeConnector`` opens a Socket Mode handler and connects it on its
own thread, so the server starts (and serves ``/slack/events``) whatever
Slack says.  slack_sdk's ``connect()`` does not always raise when it fails:
a refused WebSocket handshake is only logged, and the client is left
unconnected.  So an attempt counts as connected only when the client says it
is; otherwise the failure is logged, the handler closed, and a fresh one tried
after a delay that doubles from ``first_delay_s`` up to ``max_delay_s``, for
at most ``max_attempts`` attempts.  ``stop()`` (at shutdown) ends the waiting
at once and closes the connection.  slack_sdk's own auto-reconnect is held off
until an attempt connects (after a failed ``connect()`` its monitor would
otherwise retry every ten seconds beside these attempts, without backoff); from
then on it keeps the session up.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError

from service.slack.delivery import slack_error

if TYPE_CHECKING:
    from slack_bolt.adapter.socket_mode.builtin import SocketModeHandler

log = logging.getLogger(__name__)


class SocketModeConnector:
    def __init__(
        self,
        open_handler: Callable[[], SocketModeHandler],
        first_delay_s: float = 1.0,
        max_delay_s: float = 300.0,
        max_attempts: int = 100,
    ) -> None:
        if first_delay_s <= 0 or max_delay_s < first_delay_s or max_attempts <= 0:
            raise ValueError("need 0 < first_delay_s <= max_delay_s and max_attempts > 0")
        self.open_handler = open_handler
        self.first_delay_s = first_delay_s
        self.max_delay_s = max_delay_s
        self.max_attempts = max_attempts
        self.attempts = 0
        self.handler: SocketModeHandler | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="qbank-slack-socket", daemon=True)

    @property
    def connected(self) -> bool:
        with self._lock:
            return self.handler is not None and self.handler.client.is_connected()

    @property
    def running(self) -> bool:
        """Still trying to connect."""
        return self._thread.is_alive()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop trying, and close the connection if there is one."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                log.warning("a Socket Mode connection attempt is still running at shutdown; left to finish")
        with self._lock:
            handler, self.handler = self.handler, None
        if handler is not None:
            _close(handler)

    def _run(self) -> None:
        delay = self.first_delay_s
        while self.attempts < self.max_attempts and not self._stopping.is_set():
            self.attempts += 1
            handler, why = self._attempt()
            if handler is not None:
                with self._lock:
                    if not self._stopping.is_set():
                        self.handler = handler
                        log.info("connected to Slack over Socket Mode (attempt %d)", self.attempts)
                        return
                _close(handler)  # connected as the server stopped
                return
            if self.attempts == self.max_attempts:
                log.error(
                    "Socket Mode connection failed (attempt %d): %s; giving up: Slack reaches the bot only "
                    "through /slack/events until the server restarts",
                    self.attempts,
                    why,
                )
                return
            n = self.attempts
            log.warning("Socket Mode connection failed (attempt %d): %s; trying again in %g s", n, why, delay)
            if self._stopping.wait(delay):
                return
            delay = min(delay * 2, self.max_delay_s)

    def _attempt(self) -> tuple[SocketModeHandler | None, str]:
        """A connected handler, or None (the handler closed) and why."""
        handler = None
        try:
            handler = self.open_handler()
            client = handler.client
            client.auto_reconnect_enabled = client.default_auto_reconnect_enabled = False
            handler.connect()
            if client.is_connected():
                client.auto_reconnect_enabled = client.default_auto_reconnect_enabled = True
                return handler, ""
            why = "no WebSocket session was established"
        except SlackApiError as exc:
            why = f"Slack said {slack_error(exc)}"
        except Exception as exc:  # a socket error, a proxy, a bad URL: all retried the same way
            why = f"{type(exc).__name__}: {exc}"
        if handler is not None:
            _close(handler)
        return None, why


def _close(handler: SocketModeHandler) -> None:
    try:
        handler.close()
    except Exception:
        log.exception("closing a Socket Mode handler failed")
