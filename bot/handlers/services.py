"""What the handlers share: settings, memory, the connected channels, the job queue."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.channels.base import Channel
from twin_core.memory.service import Memory
from twin_core.memory.store import Store
from twin_core.settings import Settings
from twin_core.types import ChannelName, ChatId, HandleId, OutboundMessage
from workers.queue import JobQueue


class NoControlChat(RuntimeError):
    """The control chat's channel is not connected, so the owner cannot be told."""


@dataclass(slots=True)
class Services:
    settings: Settings
    memory: Memory
    channels: Mapping[str, Channel]
    queue: JobQueue

    @property
    def store(self) -> Store:
        return self.memory.store

    def owner_handle(self, channel: str) -> HandleId:
        handles = self.settings.owner_handles.get(channel)
        return HandleId(handles[0] if handles else "owner")

    async def tell_owner(self, text: str, data: Mapping[str, Any] | None = None) -> None:
        """Say something in the owner's control chat (never held by /pause)."""
        channel = self.channels.get(self.settings.control_channel)
        if channel is None:
            raise NoControlChat(
                f"the control chat is on {self.settings.control_channel!r}, which is not connected"
            )
        await channel.send(
            OutboundMessage(
                channel=ChannelName(self.settings.control_channel),
                chat_id=ChatId(self.settings.control_chat_id),
                text=text,
                data=data,
            )
        )
