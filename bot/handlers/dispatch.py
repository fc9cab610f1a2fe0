"""Where every channel's events arrive: the control chat, or a contact's message.

The control chat is recognized by channel + chat + the owner's identity together,
never by a name a contact can take. A contact's message is recorded first (fast,
idempotent, off the event loop) and handed to the inbound processor; the callback then
returns, so no channel waits on drafting. A message that cannot be recorded is kept as
a dead letter and the owner is told the truth.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from bot.handlers.control import ControlHandler
from bot.handlers.inbound import InboundProcessor
from bot.handlers.services import Services
from twin_core.memory.store import SYSTEM_ACTOR
from twin_core.memory.text import shorten
from twin_core.types import InboundEvent

log = logging.getLogger("twin.dispatch")


class Dispatcher:
    def __init__(
        self,
        services: Services,
        control: ControlHandler,
        inbound: InboundProcessor,
        recorded: Callable[[], None] = lambda: None,
    ) -> None:
        self.services = services
        self.control = control
        self.inbound = inbound
        self.recorded = recorded
        """Called after each new message (the indexer wakes up)."""

    def is_control_chat(self, event: InboundEvent) -> bool:
        settings = self.services.settings
        return (
            event.channel == settings.control_channel and event.chat_id == settings.control_chat_id
        )

    async def __call__(self, event: InboundEvent) -> None:
        if self.is_control_chat(event):
            # Strangers who reach the control chat are refused there, and audited.
            await self.control.handle(event)
            return
        try:
            recorded = await asyncio.to_thread(self.services.store.messages.record, event)
        except Exception as exc:
            await self._dead_letter(event, exc)
            return
        if not recorded.created:
            log.debug("already recorded %s/%s", event.channel, event.external_id)
            return
        self.recorded()
        self.inbound.submit(recorded)

    async def _dead_letter(self, event: InboundEvent, exc: Exception) -> None:
        error = f"{type(exc).__name__}: {shorten(str(exc), 300)}"
        log.error("recording %s/%s failed: %s", event.channel, event.external_id, error)
        store = self.services.store
        try:
            where = await asyncio.to_thread(store.dead_letters.keep, event, error)
        except Exception as second:
            log.exception("the dead letter was lost too")
            where = f"nowhere ({type(second).__name__}: {second})"
        try:
            await asyncio.to_thread(
                store.audit.record,
                SYSTEM_ACTOR,
                "not_stored",
                f"{event.channel}:{event.external_id}",
                error,
                kept_in=where,
            )
        except Exception:
            log.exception("auditing the lost message failed")
        who = shorten(event.sender_name or event.sender_id, 80)
        await self.services.tell_owner(
            f"A message from {who} on {event.channel} could NOT be stored ({error}). "
            f"It was kept in {where}; nothing was answered. `twin stats` counts such messages."
        )
