"""A contact's message, end to end: record -> should it reply -> compose -> route.

A contact's words are data. Nothing here parses them as commands: a contact who writes
"/approve 3" gets an ordinary draft reply like any other message.
"""

from __future__ import annotations

import logging

from bot.handlers.outbox import Outbox
from bot.handlers.services import Services
from twin_core.decide.reply import should_reply
from twin_core.decide.route import Route, route
from twin_core.decide.timing import reply_delay
from twin_core.memory.models import Contact, Draft, DraftStatus, Message, PolicyMode
from twin_core.memory.store import TWIN_ACTOR, Recorded
from twin_core.memory.text import shorten
from twin_core.style.compose import ComposeSettings, NoDraft, Proposal, compose
from twin_core.style.llm import ModelError
from twin_core.types import InboundEvent

log = logging.getLogger("twin.inbound")


class InboundHandler:
    def __init__(self, services: Services, outbox: Outbox) -> None:
        self.services = services
        self.outbox = outbox

    async def handle(self, event: InboundEvent) -> None:
        recorded = self.services.memory.record(event)
        if not recorded.created:
            log.debug("already recorded %s/%s", event.channel, event.external_id)
            return
        if event.from_owner:
            await self._owner_wrote(recorded)
            return
        assert recorded.contact is not None
        await self._answer(recorded.contact, recorded)

    async def _owner_wrote(self, recorded: Recorded) -> None:
        """The owner answered from their own device: their words replace any draft."""
        store = self.services.store
        assert recorded.conversation.id is not None
        for draft in store.pending_drafts_in(recorded.conversation.id):
            assert draft.id is not None
            if store.move_draft(
                draft.id, [DraftStatus.PENDING, DraftStatus.APPROVED], DraftStatus.EXPIRED
            ):
                store.audit(
                    TWIN_ACTOR,
                    "draft_expired",
                    str(draft.id),
                    "you replied yourself",
                    draft_id=draft.id,
                )

    async def _answer(self, contact: Contact, recorded: Recorded) -> None:
        settings = self.services.settings
        store = self.services.store
        message = recorded.message
        assert contact.id is not None and message.id is not None
        policy = store.policy(contact.id) or PolicyMode(settings.default_policy)
        decision = should_reply(message, recorded.conversation, policy, settings.owner_name)
        if not decision.reply:
            store.audit(TWIN_ACTOR, "no_reply", contact.name, decision.why, message_id=message.id)
            return
        try:
            proposal = await compose(
                self.services.memory,
                contact,
                message,
                ComposeSettings(
                    owner_name=settings.owner_name,
                    model=settings.llm_model,
                    api_key=settings.llm_api_key.get_secret_value()
                    if settings.llm_api_key
                    else None,
                    api_base=settings.llm_api_base,
                    timeout=settings.llm_timeout_s,
                    max_chars=settings.max_message_chars,
                ),
            )
        except (NoDraft, ModelError) as exc:
            store.audit(TWIN_ACTOR, "no_draft", contact.name, str(exc), message_id=message.id)
            await self.services.tell_owner(
                f'{contact.name} wrote: "{shorten(message.text, 200)}"\n'
                f"No draft: {exc}. Answer them yourself."
            )
            return
        routing = route(
            policy, proposal.confidence, settings.auto_confidence, paused=self.outbox.paused
        )
        draft = store.add_draft(
            Draft(
                conversation_id=message.conversation_id,
                contact_id=contact.id,
                message_id=message.id,
                text=proposal.text,
                confidence=proposal.confidence,
                reasons=[*proposal.reasons, routing.why],
                model=proposal.model,
                status=DraftStatus.APPROVED if routing.route is Route.AUTO else DraftStatus.PENDING,
            )
        )
        assert draft.id is not None
        store.audit(
            TWIN_ACTOR,
            "auto_approved" if routing.route is Route.AUTO else "drafted",
            contact.name,
            routing.why,
            draft_id=draft.id,
            confidence=proposal.confidence,
            reasons=proposal.reasons,
        )
        if routing.route is Route.AUTO:
            delay = reply_delay(
                store,
                message.conversation_id,
                fixed=settings.auto_send_delay_s,
                ceiling=settings.auto_send_max_delay_s,
            )
            await self.services.queue.enqueue(
                "send_draft", draft.id, key=f"send-draft-{draft.id}", defer_s=delay
            )
            await self.services.tell_owner(
                f'Auto-replying to {contact.name} in {delay:.0f}s: "{shorten(draft.text, 200)}" '
                f"(/reject {draft.id} to stop)",
                data=_draft_data(draft, contact, message, proposal, auto_in=delay),
            )
            return
        await self.services.tell_owner(
            draft_card(draft, contact, message),
            data=_draft_data(draft, contact, message, proposal),
        )


def draft_card(draft: Draft, contact: Contact, message: Message) -> str:
    why = "; ".join(draft.reasons)
    return (
        f"Draft {draft.id} for {contact.name} (confidence {draft.confidence:.2f})\n"
        f"{contact.name}: {shorten(message.text, 300)}\n"
        f"Reply: {draft.text}\n"
        f"Why: {why}\n"
        f"/approve {draft.id} · /edit {draft.id} <text> · /reject {draft.id}"
    )


def _draft_data(
    draft: Draft,
    contact: Contact,
    message: Message,
    proposal: Proposal,
    auto_in: float | None = None,
) -> dict[str, object]:
    return {
        "event": "draft",
        "id": draft.id,
        "contact": contact.name,
        "incoming": shorten(message.text, 300),
        "text": draft.text,
        "confidence": draft.confidence,
        "reasons": list(draft.reasons),
        "status": draft.status.value if isinstance(draft.status, DraftStatus) else draft.status,
        "auto_in_s": auto_in,
        "model": proposal.model,
    }
