"""Conversations: a chat, DM, group, channel or email thread, as its platform knows it."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from twin_core.memory.db import Database
from twin_core.memory.models import Contact, Conversation
from twin_core.memory.store.sql import external_key, storable
from twin_core.types import ContactId, ConversationId, InboundEvent


class ConversationRepository:
    def __init__(self, database: Database) -> None:
        self.database = database

    def _session(self) -> Session:
        return self.database.session()

    def for_event(self, event: InboundEvent, contact: Contact | None) -> Conversation:
        """The conversation `event` belongs to, created on first sight; a one-to-one
        chat first seen through the owner's messages learns its contact later."""
        chat = external_key(event.chat_id)
        with self._session() as session:
            found = session.exec(
                select(Conversation).where(
                    Conversation.channel == event.channel, Conversation.external_id == chat
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
                external_id=chat,
                title=storable(event.chat_title),
                is_group=event.is_group,
                contact_id=None if event.is_group or contact is None else contact.id,
            )
            session.add(conversation)
            try:
                session.commit()
            except sa.exc.IntegrityError:
                session.rollback()
                return self.for_event(event, contact)
            return conversation

    def get(self, conversation_id: ConversationId) -> Conversation | None:
        with self._session() as session:
            return session.get(Conversation, conversation_id)

    def with_contact(self, contact_id: ContactId) -> list[ConversationId]:
        """Ids of the one-to-one conversations with this contact."""
        with self._session() as session:
            return [
                ConversationId(c)
                for c in session.exec(
                    select(Conversation.id).where(Conversation.contact_id == contact_id)
                )
                if c is not None
            ]

    def count(self) -> int:
        with self._session() as session:
            return session.exec(select(func.count()).select_from(Conversation)).one()

    def headers(self, conversation_ids: list[ConversationId]) -> dict[ConversationId, str]:
        """How each conversation is named to the owner: a one-to-one chat by the other
        person's name (never an export's file name), a group by its title, or by the
        first few people who wrote in it when it has none."""
        from twin_core.memory.models import Message

        headers: dict[ConversationId, str] = {}
        untitled: list[int] = []
        with self._session() as session:
            rows = session.exec(
                select(Conversation.id, Conversation.title, Conversation.is_group, Contact.name)
                .outerjoin(Contact, col(Contact.id) == col(Conversation.contact_id))
                .where(col(Conversation.id).in_(conversation_ids))
            )
            for cid, title, is_group, name in rows:
                if cid is None:
                    continue
                if not is_group and name:
                    headers[ConversationId(cid)] = name
                elif title:
                    headers[ConversationId(cid)] = title
                else:
                    untitled.append(cid)
            for cid in untitled:
                names = session.exec(
                    select(Contact.name)
                    .join(Message, col(Message.contact_id) == col(Contact.id))
                    .where(Message.conversation_id == cid)
                    .group_by(Contact.name)
                    .order_by(func.min(Message.id))
                    .limit(4)
                ).all()
                if names:
                    shown = ", ".join(names[:3]) + (" and others" if len(names) > 3 else "")
                    headers[ConversationId(cid)] = f"group with {shown}"
        return headers
