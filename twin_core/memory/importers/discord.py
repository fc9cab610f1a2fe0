"""DiscordChatExporter JSON: one file per channel (DM, group DM, server channel, thread).

A file is `{"guild", "channel", "dateRange", "exportedAt", "messages": [...]}`; an
export of several channels is a folder (or .zip) of such files. Messages are streamed
one at a time. Discord's ids are global snowflakes, so a message's id is its own and
a reply's `reference.messageId` is the id it answers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

import ijson  # type: ignore[import-untyped]

from twin_core.memory.importers.common import (
    ExportTree,
    ImportItem,
    ImportProblem,
    content_id,
    json_first_key,
    json_records,
    local_zone,
    media_type_of,
    placeholder,
    require_exists,
)
from twin_core.memory.importers.sniff import not_this_format
from twin_core.types import ChannelName, ChatId, ExternalId, HandleId, InboundEvent, MessageKind

CHANNEL = ChannelName("discord")
EXPECTED = (
    "expected a DiscordChatExporter JSON export (a file starting with "
    '{"guild": ..., "channel": ..., "messages": [...]}, or a folder or .zip of them)'
)
_CHAT_FIELDS = (
    "guild.id",
    "guild.name",
    "channel.id",
    "channel.type",
    "channel.name",
    "channel.category",
)
_TEXT_TYPES = frozenset(("Default", "Reply", "ThreadStarterMessage"))
_DIRECT = "DirectTextChat"


def parse_discord(path: Path | str, *, tz: tzinfo | None = None) -> Iterator[ImportItem]:
    """Read a DiscordChatExporter export; raise `NotThisFormat` now if it is not one.

    `tz` only reads timestamps written without an offset (DiscordChatExporter writes
    offsets; hand-made files may not).
    """
    path = Path(path)
    require_exists(path)
    tree = ExportTree(path)
    names = [n for n in tree.names() if tree.is_single_file or n.lower().endswith(".json")]
    if not names:
        tree.close()
        raise not_this_format(path, "discord", EXPECTED)
    with tree.open(names[0]) as stream:
        try:
            first = json_first_key(stream)
        except ValueError as error:
            tree.close()
            raise not_this_format(path, "discord", EXPECTED) from error
    if first != "guild":
        tree.close()
        raise not_this_format(path, "discord", EXPECTED)
    return _parse(tree, names, tz or local_zone())


def _parse(tree: ExportTree, names: list[str], zone: tzinfo) -> Iterator[ImportItem]:
    with tree:
        for name in names:
            with tree.open(name) as stream:
                try:
                    first = json_first_key(stream)
                except ValueError:
                    first = ""
            if first != "guild":
                yield ImportProblem(None, "not a DiscordChatExporter file, skipped", name)
                continue
            yield from _parse_file(tree, name, zone)


def _parse_file(tree: ExportTree, name: str, zone: tzinfo) -> Iterator[ImportItem]:
    count = 0
    fallback = ""
    with tree.open(name) as stream:
        try:
            for chat, record in json_records(stream, "messages.item", "", _CHAT_FIELDS):
                count += 1
                if not isinstance(record, dict):
                    yield ImportProblem(None, f"message {count} is not an object, skipped", name)
                    continue
                if not chat.get("channel.id"):
                    # Hand-trimmed files without the channel's id: the channel is known
                    # by its names, else by its first message (never by the file name,
                    # which a browser or the user may change).
                    fallback = fallback or content_id(
                        "dc-",
                        str(chat.get("guild.name") or ""),
                        str(chat.get("channel.name") or ""),
                        "" if chat.get("channel.name") else str(record.get("id") or ""),
                    )
                    chat = {**chat, "channel.id": fallback}
                yield _event(chat, record, zone, name)
        except ijson.JSONError as error:
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            yield ImportProblem(
                None, f"the JSON breaks off after message {count} ({reason}); rest skipped", name
            )


def _stamp(value: object, zone: tzinfo) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=zone)


def _title(chat: dict[str, object]) -> str:
    channel = str(chat.get("channel.name") or "")
    if chat.get("channel.type") in (_DIRECT, "DirectGroupTextChat"):
        return channel
    guild = str(chat.get("guild.name") or "")
    return f"{guild} #{channel}" if guild else f"#{channel}"


_NOTICES = {
    "RecipientAdd": "{actor} added {target} to the group",
    "RecipientRemove": "{actor} removed {target} from the group",
    "ChannelNameChange": "{actor} renamed the channel to {content}",
    "ChannelIconChange": "{actor} changed the channel's icon",
    "ChannelPinnedMessage": "{actor} pinned a message",
    "GuildMemberJoin": "{actor} joined the server",
    "ThreadCreated": "{actor} started a thread: {content}",
    "UserPremiumGuildSubscription": "{actor} boosted the server",
    "ChannelFollowAdd": "{actor} followed a channel: {content}",
    "AutoModerationAction": "AutoMod acted on a message of {actor}",
}
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def system_text(message_type: str, actor: str, content: str, record: dict[str, Any]) -> str:
    """A Discord notice as a sentence: `eli renamed the channel to plans`."""
    mentions = record.get("mentions")
    target = ""
    if isinstance(mentions, list) and mentions and isinstance(mentions[0], dict):
        target = str(mentions[0].get("nickname") or mentions[0].get("name") or "")
    if message_type in ("RecipientAdd", "RecipientRemove"):
        target = target or content
    actor = actor or "someone"
    if message_type == "RecipientRemove" and (not target or target == actor):
        return f"{actor} left the group"
    template = _NOTICES.get(message_type)
    if template is not None and (content or "{content}" not in template):
        return template.format(actor=actor, target=target or "someone", content=content)
    words = _CAMEL.sub(" ", message_type).lower()
    return f"{actor}: {words}: {content}" if content else f"{actor}: {words}"


def aliases(path: Path | str) -> dict[str, set[str]]:
    """Every author's id -> the username, nickname and `name#discriminator` they may know
    themselves by (`--me`). Reads the whole export, one message at a time."""
    found: dict[str, set[str]] = {}
    with ExportTree(Path(path)) as tree:
        for name in tree.names():
            if not (tree.is_single_file or name.lower().endswith(".json")):
                continue
            with tree.open(name) as stream:
                try:
                    for author in ijson.items(stream, "messages.item.author"):
                        if not isinstance(author, dict) or not author.get("id"):
                            continue
                        known = found.setdefault(str(author["id"]), {str(author["id"])})
                        for key in ("name", "nickname"):
                            if author.get(key):
                                known.add(str(author[key]))
                        if author.get("name") and author.get("discriminator") not in (
                            None,
                            "",
                            "0000",
                        ):
                            known.add(f"{author['name']}#{author['discriminator']}")
                except ijson.JSONError:
                    continue
    return found


def _attachments(record: dict[str, Any]) -> list[str]:
    labels: list[str] = []
    for attachment in record.get("attachments") or ():
        if isinstance(attachment, dict):
            file_name = str(attachment.get("fileName") or attachment.get("url") or "")
            kind = media_type_of(file_name)
            labels.append(placeholder(kind, file_name if kind == "document" else ""))
    for sticker in record.get("stickers") or ():
        if isinstance(sticker, dict):
            labels.append(placeholder("sticker", str(sticker.get("name", ""))))
    return labels


def _event(chat: dict[str, object], record: dict[str, Any], zone: tzinfo, where: str) -> ImportItem:
    message_id = record.get("id")
    stamp = _stamp(record.get("timestamp"), zone)
    if not message_id:
        return ImportProblem(None, "a message without an id, skipped", where)
    if stamp is None:
        shown = str(record.get("timestamp"))[:40]
        return ImportProblem(None, f"message {message_id}: unreadable timestamp {shown!r}", where)
    author = record.get("author")
    author = author if isinstance(author, dict) else {}
    sender_id = HandleId(str(author.get("id") or ""))
    sender_name = str(author.get("nickname") or author.get("name") or "")
    content = str(record.get("content") or "")
    message_type = str(record.get("type") or "Default")
    labels = _attachments(record)
    raw: str | None = None
    if message_type == "Call":
        kind = MessageKind.CALL
        ended = _stamp(record.get("callEndedTimestamp"), zone)
        seconds = round((ended - stamp).total_seconds()) if ended is not None else None
        text = placeholder("call", f"{seconds} s" if seconds is not None else "")
    elif message_type not in _TEXT_TYPES:
        # Joins, pins, renames, boosts: Discord's notices, told in words, with nobody as
        # their sender (whoever caused one is named in its text).
        kind = MessageKind.SYSTEM
        text = system_text(message_type, sender_name, content, record)
        sender_id, sender_name = HandleId(""), ""
    elif author.get("isBot"):
        # A bot's words are nobody's voice: kept under the bot's name, with no sender id,
        # so the bot never becomes a contact the twin answers.
        kind = MessageKind.SYSTEM
        text = "\n".join([content, *labels]) if content else "\n".join(labels)
        text = text or placeholder("bot post")
        sender_id, sender_name = HandleId(""), sender_name or "a bot"
    elif labels:
        kind = MessageKind.MEDIA
        text = "\n".join([*labels, content]) if content else "\n".join(labels)
    else:
        kind = MessageKind.TEXT
        text = content
    if labels or record.get("timestampEdited") or kind is MessageKind.SYSTEM:
        raw = json.dumps(record, ensure_ascii=False, default=str)
    reference = record.get("reference")
    reply_to = None
    if isinstance(reference, dict) and reference.get("messageId"):
        reply_to = ExternalId(str(reference["messageId"]))
    return InboundEvent(
        channel=CHANNEL,
        external_id=ExternalId(str(message_id)),
        chat_id=ChatId(str(chat.get("channel.id"))),
        sender_id=sender_id,
        sender_name=sender_name,
        text=text,
        sent_at=stamp,
        chat_title=_title(chat),
        is_group=chat.get("channel.type") != _DIRECT,
        reply_to=reply_to,
        kind=kind,
        raw=raw,
    )
