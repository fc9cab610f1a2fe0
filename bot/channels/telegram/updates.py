"""Telegram updates as the twin sees them: one pure function, `parse_update`.

Which chat is which:

* The bot's own private chats (`message`): the owner's is the control chat; anyone
  else's is a message to the bot (`to_bot`), a pairing code or a stranger's. Chat id
  `<chat id>`, message ids `<chat id>:<message id>`.
* The owner's own private chats, reached through a Telegram Business connection
  (`business_message`, `edited_business_message`, `deleted_business_messages`): the
  contacts' conversations. Chat id `business:<chat id>` (the same person may also write
  to the bot itself, and the two must never be confused), message ids
  `business:<chat id>:<message id>`. A message there whose sender is not the other
  person is the owner's own (from their phone); one the twin itself sent through the
  connection is left out (the outbox has recorded it).
* A button pressed under a card (`callback_query`): the button's command, said in the
  chat of the card by whoever pressed it.

Everything else (channel posts, group chats the bot was added to, edits of messages to
the bot, polls, ...) is nothing the twin takes part in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from telegram import (
    BusinessConnection,
    CallbackQuery,
    Message,
    Update,
    User,
)

from bot.channels.telegram.state import Connection
from twin_core.memory.identity import phone_key
from twin_core.types import (
    ChannelName,
    ChatId,
    ExternalId,
    HandleId,
    InboundEvent,
    MessageKind,
    utcnow,
)

TELEGRAM = ChannelName("telegram")
BUSINESS = "business:"
CARD_SEPARATOR = "|"
"""Between a card and its command in a button's `callback_data` (`draft:3|/approve 3`)."""

ALLOWED_UPDATES = (
    "message",
    "callback_query",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
)
"""What the twin asks Telegram for (`allowed_updates`)."""


@dataclass(frozen=True, slots=True)
class Press:
    """A button pressed under a message the bot sent."""

    query_id: str
    card: str | None
    chat_id: int
    message_id: int | None
    text: str
    """The text of the message the button is under."""


@dataclass(frozen=True, slots=True)
class Parsed:
    events: tuple[InboundEvent, ...] = ()
    connection: Connection | None = None
    """A Business connection made, changed or ended."""
    press: Press | None = None
    business_chat: tuple[str, str] | None = None
    """(chat id, connection id) of a business message: which connection carries it."""
    ignored: str = ""
    """Why nothing came of it, for the debug log."""


def business_chat(chat_id: int) -> ChatId:
    return ChatId(f"{BUSINESS}{chat_id}")


def parse_update(
    update: Update, bot_id: int, connections: dict[str, Connection] | None = None
) -> Parsed:
    """What `update` means to the twin. `connections` are the Business connections known
    so far (to tell the owner's own messages by the connection's user)."""
    connections = connections or {}
    if update.business_connection is not None:
        return Parsed(connection=connection_of(update.business_connection))
    if update.callback_query is not None:
        return _press(update.callback_query)
    if update.business_message is not None:
        return _business(update.business_message, bot_id, connections, edited=False)
    if update.edited_business_message is not None:
        return _business(update.edited_business_message, bot_id, connections, edited=True)
    if update.deleted_business_messages is not None:
        deleted = update.deleted_business_messages
        chat = deleted.chat
        events = tuple(
            InboundEvent(
                channel=TELEGRAM,
                external_id=ExternalId(f"{BUSINESS}{chat.id}:{number}:deleted"),
                chat_id=business_chat(chat.id),
                sender_id=HandleId(str(chat.id)),
                sender_name=chat.full_name or chat.title or str(chat.id),
                text="[deleted]",
                sent_at=utcnow(),
                reply_to=ExternalId(f"{BUSINESS}{chat.id}:{number}"),
                kind=MessageKind.DELETED,
                via=_via(deleted.business_connection_id, connections),
            )
            for number in deleted.message_ids
        )
        return Parsed(events=events)
    if update.message is not None:
        return _to_bot(update.message)
    return Parsed(ignored="an update the twin does not take part in")


def connection_of(connection: BusinessConnection) -> Connection:
    rights = connection.rights
    return Connection(
        id=connection.id,
        user_id=connection.user.id,
        user_name=connection.user.full_name,
        enabled=connection.is_enabled,
        can_reply=bool(rights is not None and rights.can_reply),
    )


