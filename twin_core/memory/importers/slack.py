"""Slack workspace export: a folder (or its .zip) of `users.json`, `channels.json`,
`groups.json`, `dms.json`, `mpims.json` and one folder per conversation holding one
JSON file per day.

Day files are small, so each is read whole; the export as a whole is streamed day by
day. A message's id is `<conversation id>:<ts>` (Slack's `ts` is unique within a
conversation and is what the Web API calls a message by); a thread reply points at
its parent's id. Joins, topic changes and everything a bot or integration posted are
SYSTEM, so they never count as anybody's voice.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from twin_core.memory.importers.common import (
    ExportTree,
    ImportItem,
    ImportProblem,
    media_type_of,
    placeholder,
    require_exists,
)
from twin_core.memory.importers.sniff import not_this_format
from twin_core.types import ChannelName, ChatId, ExternalId, HandleId, InboundEvent, MessageKind

CHANNEL = ChannelName("slack")
EXPECTED = (
    "expected a Slack workspace export: a folder or .zip holding users.json, channels.json "
    "(or dms.json, groups.json, mpims.json) and one folder of YYYY-MM-DD.json files per "
    "conversation"
)
_LISTS = ("channels.json", "groups.json", "dms.json", "mpims.json")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}\.json")
_SYSTEM_SUBTYPES = frozenset(
    (
        "channel_join",
        "channel_leave",
        "channel_topic",
        "channel_purpose",
        "channel_name",
        "channel_archive",
        "channel_unarchive",
        "channel_convert_to_private",
        "channel_convert_to_public",
        "group_join",
        "group_leave",
        "group_topic",
        "group_purpose",
        "group_name",
        "group_archive",
        "group_unarchive",
        "pinned_item",
        "unpinned_item",
        "bot_add",
        "bot_remove",
        "bot_message",
        "bot_enable",
        "bot_disable",
        "reminder_add",
        "reminder_delete",
        "joiner_notification",
        "slackbot_response",
        "app_conversation_join",
    )
)
_DELETED_SUBTYPES = frozenset(("tombstone", "message_deleted"))
_CALL_SUBTYPES = frozenset(("huddle_thread", "sh_room_created", "sh_room_shared"))
_MARKUP = re.compile(r"<([@#!]?)([^<>|]*)(?:\|([^<>]*))?>")


@dataclass(frozen=True, slots=True)
class _Conversation:
    chat_id: ChatId
    folder: str
    title: str
    is_group: bool


def parse_slack(path: Path | str) -> Iterator[ImportItem]:
    """Read a Slack export; raise `NotThisFormat` now if it is not one."""
    path = Path(path)
    require_exists(path)
    tree = ExportTree(path)
    names = set(tree.names())
    if tree.is_single_file or not any(name in names for name in (*_LISTS, "users.json")):
        tree.close()
        raise not_this_format(path, "slack", EXPECTED)
    return _parse(tree)


def _load(tree: ExportTree, name: str) -> Any:
    with tree.open(name) as stream:
        return json.load(stream)


@dataclass(slots=True)
class _People:
    """What users.json says of the workspace's members."""

    names: dict[str, str]
    """User id -> the name shown (real name, else display name, else username)."""
    bots: set[str]
    """User ids of bots and apps: their posts are nobody's voice."""
    aliases: dict[str, set[str]]
    """User id -> every name a person may know themselves by, and their email."""
    emails: dict[str, str]


def _people(tree: ExportTree, problems: list[ImportProblem]) -> _People:
    people = _People({}, set(), {}, {})
    if "users.json" not in tree.names():
        return people
    try:
        users = _load(tree, "users.json")
    except ValueError as error:
        problems.append(
            ImportProblem(None, f"not valid JSON ({error}), names unknown", "users.json")
        )
        return people
    for user in users if isinstance(users, list) else ():
        if not (isinstance(user, dict) and isinstance(user.get("id"), str)):
            continue
        user_id = user["id"]
        profile = user.get("profile")
        profile = profile if isinstance(profile, dict) else {}
        people.names[user_id] = str(
            profile.get("real_name")
            or user.get("real_name")
            or profile.get("display_name")
            or user.get("name")
            or user_id
        )
        if user.get("is_bot") or user.get("is_app_user") or user_id == "USLACKBOT":
            people.bots.add(user_id)
        email = str(profile.get("email") or "").strip().lower()
        if email:
            people.emails[user_id] = email
        people.aliases[user_id] = {
            str(value).strip()
            for value in (
                user_id,
                user.get("name"),
                user.get("real_name"),
                profile.get("real_name"),
                profile.get("display_name"),
                profile.get("display_name_normalized"),
                profile.get("real_name_normalized"),
                email,
            )
            if value and str(value).strip()
        }
    return people


