"""Messages: everything said, by contacts and by the owner, stored exactly once.

Recording is idempotent on (channel, external id): recording the same event twice
stores it once and says so. Whatever text or name a platform delivers is stored, whole
(`store.sql.storable`). The twin's own sends come in through `record_sent`, never as if
they were inbound events.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from twin_core.memory.db import Database
from twin_core.memory.models import Contact, Conversation, Message
from twin_core.memory.store.contacts import ContactRepository
from twin_core.memory.store.conversations import ConversationRepository
from twin_core.memory.store.sql import external_key, insert_ignore, storable
from twin_core.types import (
    ConversationId,
    DraftId,
    ExternalId,
    InboundEvent,
    MessageId,
    MessageKind,
    utcnow,
)

SQLITE_ROWS_PER_STATEMENT = 500
"""SQLite allows 32,766 bound parameters per statement: 500 rows of 13 columns."""


@dataclass(frozen=True, slots=True)
class Recorded:
    """The outcome of recording one event."""

    message: Message
    conversation: Conversation
    contact: Contact | None
    """The sender, or None for the owner's own messages."""
    created: bool
    """False when this (channel, external id) was already stored."""


class MessageRepository:
    def __init__(
        self,
        database: Database,
        contacts: ContactRepository,
        conversations: ConversationRepository,
    ) -> None:
        self.database = database
        self.contacts = contacts
        self.conversations = conversations

    def _session(self) -> Session:
        return self.database.session()

    @property
    def _table(self) -> sa.Table:
        return Message.__table__  # type: ignore[attr-defined,no-any-return]

    def record(self, event: InboundEvent) -> Recorded:
        """Store `event` once. Recording it again returns the stored row, `created=False`."""
        contact = (
            None
            if event.from_owner or not event.sender_id
            else self.contacts.for_handle(
                event.channel, event.sender_id, event.sender_name, event.identities
            )
        )
        conversation = self.conversations.for_event(event, contact)
        assert conversation.id is not None
        row = message_row(event, conversation.id, contact.id if contact else None)
        return self._insert_one(row, conversation, contact)

    def record_sent(
        self,
        conversation: Conversation,
        text: str,
        external_id: ExternalId,
        *,
        draft_id: DraftId,
        sent_at: datetime | None = None,
        reply_to: ExternalId | None = None,
    ) -> Recorded:
        """Store a message the twin itself sent for the owner (from draft `draft_id`)."""
        assert conversation.id is not None
        row = {
            "channel": conversation.channel,
            "external_id": external_key(external_id),
            "conversation_id": conversation.id,
            "contact_id": None,
            "from_owner": True,
            "kind": MessageKind.TEXT.value,
            "text": storable(text),
            "sent_at": sent_at or utcnow(),
            "reply_to": external_key(reply_to) if reply_to else None,
            "raw": None,
            "recipients": [],
            "draft_id": draft_id,
            "recorded_at": utcnow(),
        }
        return self._insert_one(row, conversation, None)

    def _insert_one(
        self, row: dict[str, Any], conversation: Conversation, contact: Contact | None
    ) -> Recorded:
        new = self._insert_new([row])
        if new:
            return Recorded(new[0], conversation, contact, created=True)
        with self._session() as session:
            message = session.exec(
                select(Message).where(
                    Message.channel == row["channel"], Message.external_id == row["external_id"]
                )
            ).one()
        return Recorded(message, conversation, contact, created=False)

    def record_many(self, events: Iterable[InboundEvent]) -> int:
        """Store a batch of events in one transaction; returns how many were new.

        Built for bulk (importers, history): the batch's conversations are found with one
        query and the new ones created in the same transaction as their messages, and the
        messages go in with one executemany INSERT ... ON CONFLICT DO NOTHING. A batch
        interrupted half way leaves nothing half-written; running it again stores what
        is missing and nothing twice. This is what lets `twin import` store tens of
        thousands of messages a second.
        """
        events = list(events)
        if not events:
            return 0
        contacts: dict[tuple[str, str], Contact] = {}
        # (channel, chat key) -> the chat's first event and, for a one-to-one chat, the
        # first other person in it.
        chats: dict[tuple[str, str], tuple[InboundEvent, int | None]] = {}
        senders: list[int | None] = []
        chat_keys: list[tuple[str, str]] = []
        for event in events:
            contact_id = None
            if not event.from_owner and event.sender_id:
                key = (event.channel, event.sender_id)
                contact = contacts.get(key)
                if contact is None:
                    contact = contacts[key] = self.contacts.for_handle(
                        *key, event.sender_name, event.identities
                    )
                contact_id = contact.id
            senders.append(contact_id)
            where = (event.channel, external_key(event.chat_id))
            chat_keys.append(where)
            known = chats.get(where)
            if known is None or (known[1] is None and contact_id and not event.is_group):
                chats[where] = (
                    known[0] if known else event,
                    None if event.is_group else contact_id,
                )
        conversation = Conversation.__table__  # type: ignore[attr-defined]
        key_columns = sa.tuple_(conversation.c.channel, conversation.c.external_id)
        engine = self.database.engine
        with engine.begin() as connection:

            def find() -> dict[tuple[str, str], tuple[int, int | None]]:
                found = connection.execute(
                    sa.select(
                        conversation.c.channel,
                        conversation.c.external_id,
                        conversation.c.id,
                        conversation.c.contact_id,
                    ).where(key_columns.in_(list(chats)))
                )
                return {(r.channel, r.external_id): (r.id, r.contact_id) for r in found}

            ids = find()
            missing = [
                {
                    "channel": first.channel,
                    "external_id": chat[1],
                    "title": storable(first.chat_title),
                    "is_group": first.is_group,
                    "contact_id": person,
                    "created_at": utcnow(),
                }
                for chat, (first, person) in chats.items()
                if chat not in ids
            ]
            if missing:
                connection.execute(insert_ignore(engine, conversation), missing)
                ids = find()
            for chat, (_, person) in chats.items():
                if person is not None and ids[chat][1] is None:
                    # A one-to-one chat first seen through the owner's messages.
                    connection.execute(
                        sa.update(conversation)
                        .where(conversation.c.id == ids[chat][0])
                        .where(conversation.c.contact_id.is_(None))
                        .values(contact_id=person)
                    )
            rows = [
                message_row(event, ids[chat][0], sender)
                for event, sender, chat in zip(events, senders, chat_keys, strict=True)
            ]
            statement = insert_ignore(engine, self._table)
            if engine.dialect.name == "sqlite":
                # sqlite3 sums an executemany's changes; ignored rows are not counted.
                return int(connection.execute(statement, rows).rowcount)
            # Elsewhere rowcount after executemany is unreliable; RETURNING names the new.
            return len(connection.execute(statement.returning(self._table.c.id), rows).all())

    def _insert_new(self, rows: list[dict[str, Any]]) -> list[Message]:
        """Insert rows that are not stored yet, in one transaction; return the new ones."""
        table = self._table
        new: list[Message] = []
        with self._session() as session:
            for start in range(0, len(rows), SQLITE_ROWS_PER_STATEMENT):
                chunk = rows[start : start + SQLITE_ROWS_PER_STATEMENT]
                statement = insert_ignore(self.database.engine, table, chunk).returning(
                    table.c.id, table.c.channel, table.c.external_id
                )
                ids = {(r.channel, r.external_id): r.id for r in session.execute(statement)}
                for row in chunk:
                    message_id = ids.pop((row["channel"], row["external_id"]), None)
                    if message_id is not None:
                        new.append(Message(id=message_id, **row))
            session.commit()
        return new

    # -- reading --------------------------------------------------------------------

    def get(self, message_id: MessageId) -> Message | None:
        with self._session() as session:
            return session.get(Message, message_id)

    def by_ids(self, message_ids: Sequence[MessageId]) -> dict[MessageId, Message]:
        with self._session() as session:
            rows = session.exec(select(Message).where(col(Message.id).in_(list(message_ids))))
            return {m.id: m for m in rows if m.id is not None}

    def in_conversation(
        self,
        conversation_id: ConversationId,
        *,
        around: datetime | None = None,
        after: datetime | None = None,
        limit: int | None = 50,
    ) -> list[Message]:
        """Up to `limit` messages of a conversation, oldest first, ending at `around`
        (and, with `after`, sent after it)."""
        query = select(Message).where(Message.conversation_id == conversation_id)
        if around is not None:
            query = query.where(col(Message.sent_at) <= around)
        if after is not None:
            query = query.where(col(Message.sent_at) > after)
        query = query.order_by(col(Message.sent_at).desc(), col(Message.id).desc()).limit(limit)
        with self._session() as session:
            return list(reversed(session.exec(query).all()))

    def iter_after(self, after: int = 0, *, batch: int = 2000) -> Iterator[Message]:
        """Every message with an id above `after`, in id order, fetched in batches."""
        last = after
        while True:
            with self._session() as session:
                rows = session.exec(
                    select(Message)
                    .where(col(Message.id) > last)
                    .order_by(col(Message.id))
                    .limit(batch)
                ).all()
            if not rows:
                return
            yield from rows
            last = rows[-1].id or last

    def count(self, *, after: int = 0) -> int:
        """How many messages have an id above `after`."""
        with self._session() as session:
            return session.exec(
                select(func.count()).select_from(Message).where(col(Message.id) > after)
            ).one()

    def highest_id(self) -> int:
        with self._session() as session:
            return session.exec(select(func.max(Message.id))).one() or 0


def message_row(
    event: InboundEvent, conversation_id: int, contact_id: int | None
) -> dict[str, Any]:
    """The `message` row for `event`, in the form every insert path writes."""
    return {
        "channel": event.channel,
        "external_id": external_key(event.external_id),
        "conversation_id": conversation_id,
        "contact_id": contact_id,
        "from_owner": event.from_owner,
        "kind": event.kind.value,
        "text": storable(event.text),
        "sent_at": event.sent_at,
        "reply_to": external_key(event.reply_to) if event.reply_to else None,
        "raw": storable(event.raw) if event.raw is not None else None,
        "recipients": [external_key(r) for r in event.recipients],
        "draft_id": None,
        "recorded_at": utcnow(),
    }
