"""The SQL tables. SQLite by default, PostgreSQL with the same code; Alembic migrates both.

Timestamps are stored in UTC and always come back timezone-aware (`UTCDateTime`), so
nothing downstream has to guess what zone a naive value meant.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel

from twin_core.types import (
    ContactId,
    ConversationId,
    DraftId,
    MessageId,
    PolicyMode,
    utcnow,
)

__all__ = [
    "AuditEntry",
    "Contact",
    "Conversation",
    "DeadLetter",
    "Decision",
    "Draft",
    "DraftStatus",
    "Handle",
    "JobStatus",
    "Message",
    "Policy",
    "PolicyMode",
    "ScheduledJob",
    "State",
    "UTCDateTime",
]


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A datetime column that refuses naive values and reads back aware UTC values."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class DraftStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    SENDING = "sending"
    SENT = "sent"
    REJECTED = "rejected"
    EXPIRED = "expired"
    """The owner answered the conversation themselves."""
    SUPERSEDED = "superseded"
    """The contact wrote again before it went out; a new draft answers everything."""
    FAILED = "failed"


class JobStatus(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


def _utc_column(**kwargs: Any) -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, **kwargs)


class Contact(SQLModel, table=True):
    id: ContactId | None = Field(default=None, primary_key=True, sa_type=sa.Integer)
    name: str = Field(max_length=200, unique=True)
    """The name the owner uses in commands (`/auto alice on`); unique, case-insensitive."""
    created_at: datetime = _utc_column()


class Handle(SQLModel, table=True):
    """One identity of a contact on one channel (a phone number, a user id, an address)."""

    __table_args__ = (sa.UniqueConstraint("channel", "external_id"),)
    id: int | None = Field(default=None, primary_key=True)
    contact_id: ContactId = Field(foreign_key="contact.id", index=True, sa_type=sa.Integer)
    channel: str = Field(max_length=32)
    external_id: str = Field(max_length=320)
    display_name: str = Field(default="", sa_type=sa.Text)
    """The name the platform showed, kept whole however long."""
    identity: str | None = Field(default=None, max_length=320, index=True)
    """The same person's key on every platform: `tel:<digits>` or `email:<address>`."""


class Conversation(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("channel", "external_id"),)
    id: ConversationId | None = Field(default=None, primary_key=True, sa_type=sa.Integer)
    channel: str = Field(max_length=32)
    external_id: str = Field(max_length=320)
    title: str = Field(default="", sa_type=sa.Text)
    is_group: bool = False
    contact_id: ContactId | None = Field(
        default=None, foreign_key="contact.id", index=True, sa_type=sa.Integer
    )
    """For a one-to-one conversation, the other person."""
    created_at: datetime = _utc_column()


class Message(SQLModel, table=True):
    __table_args__ = (
        sa.UniqueConstraint("channel", "external_id"),
        sa.Index("ix_message_conversation_sent", "conversation_id", "sent_at"),
    )
    id: MessageId | None = Field(default=None, primary_key=True, sa_type=sa.Integer)
    channel: str = Field(max_length=32)
    external_id: str = Field(max_length=320)
    conversation_id: ConversationId = Field(foreign_key="conversation.id", sa_type=sa.Integer)
    contact_id: ContactId | None = Field(
        default=None, foreign_key="contact.id", index=True, sa_type=sa.Integer
    )
    """The sender, or None when the owner wrote it."""
    from_owner: bool = False
    kind: str = Field(default="text", max_length=16)
    text: str = Field(sa_type=sa.Text)
    sent_at: datetime = Field(sa_type=UTCDateTime, index=True)
    reply_to: str | None = Field(default=None, max_length=320)
    raw: str | None = Field(default=None, sa_type=sa.Text)
    recipients: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    """Handles it was addressed to where the platform says (email To/Cc, mentions)."""
    draft_id: DraftId | None = Field(default=None, index=True, sa_type=sa.Integer)
    """Set when the twin sent this message from a draft."""
    recorded_at: datetime = _utc_column()