def aliases(path: Path | str) -> dict[str, set[str]]:
    """Every member's id -> the names and email they may know themselves by (`--me`)."""
    with ExportTree(Path(path)) as tree:
        return _people(tree, []).aliases


def _conversations(
    tree: ExportTree, users: dict[str, str], problems: list[ImportProblem]
) -> list[_Conversation]:
    folders = {name.split("/", 1)[0] for name in tree.names() if "/" in name}
    found: list[_Conversation] = []
    for list_name in _LISTS:
        if list_name not in tree.names():
            continue
        try:
            listed = _load(tree, list_name)
        except ValueError as error:
            problems.append(ImportProblem(None, f"not valid JSON ({error}), skipped", list_name))
            continue
        for item in listed if isinstance(listed, list) else ():
            if not isinstance(item, dict) or not item.get("id"):
                continue
            chat_id = ChatId(str(item["id"]))
            members = [users.get(str(m), str(m)) for m in item.get("members") or ()]
            if list_name == "dms.json":
                folder, title, is_group = str(item["id"]), ", ".join(members), False
            elif list_name == "mpims.json":
                folder, title, is_group = str(item.get("name")), ", ".join(members), True
            else:
                folder = str(item.get("name"))
                title, is_group = f"#{folder}", True
            found.append(_Conversation(chat_id, folder, title or folder, is_group))
    # Folders no list mentions (hand-trimmed exports) are still read, named by folder.
    listed_folders = {c.folder for c in found}
    for folder in sorted(folders - listed_folders):
        days = [n for n in tree.names() if n.startswith(folder + "/")]
        if any(_DAY.fullmatch(n.rsplit("/", 1)[-1]) for n in days):
            found.append(_Conversation(ChatId(folder), folder, f"#{folder}", True))
    return found


def _parse(tree: ExportTree) -> Iterator[ImportItem]:
    with tree:
        problems: list[ImportProblem] = []
        people = _people(tree, problems)
        users = people.names
        conversations = _conversations(tree, users, problems)
        yield from problems
        channels = {str(c.chat_id): c.folder for c in conversations if c.title.startswith("#")}
        names = tree.names()
        for conversation in conversations:
            prefix = conversation.folder + "/"
            days = sorted(
                n
                for n in names
                if n.startswith(prefix) and _DAY.fullmatch(n[len(prefix) :]) is not None
            )
            for day in days:
                try:
                    messages = _load(tree, day)
                except (ValueError, UnicodeDecodeError) as error:
                    yield ImportProblem(None, f"not valid JSON ({error}), day skipped", day)
                    continue
                if not isinstance(messages, list):
                    yield ImportProblem(None, "not a list of messages, day skipped", day)
                    continue
                for number, message in enumerate(messages, 1):
                    if not isinstance(message, dict):
                        yield ImportProblem(number, "not a message object, skipped", day)
                        continue
                    yield _event(conversation, message, people, channels, number, day)


def _stamp(ts: str) -> datetime:
    """Slack's `ts` ("1681413317.397479") as an exact aware datetime (no float rounding)."""
    seconds, _, fraction = ts.partition(".")
    micro = int((fraction + "000000")[:6]) if fraction else 0
    return datetime.fromtimestamp(int(seconds), UTC) + timedelta(microseconds=micro)


def render(text: str, users: dict[str, str], channels: dict[str, str] | None = None) -> str:
    """Slack markup as people read it: `<@U1>` -> `@Alice`, `<url|label>` -> `label`."""

    def one(found: re.Match[str]) -> str:
        sigil, target, label = found.group(1), found.group(2), found.group(3)
        if sigil == "@":
            return "@" + (label or users.get(target, target))
        if sigil == "#":
            return "#" + (label or (channels or {}).get(target, target))
        if sigil == "!":
            if label:
                return label
            return "@" + target.split("^", 1)[0]
        return label or target.removeprefix("mailto:")

    return html.unescape(_MARKUP.sub(one, text))


def _files(message: dict[str, Any]) -> list[str]:
    files = message.get("files")
    if not isinstance(files, list):
        single = message.get("file")
        files = [single] if isinstance(single, dict) else []
    labels: list[str] = []
    for file in files:
        if not isinstance(file, dict):
            continue
        name = str(file.get("name") or file.get("title") or "")
        mimetype = str(file.get("mimetype") or "")
        kind = (
            mimetype.split("/", 1)[0] if mimetype.startswith(("image/", "video/", "audio/")) else ""
        )
        kind = kind or media_type_of(name)
        labels.append(placeholder(kind, name if kind == "document" else ""))
    return labels


