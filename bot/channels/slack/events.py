"""Slack's payloads reduced to `InboundEvent`s: pure functions, tested on recorded
payloads (`tests/channels/payloads/slack/`)."""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

from twin_core.types import ChannelName, ChatId, ExternalId, HandleId, InboundEvent, MessageKind

SLACK = ChannelName("slack")

TEXT_SUBTYPES = frozenset({None, "file_share", "thread_broadcast", "me_message"})
"""Message subtypes that are someone writing; edits, deletions, joins and bots' posts
are not."""


def escape(text: str) -> str:
    """Slack's three control characters (`&`, `<`, `>`) as entities, so a text shows
    as written and no `<!channel>` or `<@U123>` in it notifies anyone."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """What Slack sends back: the entities as the characters they stand for."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def message_id(channel: str, ts: str) -> ExternalId:
    """A message's id: its `ts` is unique only within its conversation."""
    return ExternalId(f"{channel}:{ts}")


def sent_at(ts: str) -> datetime:
    return datetime.fromtimestamp(float(ts), UTC)


def parse_message(
    event: dict[str, Any],
    *,
    owner_id: str,
    bot_user_id: str,
    bot_dm: bool,
    sender_name: str = "",
    identities: tuple[str, ...] = (),
) -> InboundEvent | None:
    """A `message` event as an `InboundEvent`, or None when it is not someone writing
    in a direct message (an edit, a bot's post, the twin's own bot, a channel).

    In the bot's own DM (`bot_dm`) it is addressed to the twin (`to_bot`): the owner's
    control chat, a pairing code, or a stranger. Elsewhere it is the owner's DM or
    group DM with contacts, read through the owner's user token: the owner's own
    messages there are `from_owner`."""
    if event.get("type") != "message" or event.get("subtype") not in TEXT_SUBTYPES:
        return None
    user, channel, ts = event.get("user"), event.get("channel"), event.get("ts")
    if not (isinstance(user, str) and isinstance(channel, str) and isinstance(ts, str)):
        return None
    if event.get("bot_id") or user == bot_user_id:
        return None
    channel_type = event.get("channel_type")
    if channel_type not in ("im", "mpim"):
        return None
    text = event.get("text") or ""
    files = event.get("files") or []
    thread = event.get("thread_ts")
    return InboundEvent(
        channel=SLACK,
        external_id=message_id(channel, ts),
        chat_id=ChatId(channel),
        sender_id=HandleId(user),
        sender_name=sender_name or user,
        text=unescape(text),
        sent_at=sent_at(ts),
        from_owner=user == owner_id and not bot_dm,
        is_group=channel_type == "mpim",
        reply_to=message_id(channel, thread) if isinstance(thread, str) and thread != ts else None,
        kind=MessageKind.MEDIA if files and not text else MessageKind.TEXT,
        to_bot=bot_dm,
        identities=() if user == owner_id else identities,
    )


class Seen:
    """The last `size` ids seen: Slack delivers an event again when it was not
    acknowledged in 3 s, with the same `event_id`."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def first_time(self, key: str) -> bool:
        """True the first time `key` is seen (and remembers it)."""
        if key in self._ids:
            self._ids.move_to_end(key)
            return False
        self._ids[key] = None
        if len(self._ids) > self.size:
            self._ids.popitem(last=False)
        return True
