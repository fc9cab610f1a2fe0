"""The one way a reply reaches a contact: an approved draft, delivered at most once.

Every send path (approve, edit, auto-send job, resume) ends here, so `/pause` and the
exactly-once claim are checked in one place. The send is recorded as the twin's own
(`MessageRepository.record_sent`), never as if it had come in.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.channels.base import SendLater
from bot.handlers.services import Services
from twin_core.memory.models import Conversation, DraftStatus
from twin_core.memory.store import TWIN_ACTOR
from twin_core.types import ChannelName, ChatId, DraftId, ExternalId, OutboundMessage

log = logging.getLogger("twin.outbox")

PAUSED_KEY = "paused"


class SendResult(enum.StrEnum):
    SENT = "sent"
    HELD = "held"
    """Approved, and waiting for /resume."""
    QUEUED = "queued"
    """Approved, and handed to the process that holds the channels."""
    NOT_OPEN = "not_open"
    """Already sent, rejected, expired, superseded or failed: nothing to do."""
    DEFERRED = "deferred"
    """Approved; the channel held it back for now (a sending budget), and a job sends
    it when the channel allows."""
    FAILED = "failed"
    MISSING = "missing"


@dataclass(frozen=True, slots=True)
class SendOutcome:
    result: SendResult
    draft_id: int
    contact: str = ""
    detail: str = ""
    """The draft's status (NOT_OPEN) or what went wrong (FAILED)."""
    external_id: ExternalId | None = None

    @property
    def sent(self) -> bool:
        return self.result is SendResult.SENT


class Outbox:
    def __init__(
        self, services: Services, on_sent: Callable[[str], None] = lambda text: None
    ) -> None:
        self.services = services
        self.on_sent = on_sent
        """Told each text that went out (the composer's counts of who was told what)."""

    def paused(self) -> bool:
        return self.services.store.state.get(PAUSED_KEY) == "1"

    def set_paused(self, paused: bool) -> None:
        self.services.store.state.set(PAUSED_KEY, "1" if paused else "0")

    async def deliver(self, draft_id: DraftId) -> SendOutcome:
        """Send draft `draft_id` if it is approved and the twin is not paused."""
        store = self.services.store
        draft = await asyncio.to_thread(store.drafts.get, draft_id)
        if draft is None:
            return SendOutcome(SendResult.MISSING, draft_id)
        contact = await asyncio.to_thread(store.contacts.get, draft.contact_id)
        name = contact.name if contact else "?"
        if await asyncio.to_thread(self.paused):
            return SendOutcome(SendResult.HELD, draft_id, name)
        claimed = await asyncio.to_thread(
            store.drafts.move, draft_id, [DraftStatus.APPROVED], DraftStatus.SENDING
        )
        if not claimed:
            current = await asyncio.to_thread(store.drafts.get, draft_id)
            status = current.status if current else "gone"
            return SendOutcome(SendResult.NOT_OPEN, draft_id, name, str(status))
        conversation = await asyncio.to_thread(store.conversations.get, draft.conversation_id)
        assert conversation is not None
        channel = self.services.channels.get(conversation.channel)
        if channel is None:
            return await self._failed(
                draft_id, name, f"{conversation.channel} is not connected in this process"
            )
        try:
            external_id = await channel.send(
                OutboundMessage(
                    channel=ChannelName(conversation.channel),
                    chat_id=ChatId(conversation.external_id),
                    text=draft.text,
                )
            )
        except SendLater as exc:
            return await self._later(draft_id, name, exc)
        except Exception as exc:
            log.exception("sending draft %s failed", draft_id)
            return await self._failed(draft_id, name, f"{type(exc).__name__}: {exc}")
        await asyncio.to_thread(self._sent, draft_id, conversation, draft.text, external_id, name)
        return SendOutcome(SendResult.SENT, draft_id, name, external_id=external_id)

    def _sent(
        self,
        draft_id: DraftId,
        conversation: Conversation,
        text: str,
        external_id: ExternalId,
        name: str,
    ) -> None:
        store = self.services.store
        store.messages.record_sent(conversation, text, external_id, draft_id=DraftId(draft_id))
        self.on_sent(text)
        store.drafts.move(draft_id, [DraftStatus.SENDING], DraftStatus.SENT)
        store.audit.record(TWIN_ACTOR, "sent", name, "approved draft delivered", draft_id=draft_id)

    async def _later(self, draft_id: DraftId, name: str, exc: SendLater) -> SendOutcome:
        """Held back by the channel: approved again, and sent by a job when it may (the
        owner answering meanwhile, /reject or /pause still apply then)."""
        store = self.services.store
        await asyncio.to_thread(
            store.drafts.move, draft_id, [DraftStatus.SENDING], DraftStatus.APPROVED
        )
        delay = max(1.0, exc.retry_after_s)
        await self.services.jobs.enqueue(
            "send_draft",
            draft_id,
            key=self.services.job_key("send-draft-later", draft_id, time.time_ns()),
            defer_s=delay,
        )
        await asyncio.to_thread(
            store.audit.record, TWIN_ACTOR, "send_deferred", name, str(exc), draft_id=draft_id
        )
        return SendOutcome(SendResult.DEFERRED, draft_id, name, f"{exc} (sent then)")

    async def _failed(self, draft_id: DraftId, name: str, why: str) -> SendOutcome:
        store = self.services.store
        await asyncio.to_thread(
            store.drafts.move, draft_id, [DraftStatus.SENDING], DraftStatus.FAILED
        )
        await asyncio.to_thread(
            store.audit.record, TWIN_ACTOR, "send_failed", name, why, draft_id=draft_id
        )
        await self.services.tell_owner(f"Draft {draft_id} to {name} was not sent: {why}")
        return SendOutcome(SendResult.FAILED, draft_id, name, why)

    async def release_held(self) -> list[SendOutcome]:
        """After /resume: deliver every approved draft that the pause held back."""
        store = self.services.store
        held = await asyncio.to_thread(store.drafts.with_status, DraftStatus.APPROVED)
        return [await self.deliver(draft.id) for draft in held if draft.id is not None]
