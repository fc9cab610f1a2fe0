"""What of people memory may go into a draft for one contact (DESIGN.md, invariant 6).

A fact or a promise is served for contact X only when it is filed under X *and* its
source message is X's own, or the owner's in a one-to-one conversation with X. The
second check is made against the message table at read time, so a row filed under the
wrong contact (a merge gone wrong, a bug elsewhere) still never reaches Bob's draft
with Alice's words in it. This is the one way drafting reads people memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlmodel import col, select

from twin_core.memory.models import Contact, Conversation, Message
from twin_core.memory.people.models import Commitment, CommitmentStatus, Fact
from twin_core.memory.people.stats import rhythm
from twin_core.memory.people.store import PeopleRepository
from twin_core.memory.store import Store
from twin_core.memory.text import shorten
from twin_core.types import ContactId

FACTS_FOR_DRAFT = 12
PROMISES_FOR_DRAFT = 5


def _said_with(contact_id: ContactId) -> Any:
    """The source message is the contact's own, or the owner's in a one-to-one
    conversation with them (the caller joins `Message` and its `Conversation`)."""
    return (col(Message.contact_id) == contact_id) | (
        col(Message.from_owner)
        & (col(Conversation.contact_id) == contact_id)
        & ~col(Conversation.is_group)
    )


def _said_in_their_chats(statement: Any, message_id: Any, contact_id: ContactId) -> Any:
    """`statement` kept to rows whose source message (`message_id`) passes `_said_with`."""
    return (
        statement.join(Message, col(Message.id) == col(message_id))
        .join(Conversation, col(Conversation.id) == col(Message.conversation_id))
        .where(_said_with(contact_id))
    )


def facts_for_draft(store: Store, contact_id: ContactId) -> list[Fact]:
    """The facts that still hold, said in `contact_id`'s own conversations."""
    with store.database.session() as session:
        rows = session.exec(
            _said_in_their_chats(select(Fact), Fact.message_id, contact_id)
            .where(Fact.contact_id == contact_id)
            .where(col(Fact.valid_until).is_(None))
            .order_by(col(Fact.stated_at).desc())
        )
        return list(rows)


def promises_for_draft(store: Store, contact_id: ContactId) -> list[Commitment]:
    """The open promises between the owner and `contact_id`, made in their own
    conversations, oldest first."""
    with store.database.session() as session:
        rows = session.exec(
            _said_in_their_chats(select(Commitment), Commitment.message_id, contact_id)
            .where(Commitment.contact_id == contact_id)
            .where(Commitment.status == CommitmentStatus.OPEN)
            .order_by(col(Commitment.made_at))
        )
        return list(rows)


@dataclass(frozen=True, slots=True)
class OpenPromise:
    by_owner: bool
    text: str
    due: datetime | None
    overdue: bool

    def line(self, owner: str, contact: str) -> str:
        """'Sam to Kai: "I'll send the slides tomorrow", due 2026-03-05 (overdue)'."""
        who = f"{owner} to {contact}" if self.by_owner else f"{contact} to {owner}"
        return (
            f'{who}: "{shorten(self.text, 160)}"'
            + (f", due {self.due:%Y-%m-%d}" if self.due else "")
            + (" (overdue)" if self.overdue else "")
        )


@dataclass(frozen=True, slots=True)
class DraftContext:
    """People memory for one contact's draft.

    `relationship` is the twin's own figures, as lines (dates and counts: nothing
    anyone wrote); `facts` and `promises` carry the contact's or the owner's words and
    go into a prompt only quoted, as data."""

    relationship: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)
    promises: list[OpenPromise] = field(default_factory=list)


def draft_context(
    store: Store, contact: Contact, *, owner: str = "you", now: datetime | None = None
) -> DraftContext:
    """What the twin knows of the owner and `contact`, from their own conversations."""
    assert contact.id is not None
    now = now or datetime.now(UTC)
    name = contact.name
    return DraftContext(
        relationship=_relationship(store, contact.id, owner, name, now),
        facts=[
            f"{owner if f.about == 'owner' else name}: {f.kind} = {shorten(f.value, 120)} "
            f"(said {f.stated_at:%Y-%m-%d})"
            for f in facts_for_draft(store, contact.id)[:FACTS_FOR_DRAFT]
        ],
        promises=[
            OpenPromise(c.by_owner, c.text, c.due_at, bool(c.due_at and c.due_at < now))
            for c in promises_for_draft(store, contact.id)[-PROMISES_FOR_DRAFT:]
        ],
    )


def _relationship(
    store: Store, contact_id: ContactId, owner: str, name: str, now: datetime
) -> list[str]:
    row = PeopleRepository(store.database).relationship(contact_id)
    if row is None or row.first_at is None or row.last_at is None:
        return []
    figures = rhythm(row, now)
    lines = [
        f"{owner} and {name} have written to each other since {row.first_at:%Y-%m-%d} "
        f"({row.messages_in} messages from {name}, {row.messages_out} from {owner}, "
        f"{figures.conversations} conversations; the last on {row.last_at:%Y-%m-%d})."
    ]
    if figures.usual_gap_days is not None and figures.current_gap_days is not None:
        lines.append(
            f"They usually talk every {figures.usual_gap_days:.0f} days; it has been "
            f"{figures.current_gap_days:.0f}."
        )
    if figures.owner_starts is not None:
        starter = owner if figures.owner_starts > 0.5 else name
        if figures.owner_starts != 0.5:
            lines.append(f"{starter} usually starts their conversations.")
    if row.languages:
        ordered = sorted(row.languages, key=lambda k: -row.languages[k])
        lines.append("They write in " + ", ".join(ordered[:3]) + ".")
    return lines
