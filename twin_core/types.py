"""The normalized shapes every channel adapter and importer produces.

No platform SDK object ever crosses into `twin_core`: adapters and importers reduce
their library's payloads to these frozen records, and everything downstream works on
them alone.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NewType

ChannelName = NewType("ChannelName", str)
"""`console`, `telegram`, `whatsapp`, `slack`, `discord`, `email`."""

ExternalId = NewType("ExternalId", str)
"""A message id as the platform knows it (unique within its channel)."""

ChatId = NewType("ChatId", str)
"""A conversation id as the platform knows it (a chat, DM, channel, thread or mailbox)."""

HandleId = NewType("HandleId", str)
"""A person's identity on one platform: phone number, user id, email address."""

ContactId = NewType("ContactId", int)
ConversationId = NewType("ConversationId", int)
DraftId = NewType("DraftId", int)
MessageId = NewType("MessageId", int)


class PolicyMode(enum.StrEnum):
    """What the twin may do for one contact: stay silent, draft for approval, or send
    confident replies on its own."""

    OFF = "off"
    DRAFT = "draft"
    AUTO = "auto"


class MessageKind(enum.StrEnum):
    TEXT = "text"
    MEDIA = "media"
    SYSTEM = "system"
    DELETED = "deleted"
    CALL = "call"
    AUTOMATED = "automated"
    """Sent by a machine or to many (a newsletter, a no-reply sender, bulk mail):
    recorded, never answered."""


@dataclass(frozen=True, slots=True)
class InboundEvent:
    """One message seen on a channel, as every adapter and importer reports it.

    `from_owner` is true when the owner wrote it themselves (from their own phone, or
    an imported message of theirs); such events are recorded and never answered.
    """

    channel: ChannelName
    external_id: ExternalId
    chat_id: ChatId
    sender_id: HandleId
    sender_name: str
    text: str
    sent_at: datetime
    from_owner: bool = False
    chat_title: str = ""
    is_group: bool = False
    reply_to: ExternalId | None = None
    kind: MessageKind = MessageKind.TEXT
    raw: str | None = None
    """The original record where it holds more than `text` (an email with its quotes)."""
    recipients: tuple[HandleId, ...] = ()
    """Whom it was addressed to, where the platform says so: an email's To and Cc, the
    people a group message mentions. Empty for a one-to-one chat (the other person)."""
    to_bot: bool = False
    """Sent to the twin's own bot account (a DM to the bot), not to the owner: such a
    message is the control chat, a pairing code, or a stranger's, never a contact's."""
    identities: tuple[str, ...] = ()
    """Keys that tie the sender to the same person elsewhere, taken only from fields the
    platform documents as a phone number or address (`tel:<digits>`, `email:<address>`;
    see `twin_core.memory.identity`). A numeric user id is never one."""
    via: HandleId | None = None
    """The owner's account the message reached the twin through, where a platform lets a
    bot act for a person (a Telegram Business connection): the dispatcher takes such a
    message only when that account is the owner's, so no stranger can lend the twin
    their chats."""

    def __post_init__(self) -> None:
        if self.sent_at.tzinfo is None:
            raise ValueError("InboundEvent.sent_at must be timezone-aware")


@dataclass(frozen=True, slots=True)
class Button:
    """A one-tap action under a message: pressing it says `command` in the control chat,
    as if the owner had typed it (`Button("Approve", "/approve 3")`)."""

    label: str
    command: str


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """A message the twin sends: to a contact's chat, or to the owner's control chat."""

    channel: ChannelName
    chat_id: ChatId
    text: str
    reply_to: ExternalId | None = None
    buttons: tuple[Button, ...] = field(default=())
    """One-tap actions, rendered where the platform can (inline buttons); elsewhere the
    text itself says the commands."""
    card: str | None = None
    """The card this message belongs to (`draft:3`): the draft card carries it, and so
    does every answer that settles that draft, so a channel that can edit messages shows
    the outcome on the card itself (and takes its buttons away)."""
    data: Mapping[str, Any] | None = None
    """The structured form of a control message (`{"event": "draft", ...}`), for channels
    that render it richly or print it as JSON."""


def utcnow() -> datetime:
    return datetime.now(UTC)
