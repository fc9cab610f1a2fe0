from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.app import Twin
from bot.channels.fake import FakeChannel
from twin_core.memory.models import Draft
from twin_core.types import InboundEvent, OutboundMessage

SEED_T0 = (datetime.now(UTC) - timedelta(days=30)).replace(
    hour=12, minute=0, second=0, microsecond=0
)
"""Seeded histories begin a month before the tests run. The responder weighs how recent
an example is against the real clock, so a fixed date made every seeded draft's score
sink a little each day the suite ran later (a phatic reply 92 days old scored just
above the floor)."""


@dataclass
class Harness:
    """Drives a real Twin through a recording fake channel."""

    twin: Twin
    channel: FakeChannel
    _seen: int = field(default=0)

    async def push(self, event: InboundEvent) -> None:
        """Deliver an event and wait until the twin has handled it."""
        await self.channel.push(event)
        await self.twin.idle()

    async def says(self, who: str, text: str, **kwargs: Any) -> InboundEvent:
        event = self.channel.event(who, text, **kwargs)
        await self.push(event)
        return event

    async def burst(self, who: str, *texts: str) -> None:
        """Several messages from one contact, arriving together."""
        async with self.twin.inbound.hold():
            for text in texts:
                await self.channel.push(self.channel.event(who, text))
        await self.twin.idle()

    async def owner_writes(self, to: str, text: str, **kwargs: Any) -> None:
        await self.push(self.channel.event("owner", text, chat=to, from_owner=True, **kwargs))

    async def command(self, text: str, *, sender: str = "owner") -> list[str]:
        """Run a control-chat message; returns only what the twin answered to it."""
        self.control()
        await self.push(self.channel.event(sender, text, chat="control"))
        return self.control()

    def control(self) -> list[str]:
        """What the twin told the owner since the last call."""
        said = [m.text for m in self.channel.sent if m.chat_id == "control"]
        new, self._seen = said[self._seen :], len(said)
        return new

    def control_data(self) -> list[dict[str, object]]:
        return [dict(m.data) for m in self.channel.sent if m.chat_id == "control" and m.data]

    def sent_to(self, chat: str) -> list[str]:
        return [m.text for m in self.channel.sent if m.chat_id == chat]

    def messages(self) -> list[OutboundMessage]:
        return list(self.channel.sent)

    def drafts(self) -> list[Draft]:
        return self.twin.store.drafts.with_status(limit=1000)

    def seed(self, conversations: dict[str, list[tuple[str, str]]]) -> None:
        """Record past exchanges and index them: {"alice": [("alice", "hi"), ("me", "hello")]}."""
        events = []
        for chat, turns in conversations.items():
            for number, (who, text) in enumerate(turns):
                mine = who == "me"
                events.append(
                    self.channel.event(
                        "owner" if mine else who,
                        text,
                        chat=chat,
                        from_owner=mine,
                        external_id=f"seed-{chat}-{number}",
                        sent_at=SEED_T0 + timedelta(hours=len(events), minutes=number),
                    )
                )
        self.twin.memory.record_many(events)
        self.twin.memory.index()
