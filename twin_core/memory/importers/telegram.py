"""Telegram Desktop "Export chat history" / "Export Telegram data" JSON (`result.json`).

Two layouts: one chat (`{"name", "type", "id", "messages": [...]}`) and the whole
account (`{"personal_information", "chats": {"list": [chat, ...]}, "left_chats": ...}`).
Both are streamed with ijson, one message in memory at a time, so a multi-gigabyte
account export imports in constant memory.

Message ids are unique per chat only, so a message's id is `<chat id>:<message id>`,
with the chat id as the Bot API writes it (`-100…` for supergroups and channels),
the id the live Telegram channel sees. Exports from minimal tools that drop ids get
content-derived ids instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

import ijson  # type: ignore[import-untyped]

from twin_core.memory.importers.common import (
    ExportTree,
    ImportItem,
    ImportProblem,
    RepeatCounter,
    content_id,
    json_first_key,
    json_records,
    local_zone,
    placeholder,
    require_exists,
)
from twin_core.memory.importers.sniff import not_this_format
from twin_core.types import ChannelName, ChatId, ExternalId, HandleId, InboundEvent, MessageKind

CHANNEL = ChannelName("telegram")
EXPECTED = (
    "expected a Telegram Desktop JSON export: the result.json of 'Export chat history' "
    "(one chat) or of 'Export Telegram data' (the whole account), or its folder or .zip"
)
_SINGLE_KEYS = frozenset(("name", "type", "id", "messages"))
_ACCOUNT_KEYS = frozenset(
    ("about", "personal_information", "chats", "left_chats", "contacts", "profile_pictures")
)
_PRIVATE_TYPES = frozenset(("personal_chat", "bot_chat", "saved_messages"))
_CHANNEL_TYPES = frozenset(
    ("private_supergroup", "public_supergroup", "private_channel", "public_channel")
)
_MEDIA_TYPES = {
    "sticker": "sticker",
    "voice_message": "voice",
    "video_message": "video",
    "video_file": "video",
    "animation": "gif",
    "audio_file": "audio",
}


def parse_telegram(path: Path | str, *, tz: tzinfo | None = None) -> Iterator[ImportItem]:
    """Read a Telegram export; raise `NotThisFormat` now if it is not one.

    `tz` reads the naive `date` of old exports that lack `date_unixtime` (default:
    this machine's zone, the one Telegram Desktop wrote them in).
    """
    path = Path(path)
    require_exists(path)
    tree = ExportTree(path)
    try:
        name = _locate(tree)
        with tree.open(name) as stream:
            first = json_first_key(stream)
    except ValueError as error:
        tree.close()
        raise not_this_format(path, "telegram", EXPECTED) from error
    if first in _SINGLE_KEYS:
        layout = "single"
    elif first in _ACCOUNT_KEYS:
        layout = "account"
    else:
        tree.close()
        raise not_this_format(path, "telegram", EXPECTED)
    return _parse(tree, name, layout, tz or local_zone())


def account_owner(path: Path | str) -> HandleId | None:
    """The exporting user's id in a whole-account export (its `personal_information`)."""
    path = Path(path)
    with ExportTree(path) as tree, tree.open(_locate(tree)) as stream:
        try:
            for prefix, kind, value in ijson.parse(stream):
                if prefix == "personal_information.user_id":
                    return HandleId(str(value))
                if prefix == "" and kind == "map_key" and value in ("chats", "messages"):
                    # It comes first when there is one: no need to read the messages.
                    return None
        except ijson.JSONError:
            return None
    return None


def _locate(tree: ExportTree) -> str:
    names = tree.names()
    if tree.is_single_file:
        return names[0]
    results = sorted((n for n in names if n.rsplit("/", 1)[-1] == "result.json"), key=len)
    if not results:
        raise ValueError("no result.json in it")
    return results[0]


def _parse(tree: ExportTree, name: str, layout: str, zone: tzinfo) -> Iterator[ImportItem]:
    aliases: tuple[tuple[str, str], ...] = ()
    if layout == "single":
        records, context = "messages.item", ""
    else:
        records, context = "chats.list.item.messages.item", "chats.list.item"
        aliases = (("left_chats.", "chats."),)
    repeats = RepeatCounter()
    count = 0
    fallback = ""
    with tree, tree.open(name) as stream:
        try:
            for chat, record in json_records(
                stream, records, context, ("name", "type", "id"), aliases
            ):
                count += 1
                if not isinstance(record, dict):
                    yield ImportProblem(None, f"message {count} is not an object, skipped", name)
                    continue
                if "id" not in chat and "name" not in chat:
                    # A chat with neither id nor name (exports of minimal tools) is
                    # known by its first message, never by the file's name.
                    fallback = fallback or content_id(
                        "tg-", str(record.get("date")), str(record.get("from")), str(record)
                    )
                    chat = {**chat, "id": fallback}
                yield _event(chat, record, zone, repeats, name)
        except ijson.JSONError as error:
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            yield ImportProblem(
                None, f"the JSON breaks off after message {count} ({reason}); rest skipped", name
            )


def _chat_id(chat: dict[str, object]) -> ChatId:
    """The chat id as the Bot API (and so the live channel) writes it."""
    raw_id = chat.get("id")
    kind = chat.get("type")
    if isinstance(raw_id, int):
        if kind in _CHANNEL_TYPES:
            return ChatId(f"-100{raw_id}")
        if kind == "private_group":
            return ChatId(f"-{raw_id}")
        return ChatId(str(raw_id))
    if isinstance(raw_id, str) and raw_id:
        return ChatId(raw_id)
    return ChatId(str(chat.get("name") or "telegram"))


def _handle(raw_id: object, name: str) -> HandleId:
    if isinstance(raw_id, int):
        return HandleId(str(raw_id))
    if isinstance(raw_id, str):
        if raw_id.startswith("user") and raw_id[4:].isdigit():
            return HandleId(raw_id[4:])
        if raw_id.startswith("channel") and raw_id[7:].isdigit():
            return HandleId(f"-100{raw_id[7:]}")
        return HandleId(raw_id)
    return HandleId(name)


def _text(value: object) -> str:
    """`text` is a string, or a list of strings and entity objects (`{"type", "text"}`)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts: list[str] = []
        for part in value:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict):
                parts.append(str(part.get("text", "")))
        return "".join(parts)
    return ""


def _stamp(record: dict[str, Any], zone: tzinfo) -> datetime | None:
    unix = record.get("date_unixtime")
    if isinstance(unix, str | int) and str(unix).isdigit():
        return datetime.fromtimestamp(int(unix), UTC)
    date = record.get("date")
    if isinstance(date, str):
        try:
            parsed = datetime.fromisoformat(date)
        except ValueError:
            return None
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=zone)
    return None


def _media(record: dict[str, Any]) -> str | None:
    """The placeholder for a message's media, or None when it has none."""
    if "photo" in record:
        return placeholder("image")
    media_type = record.get("media_type")
    if isinstance(media_type, str):
        label = _MEDIA_TYPES.get(media_type, "document")
        detail = str(record.get("sticker_emoji", "")) if label == "sticker" else ""
        return placeholder(label, detail)
    if "file" in record:
        file_name = record.get("file_name") or str(record["file"]).rsplit("/", 1)[-1]
        return placeholder("document", str(file_name))
    contact = record.get("contact_information")
    if isinstance(contact, dict):
        name = " ".join(str(contact.get(k, "")) for k in ("first_name", "last_name")).strip()
        return placeholder("contact", name)
    if "location_information" in record:
        return placeholder("location", str(record.get("place_name", "")))
    poll = record.get("poll")
    if isinstance(poll, dict):
        return placeholder("poll", str(poll.get("question", "")))
    return None


def _service_text(record: dict[str, Any]) -> str:
    action = str(record.get("action", "service")).replace("_", " ")
    actor = str(record.get("actor") or "")
    details = [str(record[k]) for k in ("title", "message_id") if record.get(k) is not None]
    members = record.get("members")
    if isinstance(members, list):
        details.append(", ".join(str(m) for m in members))
    line = f"{actor} {action}".strip()
    return f"{line}: {' '.join(details)}" if details else line


def _event(
    chat: dict[str, object],
    record: dict[str, Any],
    zone: tzinfo,
    repeats: RepeatCounter,
    where: str,
) -> ImportItem:
    chat_id = _chat_id(chat)
    title = str(
        chat.get("name") or ("Saved Messages" if chat.get("type") == "saved_messages" else "")
    )
    stamp = _stamp(record, zone)
    message_id = record.get("id")
    if stamp is None:
        return ImportProblem(
            None, f"message {message_id} in {title!r} has no readable date, skipped", where
        )
    service = record.get("type") == "service"
    raw: str | None = None
    if service:
        sender_name = str(record.get("actor") or "")
        sender_id = _handle(record.get("actor_id"), sender_name)
        if record.get("action") in ("phone_call", "group_call"):
            kind = MessageKind.CALL
            seconds = record.get("duration_seconds")
            detail = (
                f"{seconds} s" if seconds is not None else str(record.get("discard_reason", ""))
            )
            text = placeholder("call", detail)
        else:
            kind = MessageKind.SYSTEM
            text = _service_text(record)
            sender_id, sender_name = HandleId(""), ""
        raw = json.dumps(record, ensure_ascii=False, default=str)
    else:
        sender_name = str(record.get("from") or "Deleted Account")
        sender_id = _handle(record.get("from_id"), sender_name)
        text = _text(record.get("text"))
        media = _media(record)
        if media is not None:
            kind = MessageKind.MEDIA
            text = f"{media}\n{text}" if text else media
        else:
            kind = MessageKind.TEXT
        if media is not None or "edited" in record or "forwarded_from" in record:
            raw = json.dumps(record, ensure_ascii=False, default=str)
    if isinstance(message_id, int):
        external_id = ExternalId(f"{chat_id}:{message_id}")
    else:
        second = stamp.isoformat()
        number = repeats.next(second, (chat_id, sender_id, text))
        external_id = content_id("tg:", chat_id, second, sender_id, text, str(number))
    reply = record.get("reply_to_message_id")
    return InboundEvent(
        channel=CHANNEL,
        external_id=external_id,
        chat_id=chat_id,
        sender_id=sender_id,
        sender_name=sender_name,
        text=text,
        sent_at=stamp,
        chat_title=title,
        is_group="type" in chat and chat["type"] not in _PRIVATE_TYPES,
        reply_to=ExternalId(f"{chat_id}:{reply}") if isinstance(reply, int) else None,
        kind=kind,
        raw=raw,
    )
