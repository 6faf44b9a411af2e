"""The bot token scopes the bot needs: one per use, nothing more.

Each Web API method the bot calls (directly or through bolt) and each event
it subscribes to, with the scopes Slack requires for it.  The manifest
(``service/slack/manifest.yml``) asks for exactly ``needed_scopes`` of its
events and commands, and service/slack/README.md gives each scope's reason;
a test holds the three together and checks that every ``client.<method>``
call in this package is listed here.

Socket Mode's ``apps.connections.open`` is called with the app-level token
(``connections:write``), not the bot token, so it needs no bot scope.
"""

from __future__ import annotations

from collections.abc import Iterable

HISTORY_SCOPES = ("channels:history", "groups:history", "im:history", "mpim:history")

METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "auth.test": (),  # bolt: who the bot is, on the first request
    "chat.postMessage": ("chat:write",),  # answers in threads; practice cards and reminders in DMs
    "chat.postEphemeral": ("chat:write",),  # telling an asker alone that their answer failed
    "conversations.open": ("im:write",),  # the DM for practice cards, reminders, and an asker Slack refused
    "conversations.replies": HISTORY_SCOPES,  # a thread's earlier messages, in any kind of conversation
    "views.publish": (),  # the Home tab
    "views.open": (),  # the form for a comment after a 👎
}

EVENT_SCOPES: dict[str, tuple[str, ...]] = {
    "app_home_opened": (),
    "app_mention": ("app_mentions:read",),
    "message.channels": ("channels:history",),  # replies in our threads in public channels
    "message.groups": ("groups:history",),  # the same in private channels
    "message.im": ("im:history",),  # direct messages
    "message.mpim": ("mpim:history",),  # group direct messages, answered as direct messages
}

COMMAND_SCOPE = "commands"  # /ask (and /ask practice)


def needed_scopes(events: Iterable[str], has_commands: bool) -> set[str]:
    """The bot scopes for the methods the bot calls, ``events``, and slash commands."""
    scopes = {scope for method_scopes in METHOD_SCOPES.values() for scope in method_scopes}
    for event in events:
        if event not in EVENT_SCOPES:
            raise ValueError(f"unknown event {event!r}: add it to EVENT_SCOPES with its scopes")
        scopes.update(EVENT_SCOPES[event])
    if has_commands:
        scopes.add(COMMAND_SCOPE)
    return scopes
