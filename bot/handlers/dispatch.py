"""Where every channel's events arrive: the control chat, the bot itself, or a
contact's message.

The control chat is recognized by its channel and chat (`OwnerIdentity.control_chat`:
the settings, or pairing), never by a name a contact can take; the owner's identity is
checked there, and anyone else is refused and audited. A message sent to the twin's own
bot account elsewhere (`InboundEvent.to_bot`) is a pairing code, or a stranger's: it
gets one fixed refusal and an audit entry, and is never a contact's message. One that
came through an account not the owner's (`InboundEvent.via`) is audited and dropped. A
contact's message is recorded first (fast, idempotent, off the event loop) and handed
to the inbound processor; the callback then returns, so no channel waits on drafting.
A message that cannot be recorded is kept as a dead letter and the owner is told.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from bot.channels.base import Channel
from bot.handlers.control import ControlHandler
from bot.handlers.inbound import InboundProcessor
from bot.handlers.services import Services
from twin_core.memory.store import OWNER_ACTOR, SYSTEM_ACTOR
from twin_core.memory.text import shorten
from twin_core.types import InboundEvent, OutboundMessage

log = logging.getLogger("twin.dispatch")

INLINE_PEOPLE_AT_MOST = 200
"""More unread messages than this are left to the `extract_people` job."""
STRANGER_ANSWER = "This is a private assistant. It does not take messages here."


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

    async def is_control_chat(self, event: InboundEvent) -> bool:
        control = await asyncio.to_thread(self.services.identity().control_chat)
        return event.channel == control.channel and event.chat_id == control.chat_id

    async def __call__(self, event: InboundEvent) -> None:
        if await self.is_control_chat(event):
            # Strangers who reach the control chat are refused there, and audited.
            await self.control.handle(event)
            return
        if event.to_bot:
            await self._to_bot(event)
            return
        if event.via is not None and not await asyncio.to_thread(
            self.services.identity().is_owner, event.channel, event.via
        ):
            await self._not_the_owners(event)
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
        await self._read_for_people()
        self.inbound.submit(recorded)

    async def _read_for_people(self) -> None:
        """Facts, promises and figures from the new message, inline (rules take about a
        millisecond); a large backlog (an import) is the `extract_people` job's. A
        failure here is logged and never costs the message: it stays past the
        watermark and is read next time."""
        people = self.services.people
        if people is None:
            return
        try:
            if await asyncio.to_thread(people.pending) <= INLINE_PEOPLE_AT_MOST:
                await asyncio.to_thread(people.catch_up)
        except Exception:
            log.exception("reading the message for people memory failed")

    async def _to_bot(self, event: InboundEvent) -> None:
        """A message to the bot outside the control chat: a pairing code, or nothing the
        twin acts on (one fixed answer, and the audit log)."""
        identity = self.services.identity()
        store = self.services.store
        paired = await asyncio.to_thread(
            identity.try_pair, event.channel, event.sender_id, event.chat_id, event.text
        )
        channel = self.services.channels.get(event.channel)
        if paired is not None:
            await asyncio.to_thread(
                store.audit.record,
                OWNER_ACTOR,
                "paired",
                f"{event.channel}:{event.sender_id}",
                f"sent the pairing code; {event.channel}:{event.chat_id} is the control chat",
                sender_name=event.sender_name,
            )
            await self._answer(
                channel, event, "Paired: you are the owner here, and this is your control chat."
            )
            return
        await asyncio.to_thread(
            store.audit.record,
            f"{event.channel}:{event.sender_id}",
            "refused",
            event.text,
            "a message to the bot from someone who is not the owner",
            sender_name=event.sender_name,
            chat=event.chat_id,
        )
        await self._answer(channel, event, STRANGER_ANSWER)

    async def _not_the_owners(self, event: InboundEvent) -> None:
        """A message that reached the twin through someone else's account (a stranger
        who connected the bot to their own Telegram Business account): not the owner's
        chat, so neither stored nor answered; audited once per message."""
        log.warning("%s: a message through %s, who is not the owner", event.channel, event.via)
        await asyncio.to_thread(
            self.services.store.audit.record,
            f"{event.channel}:{event.via}",
            "refused",
            f"{event.channel}:{event.external_id}",
            "a message through an account that is not the owner's; not stored, not answered",
            sender_name=event.sender_name,
        )

    @staticmethod
    async def _answer(channel: Channel | None, event: InboundEvent, text: str) -> None:
        if channel is None:
            return
        try:
            await channel.send(
                OutboundMessage(channel=event.channel, chat_id=event.chat_id, text=text)
            )
        except Exception:
            log.exception("could not answer %s:%s", event.channel, event.chat_id)

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
