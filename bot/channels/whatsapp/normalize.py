"""One neonize `MessageEv` -> one `InboundEvent` (or None), as a pure function.

What WhatsApp delivers, and what it becomes:

* text (`conversation`, `extendedTextMessage`): a text message; a quote is `reply_to`,
  mentions are `recipients`;
* image, video, voice note, audio, document, sticker, location, contact card, poll:
  a media message stored as its typed placeholder (`[image]`, `[document: a.pdf]`)
  followed by any caption;
* a reaction: a system message `[reaction: 👍]` (`[reaction removed]`) replying to the
  message reacted to; an edit: the new text, replying to the message it replaces; a
  deletion ("delete for everyone"): a deleted message replying to the one deleted.
  Each is a message of its own (its own id), so nothing stored is ever rewritten;
* status updates, channels (newsletters), broadcasts and protocol chatter (keys,
  history sync notices): None.

Wrappers (disappearing, view once, document with caption, edited) are looked through.

Ids: a person's handle is their phone number's JID, `<digits>@s.whatsapp.net`, with no
device part (the same person on the phone and on the desktop is one handle). Where
WhatsApp addresses someone by their privacy id (`…@lid`), the phone-number JID it sends
alongside (`SenderAlt`/`RecipientAlt`) is used when there is one. A group is its group
JID (`…@g.us`). The owner is `Me.handle`, and the owner's chat with themselves (the
control chat) has that same id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from twin_core.memory.identity import phone_key
from twin_core.memory.importers.common import placeholder
from twin_core.types import (
    ChannelName,
    ChatId,
    ExternalId,
    HandleId,
    InboundEvent,
    MessageKind,
)

WHATSAPP = ChannelName("whatsapp")
USER_SERVER = "s.whatsapp.net"
LID_SERVER = "lid"
GROUP_SERVER = "g.us"
IGNORED_SERVERS = frozenset({"broadcast", "newsletter"})
"""Status updates and broadcast lists (`status@broadcast`), and channels: not chats."""

REVOKE = 0
MESSAGE_EDIT = 14

# Media fields of a WhatsApp message and the placeholder type each is stored as.
_MEDIA: tuple[tuple[str, str], ...] = (
    ("imageMessage", "image"),
    ("videoMessage", "video"),
    ("ptvMessage", "video"),
    ("audioMessage", "audio"),
    ("documentMessage", "document"),
    ("stickerMessage", "sticker"),
    ("lottieStickerMessage", "sticker"),
    ("locationMessage", "location"),
    ("liveLocationMessage", "location"),
    ("contactMessage", "contact"),
    ("contactsArrayMessage", "contact"),
    ("pollCreationMessage", "poll"),
    ("pollCreationMessageV2", "poll"),
    ("pollCreationMessageV3", "poll"),
    ("eventMessage", "event"),
)
_WRAPPERS = (
    "ephemeralMessage",
    "viewOnceMessage",
    "viewOnceMessageV2",
    "viewOnceMessageV2Extension",
    "documentWithCaptionMessage",
    "editedMessage",
)


@dataclass(frozen=True, slots=True)
class Me:
    """The owner's account as the linked device knows it."""

    phone_jid: str
    """`<digits>@s.whatsapp.net`: the owner's handle, and the control chat's id."""
    lid: str = ""
    """The owner's privacy id (`<digits>@lid`), when known."""
    device: int = 0
    """This linked device's number: a message from it is the twin's own."""
    name: str = ""
    """The owner's WhatsApp profile name: a mention of the owner reads `@<name>`, as
    the phone shows it, not `@<digits>`."""

    @property
    def handle(self) -> HandleId:
        return HandleId(self.phone_jid)


def jid_text(jid: Any) -> str:
    """`user@server` for a neonize JID, without its device; '' for an empty one."""
    if jid is None or not jid.User or not jid.Server:
        return ""
    return f"{jid.User}@{jid.Server}"


def to_jid_parts(chat_id: str) -> tuple[str, str]:
    """`user@server` -> (user, server); a bare number is a user's phone number."""
    user, sep, server = chat_id.rpartition("@")
    return (user, server) if sep else (chat_id.lstrip("+"), USER_SERVER)


def _person(jid: Any, alt: Any, me: Me | None) -> str:
    """A person's handle: the phone-number JID where WhatsApp gives one."""
    text, alt_text = jid_text(jid), jid_text(alt)
    if me is not None and text and text in (me.lid, me.phone_jid):
        return me.phone_jid
    if text.endswith("@" + LID_SERVER) and alt_text.endswith("@" + USER_SERVER):
        return alt_text
    return text


def _unwrap(message: Any) -> Any:
    for _ in range(4):  # wrappers nest at most a few deep
        for field in _WRAPPERS:
            if message.HasField(field) and message.__getattribute__(field).HasField("message"):
                message = getattr(message, field).message
                break
        else:
            return message
    return message


def _context(message: Any) -> Any | None:
    """The `ContextInfo` (quote, mentions) of whatever the message holds."""
    for field in ("extendedTextMessage", *(name for name, _ in _MEDIA)):
        if message.HasField(field):
            part = getattr(message, field)
            if hasattr(part, "contextInfo") and part.HasField("contextInfo"):
                return part.contextInfo
            return None
    return None