def _via(connection_id: str | None, connections: dict[str, Connection]) -> HandleId | None:
    if connection_id is None:
        return None
    known = connections.get(connection_id)
    # Unknown connections are looked up before parsing (`TelegramChannel`); one that
    # still is not known cannot be vouched for, and the dispatcher refuses it.
    return HandleId(str(known.user_id)) if known else HandleId(f"unknown:{connection_id}")


def _press(query: CallbackQuery) -> Parsed:
    data = query.data or ""
    card, separator, command = data.partition(CARD_SEPARATOR)
    if not separator:
        card, command = "", data
    message = query.message
    chat_id = message.chat.id if message is not None else query.from_user.id
    text = message.text or "" if isinstance(message, Message) else ""
    press = Press(
        query_id=query.id,
        card=card or None,
        chat_id=chat_id,
        message_id=message.message_id if message is not None else None,
        text=text,
    )
    if not command:
        return Parsed(press=press, ignored="a button with no command")
    event = InboundEvent(
        channel=TELEGRAM,
        external_id=ExternalId(f"callback:{query.id}"),
        chat_id=ChatId(str(chat_id)),
        sender_id=HandleId(str(query.from_user.id)),
        sender_name=_name(query.from_user),
        text=command,
        sent_at=utcnow(),
        to_bot=True,
    )
    return Parsed(events=(event,), press=press)


def _to_bot(message: Message) -> Parsed:
    sender = message.from_user
    if sender is None or sender.is_bot:
        return Parsed(ignored="a message with no person behind it")
    chat = message.chat
    text, kind = _content(message)
    event = InboundEvent(
        channel=TELEGRAM,
        external_id=ExternalId(f"{chat.id}:{message.message_id}"),
        chat_id=ChatId(str(chat.id)),
        sender_id=HandleId(str(sender.id)),
        sender_name=_name(sender),
        text=text,
        sent_at=_aware(message.date),
        chat_title=chat.title or "",
        is_group=chat.type != chat.PRIVATE,
        kind=kind,
        to_bot=True,
    )
    return Parsed(events=(event,))


def _business(
    message: Message, bot_id: int, connections: dict[str, Connection], *, edited: bool
) -> Parsed:
    chat = message.chat
    connection_id = message.business_connection_id
    where = (str(chat.id), connection_id) if connection_id else None
    if message.sender_business_bot is not None and message.sender_business_bot.id == bot_id:
        return Parsed(business_chat=where, ignored="the twin's own send, already recorded")
    sender = message.from_user
    if sender is None:
        return Parsed(business_chat=where, ignored="a business message with no sender")
    known = connections.get(connection_id or "")
    from_owner = sender.id != chat.id or (known is not None and sender.id == known.user_id)
    text, kind = _content(message)
    external = f"{BUSINESS}{chat.id}:{message.message_id}"
    reply_to = None
    if message.reply_to_message is not None:
        reply_to = ExternalId(f"{BUSINESS}{chat.id}:{message.reply_to_message.message_id}")
    if edited:
        # A new version of a message is a message of its own, answering the first.
        stamp = int(_aware(message.edit_date or message.date).timestamp())
        reply_to = ExternalId(external)
        external = f"{external}:edited:{stamp}"
    identities: tuple[str, ...] = ()
    if message.contact is not None and message.contact.user_id == sender.id:
        key = phone_key(message.contact.phone_number)
        identities = (key,) if key else ()
    event = InboundEvent(
        channel=TELEGRAM,
        external_id=ExternalId(external),
        chat_id=business_chat(chat.id),
        sender_id=HandleId(str(sender.id)),
        sender_name=_name(sender),
        text=text,
        sent_at=_aware(message.edit_date if edited and message.edit_date else message.date),
        from_owner=from_owner,
        chat_title=chat.full_name or "",
        reply_to=reply_to,
        kind=kind,
        identities=identities,
        via=_via(connection_id, connections),
    )
    return Parsed(events=(event,), business_chat=where)


def _content(message: Message) -> tuple[str, MessageKind]:
    if message.text is not None:
        return message.text, MessageKind.TEXT
    if message.caption is not None:
        return message.caption, MessageKind.TEXT
    if message.contact is not None:
        return f"[contact: {message.contact.first_name}]", MessageKind.MEDIA
    for attribute in ("photo", "video", "voice", "audio", "document", "sticker", "animation"):
        if getattr(message, attribute, None):
            return f"[{attribute}]", MessageKind.MEDIA
    return "[message]", MessageKind.SYSTEM


def _name(user: User) -> str:
    return user.full_name or user.username or str(user.id)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
