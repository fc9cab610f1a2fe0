"""What the handlers share: settings, memory, the connected channels, the job queue."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.channels.base import Channel
from bot.channels.supervisor import ChannelHealth
from bot.handlers.owner import OwnerIdentity
from twin_core.memory.people import PeopleMemory
from twin_core.memory.service import Memory
from twin_core.memory.store import SYSTEM_ACTOR, Store
from twin_core.settings import Settings
from twin_core.types import Button, HandleId, OutboundMessage
from workers.queue import JobQueue

log = logging.getLogger("twin")


@dataclass(slots=True)
class Services:
    settings: Settings
    memory: Memory
    channels: Mapping[str, Channel]
    jobs: JobQueue
    install_id: str = "twin"
    """Tells this twin's jobs from another's on a shared Redis."""
    health: Mapping[str, ChannelHealth] = field(default_factory=dict)
    """Each channel's `ChannelHealth`, for `/status`."""
    owner: OwnerIdentity | None = None
    """Who the owner is and where the control chat is (settings and pairing)."""
    people: PeopleMemory | None = None
    """People memory, kept in step with each recorded message (`Dispatcher`)."""

    def identity(self) -> OwnerIdentity:
        if self.owner is None:
            self.owner = OwnerIdentity(self.settings, self.store)
        return self.owner

    @property
    def store(self) -> Store:
        return self.memory.store

    def job_key(self, *parts: object) -> str:
        return ":".join([self.install_id, *(str(p) for p in parts)])

    def owner_handle(self, channel: str) -> HandleId:
        return self.identity().owner_handle(channel)

    async def tell_owner(
        self,
        text: str,
        data: Mapping[str, Any] | None = None,
        *,
        buttons: Sequence[Button] = (),
        card: str | None = None,
    ) -> bool:
        """Say something in the owner's control chat (never held by /pause), with
        one-tap `buttons` and the `card` it belongs to where given. Never
        raises: a control chat that cannot be reached is logged and audited, and False
        returned, so no job or handler fails for want of telling the owner."""
        try:
            control = await asyncio.to_thread(self.identity().control_chat)
            channel = self.channels.get(control.channel)
            if channel is None:
                raise ConnectionError(
                    f"the control chat is on {control.channel!r}, "
                    "which is not connected in this process"
                )
            await channel.send(
                OutboundMessage(
                    channel=control.channel,
                    chat_id=control.chat_id,
                    text=text,
                    data=data,
                    buttons=tuple(buttons),
                    card=card,
                )
            )
            return True
        except Exception as exc:
            log.error("could not tell the owner (%s): %s", exc, text)
            try:
                await asyncio.to_thread(
                    self.store.audit.record,
                    SYSTEM_ACTOR,
                    "owner_not_told",
                    text[:300],
                    f"{type(exc).__name__}: {exc}",
                )
            except Exception:
                log.exception("could not audit it either")
            return False