def _event(
    conversation: _Conversation,
    message: dict[str, Any],
    people: _People,
    channels: dict[str, str],
    number: int,
    where: str,
) -> ImportItem:
    users = people.names
    ts = message.get("ts")
    if not isinstance(ts, str) or not ts.replace(".", "", 1).isdigit():
        return ImportProblem(number, f"message without a valid ts ({ts!r}), skipped", where)
    chat_id = conversation.chat_id
    subtype = message.get("subtype")
    user = message.get("user")
    if subtype == "file_comment" and isinstance(message.get("comment"), dict):
        comment = message["comment"]
        user = comment.get("user", user)
        body = render(str(comment.get("comment", "")), users, channels)
    else:
        body = render(str(message.get("text") or ""), users, channels)
    sender_id = HandleId(str(user or message.get("bot_id") or ""))
    profile = message.get("user_profile")
    profile = profile if isinstance(profile, dict) else {}
    if isinstance(user, str) and user not in users and profile.get("real_name"):
        # Users missing from users.json (left the workspace, other teams) are named by
        # the profile their messages carry, for their mentions too.
        users[user] = str(profile["real_name"])
    bot = message.get("bot_profile")
    bot = bot if isinstance(bot, dict) else {}
    sender_name = users.get(str(user)) or str(
        profile.get("real_name") or message.get("username") or bot.get("name") or sender_id
    )
    labels = [] if subtype == "file_comment" else _files(message)
    raw: str | None = None
    identities: tuple[str, ...] = ()
    bot_post = subtype in ("bot_message", None) and (
        bool(message.get("bot_id")) or subtype == "bot_message" or user in people.bots
    )
    if bot_post:
        # A bot's or integration's post: recorded under the bot's name, with no sender
        # id, so it never becomes a contact the twin answers or a voice it copies.
        kind = MessageKind.SYSTEM
        name = str(bot.get("name") or message.get("username") or users.get(str(user)) or "")
        bot_id = message.get("bot_id")
        sender_id = HandleId("")
        sender_name = name or (f"bot {bot_id}" if bot_id else "a bot")
        text = body or _attachment_text(message, users) or placeholder("bot post")
        raw = json.dumps(message, ensure_ascii=False)
    elif subtype in _SYSTEM_SUBTYPES or message.get("bot_id"):
        # A notice about a person (joined, renamed the channel) is not their words.
        kind = MessageKind.SYSTEM
        text = body or _attachment_text(message, users)
        raw = json.dumps(message, ensure_ascii=False)
        sender_id, sender_name = HandleId(""), ""
    elif subtype in _DELETED_SUBTYPES:
        kind, text = MessageKind.DELETED, placeholder("deleted")
    elif subtype in _CALL_SUBTYPES:
        kind, text = MessageKind.CALL, placeholder("call")
        raw = json.dumps(message, ensure_ascii=False)
    elif labels:
        kind = MessageKind.MEDIA
        # Old exports describe the upload in `text` ("<@U1> uploaded a file: ..."):
        # Slack's words, not the sender's, so only the placeholders are kept.
        own = "" if "file" in message and "files" not in message else body
        text = "\n".join([*labels, own]) if own else "\n".join(labels)
        raw = json.dumps(message, ensure_ascii=False)
    else:
        kind, text = MessageKind.TEXT, body
        if message.get("edited"):
            raw = json.dumps(message, ensure_ascii=False)
    if sender_id and sender_id in people.emails:
        identities = (f"email:{people.emails[sender_id]}",)
    thread = message.get("thread_ts")
    reply_to = None
    if isinstance(thread, str) and thread != ts:
        reply_to = ExternalId(f"{chat_id}:{thread}")
    return InboundEvent(
        channel=CHANNEL,
        external_id=ExternalId(f"{chat_id}:{ts}"),
        chat_id=chat_id,
        sender_id=sender_id,
        sender_name=sender_name,
        text=text,
        sent_at=_stamp(ts),
        chat_title=conversation.title,
        is_group=conversation.is_group,
        reply_to=reply_to,
        kind=kind,
        raw=raw,
        identities=identities,
    )


def _attachment_text(message: dict[str, Any], users: dict[str, str]) -> str:
    parts: list[str] = []
    for attachment in message.get("attachments") or ():
        if isinstance(attachment, dict):
            parts.append(
                render(str(attachment.get("fallback") or attachment.get("text") or ""), users)
            )
    return "\n".join(p for p in parts if p)
