"""The relational store: contacts and their handles, conversations, messages, drafts,
per-contact policy, the audit log and small bits of state.

Every write is one short transaction. Recording a message is idempotent on
(channel, external id): recording the same event twice stores it once and says so.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, func, select

from twin_core.memory.db import make_engine, migrate
from twin_core.memory.identity import identity_of
from twin_core.memory.models import (
    AuditEntry,
    Contact,
    Conversation,
    Draft,
    DraftStatus,
    Handle,
    JobStatus,
    Message,
    Policy,
    PolicyMode,
    ScheduledJob,
    State,
    UTCDateTime,
)
from twin_core.types import InboundEvent, utcnow

OWNER_ACTOR = "owner"
TWIN_ACTOR = "twin"
SYSTEM_ACTOR = "system"


class UnknownContact(LookupError):
    """No contact by that name; the message lists the closest names."""


@dataclass(frozen=True, slots=True)
class Recorded:
    """The outcome of recording one event."""

    message: Message
    conversation: Conversation
    contact: Contact | None
    """The sender, or None for the owner's own messages."""
    created: bool
    """False when this (channel, external id) was already stored."""


@dataclass(frozen=True, slots=True)
class MessageFacts:
    """The fields of a message that ranking looks at (see `Store.message_facts`)."""

    id: int
    conversation_id: int
    contact_id: int | None
    from_owner: bool
    kind: str
    text: str
    sent_at: datetime


def contact_actor(contact_id: int) -> str:
    return f"contact:{contact_id}"


