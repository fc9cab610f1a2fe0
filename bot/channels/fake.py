"""A recording channel for tests: push events in, read what the twin sent."""

from __future__ import annotations

import asyncio
import itertools
from datetime import datetime
from typing import Any

from bot.channels.base import EventHandler, SendError
from twin_core.types import (
    ChannelName,
    ChatId,
    ExternalId,
    HandleId,
    InboundEvent,
    OutboundMessage,
    utcnow,
)


class FakeChannel:
    def __init__(self, name: str = "fake") -> None:
        self.name = ChannelName(name)
        self.sent: list[OutboundMessage] = []
        self.refuse_chats: set[str] = set()
        """Chats the fake platform refuses to deliver to (to test failures)."""
        self._on_event: EventHandler | None = None
        self._ids = itertools.count(1)
        self._closed = asyncio.Event()

    async def start(self, on_event: EventHandler) -> None:
        self._on_event = on_event
        self._closed.clear()

    async def wait_closed(self) -> None:
        await self._closed.wait()

    async def stop(self) -> None:
        self._on_event = None
        self._closed.set()

    async def send(self, message: OutboundMessage) -> ExternalId:
        if message.chat_id in self.refuse_chats:
            raise SendError(f"fake platform refused the message to {message.chat_id}")
        self.sent.append(message)
        return ExternalId(f"{self.name}-out-{next(self._ids)}")

    def event(
        self,
        sender: str,
        text: str,
        *,
        chat: str | None = None,
        external_id: str | None = None,
        from_owner: bool = False,
        name: str | None = None,
        sent_at: datetime | None = None,
        **more: Any,
    ) -> InboundEvent:
        return InboundEvent(
            channel=self.name,
            external_id=ExternalId(external_id or f"{self.name}-in-{next(self._ids)}"),
            chat_id=ChatId(chat or sender),
            sender_id=HandleId(sender),
            sender_name=name or sender.title(),
            text=text,
            sent_at=sent_at or utcnow(),
            from_owner=from_owner,
            **more,
        )

    async def push(self, event: InboundEvent) -> None:
        if self._on_event is None:
            raise RuntimeError("FakeChannel.start() was not awaited")
        await self._on_event(event)

    def take(self) -> list[OutboundMessage]:
        """What was sent since the last take."""
        sent, self.sent = self.sent, []
        return sent