class Draft(SQLModel, table=True):
    id: DraftId | None = Field(default=None, primary_key=True, sa_type=sa.Integer)
    conversation_id: ConversationId = Field(
        foreign_key="conversation.id", index=True, sa_type=sa.Integer
    )
    contact_id: ContactId = Field(foreign_key="contact.id", sa_type=sa.Integer)
    message_id: MessageId = Field(foreign_key="message.id", sa_type=sa.Integer)
    """The inbound message this draft answers."""
    text: str = Field(sa_type=sa.Text)
    confidence: float
    reasons: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    model: str = Field(max_length=200)
    status: DraftStatus = Field(default=DraftStatus.PENDING, sa_type=sa.String(16), index=True)
    auto: bool = False
    """Approved by the twin itself (an `auto` contact's confident draft), not the owner."""
    created_at: datetime = _utc_column()
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Policy(SQLModel, table=True):
    contact_id: ContactId = Field(foreign_key="contact.id", primary_key=True, sa_type=sa.Integer)
    mode: PolicyMode = Field(sa_type=sa.String(8))
    threshold: float | None = None
    """This contact's auto-send confidence threshold; None: `TWIN_AUTO_CONFIDENCE`."""
    updated_at: datetime = _utc_column()


class Decision(SQLModel, table=True):
    """Why the twin did what it did with a draft (`/why N`), and the owner's verdict on
    it (`/teach N good|bad`), which the reply-or-not model and the calibration learn."""

    id: int | None = Field(default=None, primary_key=True)
    draft_id: DraftId = Field(foreign_key="draft.id", unique=True, sa_type=sa.Integer)
    message_id: MessageId = Field(foreign_key="message.id", sa_type=sa.Integer)
    contact_id: ContactId = Field(foreign_key="contact.id", sa_type=sa.Integer)
    features: list[float] = Field(default_factory=list, sa_type=sa.JSON)
    reply_probability: float | None = None
    confidence: float
    raw_confidence: float
    threshold: float
    concerns: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    steps: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    """The whole reasoning, in words, in order."""
    verdict: str | None = Field(default=None, max_length=8)
    verdict_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = _utc_column()


class AuditEntry(SQLModel, table=True):
    """Append-only: a database trigger refuses UPDATE and DELETE on this table, and each
    entry's `hash` covers its content and the previous entry's hash, so a rewrite, a
    deletion or a reordering that gets past the triggers is found by `twin audit
    --verify` (`twin_core.memory.store.audit`)."""

    __tablename__ = "audit_entry"
    __table_args__ = (sa.Index("ix_audit_entry_seq", "seq", unique=True),)
    id: int | None = Field(default=None, primary_key=True)
    seq: int | None = None
    """Position in the chain: 1, 2, 3, ... with no gap."""
    at: datetime = _utc_column(index=True)
    actor: str = Field(max_length=200)
    """`owner`, `twin`, `contact:<id>`, `<channel>:<handle>` or `system`."""
    action: str = Field(max_length=64, index=True)
    subject: str = Field(default="", sa_type=sa.Text)
    why: str = Field(default="", sa_type=sa.Text)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    prev_hash: str = Field(default="", max_length=64)
    hash: str = Field(default="", max_length=64)


class DeadLetter(SQLModel, table=True):
    """An event that could not be recorded, kept whole so it can be recorded later
    (`twin stats` counts them; the owner is told)."""

    __tablename__ = "dead_letter"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _utc_column(index=True)
    channel: str = Field(sa_type=sa.Text)
    external_id: str = Field(sa_type=sa.Text)
    event: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    error: str = Field(default="", sa_type=sa.Text)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class State(SQLModel, table=True):
    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(sa_type=sa.Text)


class ScheduledJob(SQLModel, table=True):
    """A deferred job when jobs run in the bot's process (no Redis): kept in SQL so a
    restart resumes it, and keyed so it is never scheduled twice."""

    __tablename__ = "scheduled_job"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    name: str = Field(max_length=64)
    queue: str = Field(default="bot", max_length=32)
    """`bot` (needs the channels: runs where they are connected) or `work`."""
    args: list[Any] = Field(default_factory=list, sa_type=sa.JSON)
    run_at: datetime = Field(sa_type=UTCDateTime, index=True)
    status: JobStatus = Field(default=JobStatus.PENDING, sa_type=sa.String(16))
    attempts: int = 0
    last_error: str = Field(default="", sa_type=sa.Text)
    created_at: datetime = _utc_column()
