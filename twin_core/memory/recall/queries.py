"""The SQL recall needs, shaped for it: stretches of conversation to index, the few
fields ranking looks at, and the turns around each hit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from twin_core.memory.models import Conversation, Message, UTCDateTime
from twin_core.memory.store import Store
from twin_core.types import ContactId, ConversationId, MessageId


@dataclass(frozen=True, slots=True)
class MessageFacts:
    """The fields of a message that ranking looks at (see `RecallQueries.facts`)."""

    id: int
    conversation_id: int
    contact_id: int | None
    from_owner: bool
    kind: str
    text: str
    sent_at: datetime


class RecallQueries:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.database = store.database

    def conversations_of(self, contact_id: ContactId) -> list[ConversationId]:
        """Every conversation this contact is in: one-to-one, or groups where they wrote."""
        with self.database.session() as session:
            spoke = session.exec(
                select(Message.conversation_id).where(Message.contact_id == contact_id).distinct()
            ).all()
        own = self.store.conversations.with_contact(contact_id)
        return sorted({*own, *(ConversationId(c) for c in spoke)})

    def conversation_contacts(self, conversation_ids: Sequence[int]) -> dict[int, int | None]:
        """For each conversation, its one-to-one contact (None for groups)."""
        with self.database.session() as session:
            return {
                cid: contact_id
                for cid, contact_id in session.exec(
                    select(Conversation.id, Conversation.contact_id).where(
                        col(Conversation.id).in_(list(conversation_ids))
                    )
                )
                if cid is not None
            }

    def text_span(
        self, conversation_id: int, first: Message, last: Message, *, margin: int
    ) -> list[Message]:
        """The text messages of a conversation from `first` to `last` (by time, then id),
        with up to `margin` more on each side, oldest first: a stretch of chat that new
        messages and the turns around them fall in."""
        order = (col(Message.sent_at), col(Message.id))
        base = select(Message).where(
            Message.conversation_id == conversation_id, Message.kind == "text"
        )
        with self.database.session() as session:
            before = session.exec(
                base.where(col(Message.sent_at) < first.sent_at)
                .order_by(*(c.desc() for c in order))
                .limit(margin)
            ).all()
            middle = session.exec(
                base.where(
                    col(Message.sent_at) >= first.sent_at, col(Message.sent_at) <= last.sent_at
                ).order_by(*order)
            ).all()
            after = session.exec(
                base.where(col(Message.sent_at) > last.sent_at).order_by(*order).limit(margin)
            ).all()
        return [*reversed(before), *middle, *after]

    def facts(self, message_ids: Sequence[int]) -> dict[int, MessageFacts]:
        """What ranking needs of many candidate messages, without building ORM objects."""
        table = Message.__table__  # type: ignore[attr-defined]
        columns = [table.c[name] for name in MessageFacts.__dataclass_fields__]
        with self.database.engine.connect() as connection:
            rows = connection.execute(
                sa.select(*columns).where(table.c.id.in_(list(message_ids)))
            ).all()
        return {row.id: MessageFacts(*row) for row in rows}

    def neighbours_of(
        self, messages: Sequence[Message | MessageFacts], before: int = 1, after: int = 1
    ) -> dict[int, list[Message]]:
        """For each message id, the message with up to `before` earlier and `after` later
        turns of its conversation, oldest first, in one round trip."""
        # One UNION ALL of small indexed look-ups, written out: building it from
        # SQLAlchemy constructs costs more than running it.
        parts: list[str] = []
        params: dict[str, Any] = {}
        bind: list[sa.BindParameter[Any]] = []
        for n, message in enumerate(messages):
            params[f"c{n}"], params[f"i{n}"] = message.conversation_id, message.id
            bind.append(sa.bindparam(f"t{n}", message.sent_at, type_=UTCDateTime()))
            where = f"conversation_id = :c{n} AND id != :i{n} AND sent_at"
            if before:
                parts.append(
                    f"SELECT id FROM (SELECT id FROM message WHERE {where} <= :t{n} "
                    f"ORDER BY sent_at DESC, id DESC LIMIT {int(before)}) AS b{n}"
                )
            if after:
                parts.append(
                    f"SELECT id FROM (SELECT id FROM message WHERE {where} >= :t{n} "
                    f"ORDER BY sent_at, id LIMIT {int(after)}) AS a{n}"
                )
        ids = {m.id for m in messages if m.id is not None}
        if parts:
            statement = sa.text(" UNION ALL ".join(parts)).bindparams(*bind, **params)
            with self.database.engine.connect() as connection:
                ids.update(connection.execute(statement).scalars())
        found = self.store.messages.by_ids(sorted(MessageId(i) for i in ids))
        by_conversation: dict[int, list[Message]] = {}
        for row in sorted(found.values(), key=lambda m: (m.sent_at, m.id or 0)):
            by_conversation.setdefault(row.conversation_id, []).append(row)
        result: dict[int, list[Message]] = {}
        for message in messages:
            itself = found.get(MessageId(message.id or 0))
            if itself is None:
                continue
            others = [m for m in by_conversation[message.conversation_id] if m.id != message.id]
            earlier = (
                [m for m in others if m.sent_at <= message.sent_at][-before:] if before else []
            )
            taken = {m.id for m in earlier}
            later = [m for m in others if m.sent_at >= message.sent_at and m.id not in taken]
            result[itself.id or 0] = [*earlier, itself, *later[:after]]
        return result
