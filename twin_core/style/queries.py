"""The SQL the composer needs, shaped by one rule: what the owner said to one person is
that person's (DESIGN.md, invariant 6).

A message of the owner's *answers* a contact's message only when it is a real reply
(`style.pairing`: the next turn, the owner's own text, within the conversation's usual
reply window, or an explicit platform reply) and was addressed to that contact: in a
one-to-one chat, the chat itself; where the platform names recipients (an email's To
and Cc, a group message's mentions), only those; where it names none, an explicit
reply to the contact's message counts as addressed to them. An email the owner
forwarded to Alice in the thread of Mallory's question (even as a reply to it) is not
an answer to Mallory, and never becomes an example or a recent turn for her.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import col, select

from twin_core.memory.models import Conversation, Message
from twin_core.memory.store import Store
from twin_core.style.learning import StyleProfiles
from twin_core.style.pairing import (
    NOT_TURNS,
    explicit_answer,
    next_turn_after,
    refusal,
    reply_window,
)
from twin_core.types import ContactId, ConversationId, MessageId

WINDOW_READ = 400
"""How many of a conversation's latest messages its usual reply window is learned from."""
EXCHANGES_READ = 60
"""How far back a contact's latest exchanges are looked for (when too few are alike)."""
CACHE_TTL_S = 30.0
"""How long a looked-up handle set or conversation is reused."""
PEOPLE_TTL_S = 300.0
"""How long a count of people told a phrase is reused. Sends from this process refresh
it at once (`owner_wrote`), merges too (`contacts_changed`); what another process
changes (an import, a merge from the CLI) is seen within this time. The counts only
decide whether a *phatic* reply may serve someone new: nothing that carries
information rides on them."""


def _following_statement() -> Any:
    """Built once (building it costs more than running it): for each message id in
    `:ids`, the id and the next turn of its conversation (any kind but notices: a photo
    the owner sent next is the next turn, and its caption answers nothing)."""
    asked, later = aliased(Message), aliased(Message)
    next_id = (
        select(later.id)
        .where(
            later.conversation_id == asked.conversation_id,
            col(later.kind).not_in(sorted(NOT_TURNS)),
            sa.or_(
                col(later.sent_at) > asked.sent_at,
                sa.and_(col(later.sent_at) == asked.sent_at, col(later.id) > asked.id),
            ),
        )
        .order_by(col(later.sent_at), col(later.id))
        .limit(1)
        .correlate(asked)
        .scalar_subquery()
    )
    pairs = (
        select(col(asked.id).label("asked"), next_id.label("next"))
        .where(col(asked.id).in_(sa.bindparam("ids", expanding=True)))
        .subquery()
    )
    return select(pairs.c.asked, Message).join(Message, col(Message.id) == pairs.c.next)


_FOLLOWING = _following_statement()


