"""People memory's tables: facts, commitments and each relationship's running figures.

Every derived row names the message it came from with a foreign key that cascades, so
deleting a message or a contact deletes what was derived from it, in the database
itself (SQLite with `foreign_keys=ON`, and PostgreSQL), whoever deletes it.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from twin_core.memory.models import UTCDateTime
from twin_core.types import ContactId, ConversationId, MessageId, utcnow

__all__ = ["Commitment", "CommitmentStatus", "Fact", "Relationship"]


def _cascade(target: str, *, nullable: bool = False, index: bool = True) -> Any:
    return Field(
        default=None if nullable else ...,
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey(target, ondelete="CASCADE"), nullable=nullable, index=index
        ),
    )


class CommitmentStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"


class Fact(SQLModel, table=True):
    """Something stated about a person: `about` is `contact` (the contact said it of
    themselves) or `owner` (the owner said it of themselves to this contact). A fact is
    kept with the one contact whose conversation it came from (DESIGN.md invariant 6)."""

    __tablename__ = "person_fact"
    id: int | None = Field(default=None, primary_key=True)
    contact_id: ContactId = _cascade("contact.id")
    about: str = Field(default="contact", max_length=8)
    kind: str = Field(max_length=32)
    value: str = Field(sa_type=sa.Text)
    message_id: MessageId = _cascade("message.id")
    stated_at: datetime = Field(sa_type=UTCDateTime)
    """When it was said: the start of its validity."""
    valid_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """When a newer statement of the same kind replaced it; None while it holds."""
    superseded_by: int | None = Field(default=None)
    confidence: float = 0.8
    extractor: str = Field(default="rules", max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Commitment(SQLModel, table=True):
    """A promise: by the owner to the contact (`by_owner`), or by the contact to the owner."""

    __tablename__ = "commitment"
    id: int | None = Field(default=None, primary_key=True)
    contact_id: ContactId = _cascade("contact.id")
    conversation_id: ConversationId = _cascade("conversation.id", index=False)
    by_owner: bool
    text: str = Field(sa_type=sa.Text)
    """The sentence that made the promise."""
    action: str = Field(default="", max_length=64)
    """The promised act's verb, as the rules name it (`send`, `call`, `pay`, ...)."""
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """End of the due day in the owner's time zone; None when no date was said."""
    due_text: str = Field(default="", max_length=200)
    message_id: MessageId = _cascade("message.id")
    made_at: datetime = Field(sa_type=UTCDateTime)
    status: CommitmentStatus = Field(
        default=CommitmentStatus.OPEN, sa_type=sa.String(8), index=True
    )
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_reason: str = Field(default="", sa_type=sa.Text)
    closed_by_message_id: int | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("message.id", ondelete="SET NULL"), nullable=True
        ),
    )
    confidence: float = 0.8
    extractor: str = Field(default="rules", max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Relationship(SQLModel, table=True):
    """One contact's running figures, updated as messages arrive (never by a rescan)."""

    contact_id: ContactId = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("contact.id", ondelete="CASCADE"), primary_key=True
        )
    )
    messages_in: int = 0
    messages_out: int = 0
    first_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sessions: list[list[int]] = Field(default_factory=list, sa_type=sa.JSON)
    """Conversations as [start, end, started_by_owner] in epoch seconds, oldest first."""
    reply_delays: list[int] = Field(default_factory=list, sa_type=sa.JSON)
    """The owner's latest reply delays to them, in seconds (the last `MAX_DELAYS`)."""
    languages: dict[str, int] = Field(default_factory=dict, sa_type=sa.JSON)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
