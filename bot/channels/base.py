"""The one contract between the twin and a messaging platform.

An adapter connects to its platform, turns each update into one `InboundEvent` handed to
`on_event`, and sends `OutboundMessage`s. It holds no policy, no allow-list and no
memory: those live in `bot/handlers` and `twin_core`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, runtime_checkable

from twin_core.types import ChannelName, ExternalId, InboundEvent, OutboundMessage

__all__ = ["Channel", "EventHandler", "InboundEvent", "OutboundMessage", "SendError"]

EventHandler = Callable[[InboundEvent], Awaitable[None]]


class SendError(RuntimeError):
    """The platform refused or failed to take a message; the text says why."""


@runtime_checkable
class Channel(Protocol):
    name: ChannelName

    async def start(self, on_event: EventHandler) -> None:
        """Connect and begin delivering events to `on_event`; returns once connected."""
        ...

    async def stop(self) -> None:
        """Disconnect; safe to call twice."""
        ...

    async def send(self, message: OutboundMessage) -> ExternalId:
        """Deliver `message`; returns the platform's id for it. Raises `SendError`."""
        ...
