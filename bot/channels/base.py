"""The one contract between the twin and a messaging platform.

An adapter connects to its platform, turns each update into one `InboundEvent` handed to
`on_event`, and sends `OutboundMessage`s. It holds no policy, no allow-list and no
memory: those live in `bot/handlers` and `twin_core`. Connecting again after a lost
connection is not the adapter's business either: `bot.channels.supervisor` does it for
every channel alike.

Two optional hooks, looked up with `getattr`, let a channel do more where its platform
can: `set_command_menu(commands)` is given the control commands as `(name, help)`
pairs before `start()` (Telegram's `setMyCommands`), and `status_lines() -> list[str]`
adds lines to `/status` (a Telegram Business connection that may not reply; WhatsApp's
sending budget and what it held back).
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from typing import Protocol, runtime_checkable

from twin_core.types import ChannelName, ExternalId, InboundEvent, OutboundMessage

__all__ = [
    "Channel",
    "ChannelAuthError",
    "ChannelState",
    "EventHandler",
    "InboundEvent",
    "OutboundMessage",
    "SendError",
    "SendLater",
]

EventHandler = Callable[[InboundEvent], Awaitable[None]]


class SendError(RuntimeError):
    """The platform refused or failed to take a message; the text says why."""


class SendLater(SendError):
    """The platform could take the message, but not now: the channel holds it back (a
    sending budget) until `retry_after_s` seconds from now. The outbox keeps the draft
    approved and sends it then."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class ChannelAuthError(RuntimeError):
    """The platform refused the credentials (or the account is gone): connecting again
    cannot help, so the supervisor gives up and says why."""


class ChannelState(enum.StrEnum):
    """A channel's health as the owner sees it in `/status`."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    FAILED = "failed"
    STOPPED = "stopped"


@runtime_checkable
class Channel(Protocol):
    name: ChannelName

    async def start(self, on_event: EventHandler) -> None:
        """Connect and begin delivering events to `on_event`; returns once connected.
        Raises `ChannelAuthError` when the credentials are refused, anything else when
        the platform cannot be reached (the supervisor tries again)."""
        ...

    async def wait_closed(self) -> None:
        """Returns when the channel has ended for good (the console's input ran out, or
        `stop()` was called); raises when the connection was lost."""
        ...

    async def stop(self) -> None:
        """Disconnect; safe to call twice."""
        ...

    async def send(self, message: OutboundMessage) -> ExternalId:
        """Deliver `message`; returns the platform's id for it. Raises `SendError`."""
        ...
