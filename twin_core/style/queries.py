"""The SQL the composer needs, shaped by one rule: what the owner said to one person is
that person's (DESIGN.md, invariant 6).

A message of the owner's *answers* a contact's message only when it came next in the
same conversation and was addressed to that contact: in a one-to-one chat, the chat
itself; where the platform names recipients (an email's To and Cc, a group message's
mentions), only those; where it names none, also a message the owner sent as an
explicit reply to the contact's. An email the owner forwarded to Alice in the thread of
Mallory's question (even as a reply to it) is not an answer to Mallory, and never
becomes an example or a recent turn for her.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime

from sqlmodel import col, select

from twin_core.memory.models import Conversation, Message
from twin_core.memory.store import Store

REPLY_LOOKAHEAD = 3
"""How many later messages are read to find the owner's answer (skipping media)."""


class StyleQueries:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.database = store.database
        self._handles: dict[int, frozenset[str]] = {}
        self._conversations: dict[int, Conversation | None] = {}

    def handles_of(self, contact_id: int) -> frozenset[str]:
        if contact_id not in self._handles:
            self._handles[contact_id] = frozenset(
                h.external_id for h in self.store.contacts.handles(contact_id)
            )
        return self._handles[contact_id]

    def conversation(self, conversation_id: int) -> Conversation | None:
        if conversation_id not in self._conversations:
            self._conversations[conversation_id] = self.store.conversations.get(conversation_id)
        return self._conversations[conversation_id]

    def addressed_to(self, message: Message, contact_id: int) -> bool:
        """Whether `message` (by the owner or anyone) was meant for `contact_id`."""
        if message.contact_id == contact_id and not message.from_owner:
            return True
        if message.recipients:
            return bool(self.handles_of(contact_id) & set(message.recipients))
        conversation = self.conversation(message.conversation_id)
        if conversation is None:
            return False
        if conversation.is_group:
            # A group chat with no recipients named: everyone in it saw it, the contact
            # included (they write there).
            return True
        return conversation.contact_id == contact_id

    def reply_to(self, message: Message) -> Message | None:
        """The owner's answer to a contact's `message`, or None (see the module)."""
        if message.contact_id is None or message.from_owner:
            return None
        with self.database.session() as session:
            following = session.exec(
                select(Message)
                .where(
                    Message.conversation_id == message.conversation_id,
                    col(Message.id) != message.id,
                    col(Message.sent_at) >= message.sent_at,
                    Message.kind == "text",
                )
                .order_by(col(Message.sent_at), col(Message.id))
                .limit(REPLY_LOOKAHEAD)
            ).all()
        for candidate in following:
            if candidate.sent_at == message.sent_at and (candidate.id or 0) < (message.id or 0):
                continue
            if not candidate.from_owner:
                return None
            if self.addressed_to(candidate, message.contact_id):
                return candidate
            # An explicit reply answers the contact only where the platform names no
            # recipients: a mail forwarded to Alice with Mallory's In-Reply-To kept is
            # written to Alice, whatever thread it sits in.
            explicit = candidate.reply_to is not None and candidate.reply_to == message.external_id
            return candidate if explicit and not candidate.recipients else None
        return None

    def replies_to(self, message_ids: Sequence[int]) -> dict[int, Message]:
        """For each contact message id, the owner's answer to it when there is one."""
        found: dict[int, Message] = {}
        for message in self.store.messages.by_ids(message_ids).values():
            reply = self.reply_to(message)
            if reply is not None and message.id is not None:
                found[message.id] = reply
        return found

    def people_told(self, text: str) -> int:
        """How many different people the owner sent exactly `text` to, one-to-one or
        addressed to them (merged identities, and accounts that are plainly the same
        person, count once: `ContactRepository.people`)."""
        with self.database.session() as session:
            rows = session.exec(
                select(Message.conversation_id, Message.recipients, Conversation.contact_id)
                .join(Conversation, col(Message.conversation_id) == col(Conversation.id))
                .where(Message.from_owner == True, Message.text == text)  # noqa: E712
            ).all()
        told: set[int] = set()
        by_handle: dict[str, int] | None = None
        for _, recipients, contact_id in rows:
            if recipients:
                if by_handle is None:
                    by_handle = self._handle_owners()
                told.update(by_handle[r] for r in recipients if r in by_handle)
            elif contact_id is not None:
                told.add(contact_id)
        return self.store.contacts.people(told)

    def _handle_owners(self) -> dict[str, int]:
        from twin_core.memory.models import Handle

        with self.database.session() as session:
            return {
                external_id: contact_id
                for external_id, contact_id in session.exec(
                    select(Handle.external_id, Handle.contact_id)
                )
            }

    def turns_for(
        self, conversation_id: int, contact_id: int, *, around: datetime, limit: int
    ) -> list[Message]:
        """The latest `limit` turns of a conversation up to `around` that were meant for
        `contact_id` (their own, and what was addressed to them), oldest first."""
        history = self.store.messages.in_conversation(
            conversation_id, around=around, limit=limit * 4
        )
        return [m for m in history if self.addressed_to(m, contact_id)][-limit:]

    def exchanges_with(
        self, contact_id: int, *, limit: int, exclude: set[int]
    ) -> list[tuple[Message, Message]]:
        """The latest (their message, the owner's answer) pairs with this contact, in
        their one-to-one conversations, oldest first."""
        found: list[tuple[Message, Message]] = []
        for conversation_id in self.store.conversations.with_contact(contact_id):
            history = self.store.messages.in_conversation(conversation_id, limit=200)
            for earlier, later in itertools.pairwise(history):
                if (
                    earlier.contact_id == contact_id
                    and later.from_owner
                    and earlier.kind == later.kind == "text"
                    and earlier.id not in exclude
                    and self.addressed_to(later, contact_id)
                ):
                    found.append((earlier, later))
        return found[-limit:]