class Store:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str) -> Store:
        """Open (creating and migrating as needed) the database at `url`."""
        engine = make_engine(url)
        migrate(engine)
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    def _session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    # -- contacts and handles -------------------------------------------------------

    def contact_for_handle(self, channel: str, handle_id: str, name: str) -> Contact:
        """The contact behind this identity, created (with a unique name) on first sight.

        A handle new to this channel joins an existing contact when another platform
        already knows the same phone number or email address.
        """
        with self._session() as session:
            found = session.exec(
                select(Contact)
                .join(Handle, col(Handle.contact_id) == col(Contact.id))
                .where(Handle.channel == channel, Handle.external_id == handle_id)
            ).first()
            if found is not None:
                return found
            identity = identity_of(handle_id)
            contact = None
            if identity is not None:
                contact = session.exec(
                    select(Contact)
                    .join(Handle, col(Handle.contact_id) == col(Contact.id))
                    .where(Handle.identity == identity)
                ).first()
            if contact is None:
                contact = Contact(name=self._free_name(session, name or handle_id, channel))
                session.add(contact)
                session.flush()
            assert contact.id is not None
            session.add(
                Handle(
                    contact_id=contact.id,
                    channel=channel,
                    external_id=handle_id,
                    display_name=name,
                    identity=identity,
                )
            )
            try:
                session.commit()
            except sa.exc.IntegrityError:
                # Another writer created the same handle first: theirs wins.
                session.rollback()
                return self.contact_for_handle(channel, handle_id, name)
            return contact

    def merge_contacts(self, source_id: int, target_id: int) -> Contact:
        """Fold contact `source_id` into `target_id`: handles, conversations, messages,
        drafts move over; the target's policy wins when both have one."""
        if source_id == target_id:
            raise ValueError("a contact cannot be merged with itself")
        with self._session() as session:
            source = session.get(Contact, source_id)
            target = session.get(Contact, target_id)
            if source is None or target is None:
                raise UnknownContact(
                    f"no contact with id {source_id if source is None else target_id}"
                )
            for model in (Handle, Conversation, Message, Draft):
                column = model.__table__.c.contact_id  # type: ignore[attr-defined,union-attr]
                session.execute(
                    sa.update(model).where(column == source_id).values(contact_id=target_id)
                )
            source_policy = session.get(Policy, source_id)
            if source_policy is not None:
                if session.get(Policy, target_id) is None:
                    session.add(Policy(contact_id=target_id, mode=source_policy.mode))
                session.delete(source_policy)
            session.flush()
            session.delete(source)
            session.commit()
            return target

    @staticmethod
    def _free_name(session: Session, wanted: str, channel: str) -> str:
        wanted = " ".join(wanted.split())[:180] or "unknown"
        taken = {
            name.lower()
            for name in session.exec(
                select(Contact.name).where(func.lower(Contact.name).startswith(wanted.lower()))
            )
        }
        if wanted.lower() not in taken:
            return wanted
        candidate = f"{wanted} ({channel})"
        counter = 2
        while candidate.lower() in taken:
            candidate = f"{wanted} ({channel} {counter})"
            counter += 1
        return candidate

    def contact(self, contact_id: int) -> Contact | None:
        with self._session() as session:
            return session.get(Contact, contact_id)

    def find_contact(self, name: str) -> Contact:
        """The contact named `name` (case-insensitive, or an unambiguous prefix)."""
        wanted = name.strip().lstrip("@").lower()
        with self._session() as session:
            contacts = list(session.exec(select(Contact).order_by(col(Contact.name))))
        for contact in contacts:
            if contact.name.lower() == wanted:
                return contact
        prefixed = [c for c in contacts if c.name.lower().startswith(wanted)] if wanted else []
        if len(prefixed) == 1:
            return prefixed[0]
        if prefixed:
            names = ", ".join(c.name for c in prefixed[:8])
            raise UnknownContact(f"{name!r} could be any of: {names}")
        known = ", ".join(c.name for c in contacts[:8]) or "none yet"
        raise UnknownContact(f"no contact named {name!r} (known: {known})")

    def contacts(self) -> list[Contact]:
        with self._session() as session:
            return list(session.exec(select(Contact).order_by(col(Contact.name))))

    def contact_overview(self) -> list[dict[str, Any]]:
        """Every contact with their handles and how many messages they sent."""
        with self._session() as session:
            counts = dict(
                session.exec(
                    select(Message.contact_id, func.count()).group_by(col(Message.contact_id))
                ).all()
            )
            handles: dict[int, list[str]] = {}
            for handle in session.exec(select(Handle).order_by(col(Handle.id))):
                handles.setdefault(handle.contact_id, []).append(
                    f"{handle.channel}:{handle.external_id}"
                )
            return [
                {
                    "id": contact.id,
                    "name": contact.name,
                    "handles": handles.get(contact.id or 0, []),
                    "messages": counts.get(contact.id, 0),
                }
                for contact in session.exec(select(Contact).order_by(col(Contact.name)))
            ]

    def handles(self, contact_id: int) -> list[Handle]:
        with self._session() as session:
            return list(session.exec(select(Handle).where(Handle.contact_id == contact_id)))

    # -- conversations and messages -------------------------------------------------

    def conversation_for(self, event: InboundEvent, contact: Contact | None) -> Conversation:
        with self._session() as session:
            found = session.exec(
                select(Conversation).where(
                    Conversation.channel == event.channel,
                    Conversation.external_id == event.chat_id,
                )
            ).first()
            if found is not None:
                if found.contact_id is None and contact is not None and not found.is_group:
                    found.contact_id = contact.id
                    session.add(found)
                    session.commit()
                return found
            conversation = Conversation(
                channel=event.channel,
                external_id=event.chat_id,
                title=event.chat_title[:300],
                is_group=event.is_group,
                contact_id=None if event.is_group or contact is None else contact.id,
            )
            session.add(conversation)
            try:
                session.commit()
            except sa.exc.IntegrityError:
                session.rollback()
                return self.conversation_for(event, contact)
            return conversation

    def conversations_with(self, contact_id: int) -> list[int]:
        """Ids of the one-to-one conversations with this contact."""
        with self._session() as session:
            return [
                c
                for c in session.exec(
                    select(Conversation.id).where(Conversation.contact_id == contact_id)
                )
                if c is not None
            ]

    def conversations_of(self, contact_id: int) -> list[int]:
        """Ids of every conversation this contact is in: one-to-one, or groups where
        they wrote."""
        with self._session() as session:
            spoke = session.exec(
                select(Message.conversation_id).where(Message.contact_id == contact_id).distinct()
            ).all()
        return sorted({*self.conversations_with(contact_id), *spoke})

    def conversation(self, conversation_id: int) -> Conversation | None:
        with self._session() as session:
            return session.get(Conversation, conversation_id)

    def record(self, event: InboundEvent, *, draft_id: int | None = None) -> Recorded:
        """Store `event` once. Recording it again returns the stored row, `created=False`."""
        contact = (
            None
            if event.from_owner or not event.sender_id
            else self.contact_for_handle(event.channel, event.sender_id, event.sender_name)
        )
        conversation = self.conversation_for(event, contact)
        assert conversation.id is not None
        row = _message_row(event, conversation.id, contact.id if contact else None, draft_id)
        new = self._insert_new([row])
        if new:
            return Recorded(new[0], conversation, contact, created=True)
        with self._session() as session:
            message = session.exec(
                select(Message).where(
                    Message.channel == event.channel, Message.external_id == event.external_id
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
        # (channel, chat id) -> the chat's first event and, for a one-to-one chat, the
        # first other person in it.
        chats: dict[tuple[str, str], tuple[InboundEvent, int | None]] = {}
        senders: list[int | None] = []
        for event in events:
            contact_id = None
            if not event.from_owner and event.sender_id:
                key = (event.channel, event.sender_id)
                contact = contacts.get(key)
                if contact is None:
                    contact = contacts[key] = self.contact_for_handle(*key, event.sender_name)
                contact_id = contact.id
            senders.append(contact_id)
            where: tuple[str, str] = (event.channel, event.chat_id)
            known = chats.get(where)
            if known is None or (known[1] is None and contact_id and not event.is_group):
                chats[where] = (
                    known[0] if known else event,
                    None if event.is_group else contact_id,
                )
        conversation = Conversation.__table__  # type: ignore[attr-defined]
        key_columns = sa.tuple_(conversation.c.channel, conversation.c.external_id)
        with self.engine.begin() as connection:

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
                    "external_id": first.chat_id,
                    "title": first.chat_title[:300],
                    "is_group": first.is_group,
                    "contact_id": person,
                    "created_at": utcnow(),
                }
                for chat, (first, person) in chats.items()
                if chat not in ids
            ]
            if missing:
                connection.execute(_insert_ignore_many(self.engine, conversation), missing)
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
                _message_row(event, ids[(event.channel, event.chat_id)][0], sender)
                for event, sender in zip(events, senders, strict=True)
            ]
            statement = _insert_ignore_many(self.engine)
            if self.engine.dialect.name == "sqlite":
                # sqlite3 sums an executemany's changes; ignored rows are not counted.
                return int(connection.execute(statement, rows).rowcount)
            # Elsewhere rowcount after executemany is unreliable; RETURNING names the new.
            table = Message.__table__  # type: ignore[attr-defined]
            return len(connection.execute(statement.returning(table.c.id), rows).all())

    def _insert_new(self, rows: list[dict[str, Any]]) -> list[Message]:
        """Insert rows that are not stored yet, in one transaction; return the new ones."""
        table = Message.__table__  # type: ignore[attr-defined]
        new: list[Message] = []
        with self._session() as session:
            # SQLite allows 32,766 bound parameters per statement: 500 rows of 12 columns.
            for start in range(0, len(rows), 500):
                chunk = rows[start : start + 500]
                stmt = _insert_ignore(self.engine, chunk).returning(
                    table.c.id, table.c.channel, table.c.external_id
                )
                ids = {(r.channel, r.external_id): r.id for r in session.execute(stmt)}
                for row in chunk:
                    message_id = ids.pop((row["channel"], row["external_id"]), None)
                    if message_id is not None:
                        new.append(Message(id=message_id, **row))
            session.commit()
        return new

    def message(self, message_id: int) -> Message | None:
        with self._session() as session:
            return session.get(Message, message_id)

    def messages_by_id(self, message_ids: Sequence[int]) -> dict[int, Message]:
        with self._session() as session:
            rows = session.exec(select(Message).where(col(Message.id).in_(list(message_ids))))
            return {m.id: m for m in rows if m.id is not None}

    def conversation_messages(
        self, conversation_id: int, *, around: datetime | None = None, limit: int | None = 50
    ) -> list[Message]:
        """Up to `limit` messages of a conversation, oldest first, ending at `around`."""
        query = select(Message).where(Message.conversation_id == conversation_id)
        if around is not None:
            query = query.where(col(Message.sent_at) <= around)
        query = query.order_by(col(Message.sent_at).desc(), col(Message.id).desc()).limit(limit)
        with self._session() as session:
            return list(reversed(session.exec(query).all()))

    def neighbours(self, message: Message, before: int = 1, after: int = 1) -> list[Message]:
        """`message` with up to `before` earlier and `after` later turns, oldest first."""
        order = (col(Message.sent_at), col(Message.id))
        base = select(Message).where(
            Message.conversation_id == message.conversation_id, col(Message.id) != message.id
        )
        with self._session() as session:
            earlier = (
                session.exec(
                    base.where(col(Message.sent_at) <= message.sent_at)
                    .order_by(*(c.desc() for c in order))
                    .limit(before)
                ).all()
                if before
                else []
            )
            later = (
                session.exec(
                    base.where(col(Message.sent_at) >= message.sent_at)
                    .order_by(*order)
                    .limit(after)
                ).all()
                if after
                else []
            )
        later_ids = {m.id for m in later}
        return [*reversed([m for m in earlier if m.id not in later_ids]), message, *later]

    def iter_messages(self, batch: int = 2000, *, after: int = 0) -> Iterator[Message]:
        """Every message (with an id above `after`), in id order, fetched in batches (for
        indexes and rebuilds)."""
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

    def count_messages(self, *, after: int = 0) -> int:
        """How many messages have an id above `after` (what an index has yet to see)."""
        with self._session() as session:
            return session.exec(
                select(func.count()).select_from(Message).where(col(Message.id) > after)
            ).one()

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
        with self._session() as session:
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

    def message_facts(self, message_ids: Sequence[int]) -> dict[int, MessageFacts]:
        """What ranking needs of many candidate messages, without building ORM objects."""
        table = Message.__table__  # type: ignore[attr-defined]
        columns = [table.c[name] for name in MessageFacts.__dataclass_fields__]
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(*columns).where(table.c.id.in_(list(message_ids)))
            ).all()
        return {row.id: MessageFacts(*row) for row in rows}

    def neighbours_of(
        self, messages: Sequence[Message | MessageFacts], before: int = 1, after: int = 1
    ) -> dict[int, list[Message]]:
        """`neighbours()` of several messages in one round trip: for each message id, the
        message with up to `before` earlier and `after` later turns, oldest first."""
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
            with self.engine.connect() as connection:
                ids.update(connection.execute(statement).scalars())
        found = self.messages_by_id(sorted(ids))
        by_conversation: dict[int, list[Message]] = {}
        for row in sorted(found.values(), key=lambda m: (m.sent_at, m.id or 0)):
            by_conversation.setdefault(row.conversation_id, []).append(row)
        result: dict[int, list[Message]] = {}
        for message in messages:
            itself = found.get(message.id or 0)
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

    def owner_reply_after(self, message: Message) -> Message | None:
        """The owner's first message after `message` in its conversation, provided no
        other message from the contact came in between (so it answers this one)."""
        with self._session() as session:
            nxt = session.exec(
                select(Message)
                .where(
                    Message.conversation_id == message.conversation_id,
                    col(Message.id) != message.id,
                    col(Message.sent_at) >= message.sent_at,
                    Message.kind == "text",
                )
                .order_by(col(Message.sent_at), col(Message.id))
                .limit(3)
            ).all()
        for candidate in nxt:
            if candidate.sent_at == message.sent_at and (candidate.id or 0) < (message.id or 0):
                continue
            return candidate if candidate.from_owner else None
        return None

    def owner_replies_to(self, message_ids: Sequence[int]) -> dict[int, Message]:
        """For each contact message id, the owner's reply to it when there is one."""
        found: dict[int, Message] = {}
        for message in self.messages_by_id(message_ids).values():
            reply = self.owner_reply_after(message)
            if reply is not None and message.id is not None:
                found[message.id] = reply
        return found

    def owner_text_contacts(self, text: str) -> set[int]:
        """The contacts the owner has sent exactly this text to (in one-to-one chats)."""
        with self._session() as session:
            rows = session.exec(
                select(Conversation.contact_id)
                .join(Message, col(Message.conversation_id) == col(Conversation.id))
                .where(Message.from_owner == True, Message.text == text)  # noqa: E712
                .distinct()
            ).all()
        return {r for r in rows if r is not None}

    # -- drafts ---------------------------------------------------------------------

    def add_draft(self, draft: Draft) -> Draft:
        with self._session() as session:
            session.add(draft)
            session.commit()
            return draft

    def draft(self, draft_id: int) -> Draft | None:
        with self._session() as session:
            return session.get(Draft, draft_id)

    def drafts(self, *statuses: DraftStatus, limit: int = 50) -> list[Draft]:
        query = select(Draft).order_by(col(Draft.id)).limit(limit)
        if statuses:
            query = query.where(col(Draft.status).in_(list(statuses)))
        with self._session() as session:
            return list(session.exec(query))

    def move_draft(
        self,
        draft_id: int,
        from_statuses: Iterable[DraftStatus],
        to_status: DraftStatus,
        *,
        text: str | None = None,
    ) -> bool:
        """Move a draft between states only if it is in one of `from_statuses`.

        One conditional UPDATE: of two racing callers (an approve and an expiry, or a
        retried send) exactly one wins, which is what keeps a draft from going out twice.
        """
        values: dict[str, Any] = {"status": to_status, "decided_at": utcnow()}
        if text is not None:
            values["text"] = text
        with self._session() as session:
            result = session.execute(
                sa.update(Draft)
                .where(
                    col(Draft.id) == draft_id,
                    col(Draft.status).in_([s.value for s in from_statuses]),
                )
                .values(**values)
            )
            session.commit()
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def pending_drafts_in(self, conversation_id: int) -> list[Draft]:
        with self._session() as session:
            return list(
                session.exec(
                    select(Draft).where(
                        Draft.conversation_id == conversation_id,
                        col(Draft.status).in_([DraftStatus.PENDING, DraftStatus.APPROVED]),
                    )
                )
            )

    # -- policy ---------------------------------------------------------------------

    def policy(self, contact_id: int) -> PolicyMode | None:
        with self._session() as session:
            row = session.get(Policy, contact_id)
            return PolicyMode(row.mode) if row else None

    def set_policy(self, contact_id: int, mode: PolicyMode) -> None:
        with self._session() as session:
            row = session.get(Policy, contact_id)
            if row is None:
                row = Policy(contact_id=contact_id, mode=mode)
            row.mode = mode
            row.updated_at = utcnow()
            session.add(row)
            session.commit()

    # -- state ----------------------------------------------------------------------

    def get_state(self, key: str, default: str = "") -> str:
        with self._session() as session:
            row = session.get(State, key)
            return row.value if row else default

    def set_state(self, key: str, value: str) -> None:
        with self._session() as session:
            row = session.get(State, key) or State(key=key, value=value)
            row.value = value
            session.add(row)
            session.commit()

    # -- audit ----------------------------------------------------------------------

    def audit(
        self, actor: str, action: str, subject: str = "", why: str = "", **detail: Any
    ) -> AuditEntry:
        entry = AuditEntry(
            actor=actor,
            action=action,
            subject=subject[:300],
            why=why,
            detail=json.loads(json.dumps(detail, default=str)),
        )
        with self._session() as session:
            session.add(entry)
            session.commit()
            return entry

    def audit_entries(self, *, action: str | None = None, limit: int = 100) -> list[AuditEntry]:
        query = select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(limit)
        if action is not None:
            query = query.where(AuditEntry.action == action)
        with self._session() as session:
            return list(reversed(session.exec(query).all()))

    # -- scheduled jobs (in-process runner) ----------------------------------------

    def schedule_job(self, key: str, name: str, args: list[Any], run_at: datetime) -> bool:
        """Keep a deferred job; False when a job with this key was already scheduled."""
        with self._session() as session:
            session.add(ScheduledJob(key=key, name=name, args=args, run_at=run_at))
            try:
                session.commit()
            except sa.exc.IntegrityError:
                return False
            return True

    def pending_jobs(self) -> list[ScheduledJob]:
        with self._session() as session:
            return list(
                session.exec(
                    select(ScheduledJob)
                    .where(ScheduledJob.status == JobStatus.PENDING)
                    .order_by(col(ScheduledJob.run_at))
                )
            )

    def finish_job(self, job_id: int, status: JobStatus, error: str = "") -> None:
        with self._session() as session:
            job = session.get(ScheduledJob, job_id)
            if job is None:
                return
            job.status = status
            job.attempts += 1
            job.last_error = error[:2000]
            session.add(job)
            session.commit()

    # -- figures --------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        with self._session() as session:
            drafts = dict(
                session.exec(select(Draft.status, func.count()).group_by(Draft.status)).all()
            )
            return {
                "contacts": session.exec(select(func.count()).select_from(Contact)).one(),
                "conversations": session.exec(select(func.count()).select_from(Conversation)).one(),
                "messages": session.exec(select(func.count()).select_from(Message)).one(),
                "drafts": {status.value: drafts.get(status, 0) for status in DraftStatus},
                "audit_entries": session.exec(select(func.count()).select_from(AuditEntry)).one(),
            }