def _media(message: Any) -> tuple[str, str] | None:
    """(placeholder, caption) for a media message."""
    for field, kind in _MEDIA:
        if not message.HasField(field):
            continue
        part = getattr(message, field)
        detail = ""
        if field == "documentMessage":
            detail = part.fileName or part.title
        elif field == "audioMessage" and part.PTT:
            kind = "voice note"
        elif field in ("locationMessage", "liveLocationMessage"):
            where = f"{part.degreesLatitude:.5f}, {part.degreesLongitude:.5f}"
            detail = getattr(part, "name", "") or where
        elif field == "contactMessage":
            detail = part.displayName
        elif field.startswith("pollCreation") or field == "eventMessage":
            detail = part.name
        caption = getattr(part, "caption", "") if hasattr(part, "caption") else ""
        return placeholder(kind, detail), caption
    return None


def parse_message(
    event: Any, me: Me | None, *, chat_title: str = "", saved_name: str = ""
) -> InboundEvent | None:
    """`event` (a neonize `MessageEv`) as the twin's `InboundEvent`; None for what is
    not a conversation message (see the module docstring). `saved_name` is the name the
    owner saved the sender under (the one chat exports show), before the sender's own
    profile name."""
    info = event.Info
    source = info.MessageSource
    chat_server = source.Chat.Server
    if not info.ID or not source.Chat.User or chat_server in IGNORED_SERVERS:
        return None
    from_me = bool(source.IsFromMe)
    is_group = bool(source.IsGroup) or chat_server == GROUP_SERVER
    if is_group:
        chat = jid_text(source.Chat)
    else:
        # One to one: the other person's id; the alt is theirs either way round.
        chat = _person(source.Chat, source.RecipientAlt if from_me else source.SenderAlt, me)
    if from_me and me is not None:
        sender = me.phone_jid
    else:
        sender = _person(source.Sender, source.SenderAlt, me) or chat

    message = _unwrap(event.Message)
    kind = MessageKind.TEXT
    reply_to: str | None = None
    raw: dict[str, Any] | None = None
    if message.HasField("conversation") or message.HasField("extendedTextMessage"):
        text = message.conversation or message.extendedTextMessage.text
    elif message.HasField("reactionMessage"):
        reaction = message.reactionMessage
        kind = MessageKind.SYSTEM
        text = placeholder("reaction", reaction.text) if reaction.text else "[reaction removed]"
        reply_to = reaction.key.ID or None
    elif message.HasField("protocolMessage"):
        protocol = message.protocolMessage
        reply_to = protocol.key.ID or None
        if protocol.type == REVOKE and reply_to:
            kind, text = MessageKind.DELETED, placeholder("deleted")
        elif protocol.type == MESSAGE_EDIT and reply_to:
            edited = _unwrap(protocol.editedMessage)
            media = _media(edited)
            text = (
                edited.conversation
                or edited.extendedTextMessage.text
                or (media[1] if media else "")
            )
            raw = {"edit_of": reply_to}
        else:
            return None  # keys, history sync notices, settings: not a message
    else:
        media = _media(message)
        if media is None:
            return None
        label, caption = media
        kind = MessageKind.MEDIA
        text = f"{label}\n{caption}" if caption else label
        raw = {"media": label}

    context = _context(message)
    recipients: tuple[HandleId, ...] = ()
    if context is not None:
        reply_to = reply_to or context.stanzaID or None
        recipients = tuple(
            HandleId(_person(_jid_of(m), None, me)) for m in context.mentionedJID if "@" in m
        )
        if me is not None and me.name:
            for mentioned in context.mentionedJID:
                if _person(_jid_of(mentioned), None, me) == me.phone_jid:
                    text = text.replace("@" + mentioned.partition("@")[0], "@" + me.name)

    identities: tuple[str, ...] = ()
    if not from_me and sender.endswith("@" + USER_SERVER):
        key = phone_key(sender.partition("@")[0])
        identities = (key,) if key else ()

    stamp = int(info.Timestamp)
    if stamp > 10**11:  # milliseconds
        stamp //= 1000
    return InboundEvent(
        channel=WHATSAPP,
        external_id=ExternalId(info.ID),
        chat_id=ChatId(chat),
        sender_id=HandleId(sender),
        sender_name="you" if from_me else (saved_name or info.Pushname or _shown_number(sender)),
        text=text,
        sent_at=datetime.fromtimestamp(stamp, UTC) if stamp > 0 else datetime.now(UTC),
        from_owner=from_me,
        chat_title=chat_title,
        is_group=is_group,
        reply_to=ExternalId(reply_to) if reply_to else None,
        kind=kind,
        raw=json.dumps(raw, ensure_ascii=False) if raw else None,
        recipients=recipients,
        identities=identities,
    )


class _Jid:
    """A JID from its text (mentions come as `user@server` strings)."""

    __slots__ = ("Server", "User")

    def __init__(self, user: str, server: str) -> None:
        self.User, self.Server = user, server


def _jid_of(text: str) -> _Jid:
    user, server = to_jid_parts(text)
    return _Jid(user.partition(":")[0], server)


def _shown_number(handle: str) -> str:
    user, _, server = handle.partition("@")
    return f"+{user}" if server == USER_SERVER else user
