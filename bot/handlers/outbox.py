"""The one way a reply reaches a contact: an approved draft, delivered at most once.

Every send path (approve, edit, auto-send job, resume) ends here, so `/pause` and the
exactly-once claim are checked in one place.
"""

from __future__ import annotations

import logging

from bot.handlers.services import Services
from twin_core.memory.models import DraftStatus
from twin_core.memory.store import TWIN_ACTOR
from twin_core.types import ChannelName, ChatId, InboundEvent, OutboundMessage, utcnow

log = logging.getLogger("twin.outbox")

PAUSED_KEY = "paused"


class Outbox:
    def __init__(self, services: Services) -> None:
        self.services = services

    @property
    def paused(self) -> bool:
        return self.services.store.get_state(PAUSED_KEY) == "1"

    def set_paused(self, paused: bool) -> None:
        self.services.store.set_state(PAUSED_KEY, "1" if paused else "0")

    async def deliver(self, draft_id: int) -> str:
        """Send draft `draft_id` if it is approved and the twin is not paused."""
        store = self.services.store
        draft = store.draft(draft_id)
        if draft is None:
            return f"no draft {draft_id}"
        if self.paused:
            return "held: the twin is paused"
        if not store.move_draft(draft_id, [DraftStatus.APPROVED], DraftStatus.SENDING):
            current = store.draft(draft_id)
            return f"not sent: draft {draft_id} is {current.status if current else 'gone'}"
        conversation = store.conversation(draft.conversation_id)
        assert conversation is not None
        channel = self.services.channels.get(conversation.channel)
        contact = store.contact(draft.contact_id)
        name = contact.name if contact else "?"
        if channel is None:
            return await self._failed(draft_id, name, f"{conversation.channel} is not connected")
        try:
            external_id = await channel.send(
                OutboundMessage(
                    channel=ChannelName(conversation.channel),
                    chat_id=ChatId(conversation.external_id),
                    text=draft.text,
                )
            )
        except Exception as exc:
            log.exception("sending draft %s failed", draft_id)
            return await self._failed(draft_id, name, f"{type(exc).__name__}: {exc}")
        self.services.memory.record(
            InboundEvent(
                channel=ChannelName(conversation.channel),
                external_id=external_id,
                chat_id=ChatId(conversation.external_id),
                sender_id=self.services.owner_handle(conversation.channel),
                sender_name=self.services.settings.owner_name,
                text=draft.text,
                sent_at=utcnow(),
                from_owner=True,
            ),
            draft_id=draft_id,
        )
        store.move_draft(draft_id, [DraftStatus.SENDING], DraftStatus.SENT)
        store.audit(TWIN_ACTOR, "sent", name, "approved draft delivered", draft_id=draft_id)
        return "sent"

    async def _failed(self, draft_id: int, name: str, why: str) -> str:
        store = self.services.store
        store.move_draft(draft_id, [DraftStatus.SENDING], DraftStatus.FAILED)
        store.audit(TWIN_ACTOR, "send_failed", name, why, draft_id=draft_id)
        await self.services.tell_owner(f"Draft {draft_id} to {name} was not sent: {why}")
        return f"failed: {why}"

    async def release_held(self) -> list[str]:
        """After /resume: deliver every approved draft that the pause held back."""
        return [
            await self.deliver(draft.id)
            for draft in self.services.store.drafts(DraftStatus.APPROVED)
            if draft.id is not None
        ]