def _message_row(
    event: InboundEvent, conversation_id: int, contact_id: int | None, draft_id: int | None = None
) -> dict[str, Any]:
    return {
        "channel": event.channel,
        "external_id": event.external_id,
        "conversation_id": conversation_id,
        "contact_id": contact_id,
        "from_owner": event.from_owner,
        "kind": event.kind.value,
        "text": event.text,
        "sent_at": event.sent_at,
        "reply_to": event.reply_to,
        "raw": event.raw,
        "draft_id": draft_id,
        "recorded_at": utcnow(),
    }


def _insert_ignore(engine: sa.Engine, rows: list[dict[str, Any]]) -> Any:
    """INSERT ... ON CONFLICT (channel, external_id) DO NOTHING, in the engine's dialect."""
    table = Message.__table__  # type: ignore[attr-defined]
    if engine.dialect.name == "postgresql":
        return (
            postgresql.insert(table)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["channel", "external_id"])
        )
    if engine.dialect.name == "sqlite":
        return sqlite.insert(table).values(rows).on_conflict_do_nothing()
    raise ValueError(f"unsupported database {engine.dialect.name!r}: use SQLite or PostgreSQL")


def _insert_ignore_many(engine: sa.Engine, table: sa.Table | None = None) -> Any:
    """`_insert_ignore` for executemany (the rows come with the execute call), into
    `table` (default: message), whose unique key is (channel, external_id)."""
    table = Message.__table__ if table is None else table  # type: ignore[attr-defined]
    if engine.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(
            index_elements=["channel", "external_id"]
        )
    if engine.dialect.name == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    raise ValueError(f"unsupported database {engine.dialect.name!r}: use SQLite or PostgreSQL")