class StyleQueries:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.database = store.database
        self._handles: dict[Any, tuple[float, Any]] = {}
        self._conversations: dict[Any, tuple[float, Any]] = {}
        self._people: dict[Any, tuple[float, Any]] = {}
        self._names: dict[Any, tuple[float, Any]] = {}
        self._windows: dict[Any, tuple[float, Any]] = {}
        self.profiles = StyleProfiles(store)
        """Each contact's style profile, kept up to date incrementally."""

    def _cached(
        self,
        cache: dict[Any, tuple[float, Any]],
        key: Any,
        compute: Any,
        ttl: float = CACHE_TTL_S,
    ) -> Any:
        """`compute()`, reused for `ttl` seconds: a long-lived StyleQueries (the inbound
        processor's) sees merges and new handles within that time."""
        now = time.monotonic()
        hit = cache.get(key)
        if hit is not None and now - hit[0] < ttl:
            return hit[1]
        value = compute()
        cache[key] = (now, value)
        return value

    def names(self) -> dict[ContactId, str]:
        """Every contact's name (for labels and lookalike checks), reused briefly."""
        found: dict[ContactId, str] = self._cached(self._names, None, self.store.contacts.names)
        return found

    def handles_of(self, contact_id: ContactId) -> frozenset[str]:
        found: frozenset[str] = self._cached(
            self._handles,
            contact_id,
            lambda: frozenset(h.external_id for h in self.store.contacts.handles(contact_id)),
        )
        return found

    def conversation(self, conversation_id: ConversationId) -> Conversation | None:
        found: Conversation | None = self._cached(
            self._conversations,
            conversation_id,
            lambda: self.store.conversations.get(conversation_id),
        )
        return found

    def addressed_to(self, message: Message, contact_id: ContactId) -> bool:
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
        if message.id is None:
            return None
        return self._answers([message]).get(message.id)

    def replies_to(self, messages: Sequence[Message]) -> dict[MessageId, Message]:
        """For each of these contact messages, the owner's answer when there is one."""
        return self._answers(messages)

    def reply_window(self, conversation_id: ConversationId) -> timedelta:
        """How long after a contact's message the owner's next turn still answers it,
        learned from the conversation's latest messages (`pairing.reply_window`); kept
        for `PEOPLE_TTL_S` (a window moves slowly)."""
        found: timedelta = self._cached(
            self._windows, conversation_id, lambda: self._window(conversation_id), PEOPLE_TTL_S
        )
        return found

    def _window(self, conversation_id: ConversationId) -> timedelta:
        with self.database.session() as session:
            rows = session.exec(
                select(Message.from_owner, Message.sent_at, Message.kind)
                .where(Message.conversation_id == conversation_id)
                .order_by(col(Message.sent_at).desc(), col(Message.id).desc())
                .limit(WINDOW_READ)
            ).all()
        turns = [(owner, at) for owner, at, kind in reversed(rows) if kind not in NOT_TURNS]
        return reply_window(
            [b[1] - a[1] for a, b in itertools.pairwise(turns) if not a[0] and b[0]]
        )

    def _answers(self, messages: Sequence[Message]) -> dict[MessageId, Message]:
        asked = [m for m in messages if m.contact_id is not None and not m.from_owner and m.id]
        following = self._following([MessageId(m.id or 0) for m in asked])
        explicit = self._explicit_replies(asked)
        found: dict[MessageId, Message] = {}
        for message in asked:
            assert message.id is not None and message.contact_id is not None
            linked = explicit.get(message.id)
            # An explicit reply wins; it answers the contact only where the platform
            # names no recipients or names them: a mail forwarded to Alice with
            # Mallory's In-Reply-To kept is written to Alice, whatever thread it is in.
            if linked is not None and (
                not linked.recipients or self.addressed_to(linked, message.contact_id)
            ):
                found[message.id] = linked
                continue
            nxt = following.get(message.id)
            if nxt is None or (nxt.reply_to is not None and nxt.reply_to == message.external_id):
                continue  # an explicit reply that did not qualify above
            if refusal(message, nxt, self.reply_window(message.conversation_id)) is not None:
                continue
            if self.addressed_to(nxt, message.contact_id):
                found[message.id] = nxt
        return found

    def _explicit_replies(self, asked: Sequence[Message]) -> dict[MessageId, Message]:
        """For each message, the owner's earliest explicit platform reply to it."""
        if not asked:
            return {}
        by_key = {(m.conversation_id, m.external_id): m for m in asked}
        with self.database.session() as session:
            rows = session.exec(
                select(Message)
                .where(
                    Message.from_owner == True,  # noqa: E712
                    col(Message.conversation_id).in_({m.conversation_id for m in asked}),
                    col(Message.reply_to).in_({m.external_id for m in asked}),
                )
                .order_by(col(Message.sent_at), col(Message.id))
            ).all()
        found: dict[MessageId, Message] = {}
        for reply in rows:
            message = by_key.get((reply.conversation_id, reply.reply_to or ""))
            if message is not None and message.id is not None and explicit_answer(message, reply):
                found.setdefault(message.id, reply)
        return found

    def _following(self, message_ids: Sequence[MessageId]) -> dict[MessageId, Message]:
        """For each message, the next text message of its conversation (by time, then
        id): one query, a correlated look-up per message on the conversation's index."""
        if not message_ids:
            return {}
        with self.database.session() as session:
            rows = session.exec(_FOLLOWING, params={"ids": list(message_ids)}).all()  # type: ignore[call-overload]
        return {MessageId(asked_id): message for asked_id, message in rows}

    def people_told(self, text: str) -> int:
        """How many different people the owner sent exactly `text` to, one-to-one or
        addressed to them (merged identities, and accounts that are plainly the same
        person, count once: `ContactRepository.people`). Kept for `PEOPLE_TTL_S`: the
        same few phatic replies come up draft after draft, and each count reads every
        message of the owner's with that text."""
        count: int = self._cached(
            self._people, text, lambda: self._count_people(text), PEOPLE_TTL_S
        )
        return count

    def owner_wrote(self, text: str) -> None:
        """The owner (or the twin for them) just sent `text`: count its people afresh."""
        self._people.pop(text, None)

    def contacts_changed(self) -> None:
        """Contacts were merged: who is one person, and whose handles, is read again."""
        self._people.clear()
        self._handles.clear()
        self._conversations.clear()
        self._names.clear()
        self._windows.clear()
        self.profiles = StyleProfiles(self.store)

    def _count_people(self, text: str) -> int:
        with self.database.session() as session:
            rows = session.exec(
                select(Message.conversation_id, Message.recipients, Conversation.contact_id)
                .join(Conversation, col(Message.conversation_id) == col(Conversation.id))
                .where(Message.from_owner == True, Message.text == text)  # noqa: E712
            ).all()
        told: set[ContactId] = set()
        by_handle: dict[str, ContactId] | None = None
        for _, recipients, contact_id in rows:
            if recipients:
                if by_handle is None:
                    by_handle = self._handle_owners()
                told.update(by_handle[r] for r in recipients if r in by_handle)
            elif contact_id is not None:
                told.add(ContactId(contact_id))
        return self.store.contacts.people(told)

    def _handle_owners(self) -> dict[str, ContactId]:
        from twin_core.memory.models import Handle

        with self.database.session() as session:
            return {
                external_id: ContactId(contact_id)
                for external_id, contact_id in session.exec(
                    select(Handle.external_id, Handle.contact_id)
                )
            }

    def turns_for(
        self,
        conversation_id: ConversationId,
        contact_id: ContactId,
        *,
        around: datetime,
        limit: int,
    ) -> list[Message]:
        """The latest `limit` turns of a conversation up to `around` that were meant for
        `contact_id` (their own, and what was addressed to them), oldest first."""
        history = self.store.messages.in_conversation(
            conversation_id, around=around, limit=limit * 4
        )
        return [m for m in history if self.addressed_to(m, contact_id)][-limit:]

    def exchanges_with(
        self,
        contact_id: ContactId,
        *,
        limit: int,
        exclude: set[MessageId],
        read: int = EXCHANGES_READ,
    ) -> list[tuple[Message, Message]]:
        """The latest (their message, the owner's answer) pairs with this contact, in
        their one-to-one conversations (the latest `read` messages of each), oldest
        first."""
        found: list[tuple[Message, Message]] = []
        for conversation_id in self.store.conversations.with_contact(contact_id):
            history = self.store.messages.in_conversation(conversation_id, limit=read)
            window = self.reply_window(conversation_id)
            for index, earlier in enumerate(history):
                if (
                    earlier.contact_id != contact_id
                    or earlier.from_owner
                    or earlier.kind != "text"
                    or earlier.id in exclude
                ):
                    continue
                linked = next(
                    (m for m in history[index + 1 :] if explicit_answer(earlier, m)), None
                )
                later = linked or next_turn_after(history, index)
                if later is None or (linked is None and refusal(earlier, later, window)):
                    continue
                if self.addressed_to(later, contact_id):
                    found.append((earlier, later))
        return found[-limit:]
