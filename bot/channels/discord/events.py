"""Discord's messages reduced to `InboundEvent`s (pure: no network), and its markup."""

from __future__ import annotations

import re

import discord

from twin_core.types import (
    ChannelName,
    ChatId,
    ExternalId,
    HandleId,
    InboundEvent,
    MessageKind,
)

DISCORD = ChannelName("discord")


def escape(text: str) -> str:
    """Markdown shown as typed (`*`, `_`, `` ` ``, `~`, `|`, `>`, `#`, links); mentions
    never ping anyone whatever the text says, because every send carries
    `AllowedMentions.none()`."""
    return discord.utils.escape_markdown(text)


def parse_message(message: discord.Message, bot_id: int) -> InboundEvent | None:
    """A message as an `InboundEvent`, or None when the twin is not addressed.

    Discord forbids automating user accounts, so the twin sees only what is sent to
    its bot: a DM to the bot (`to_bot`: the owner's control chat, a pairing code, or a
    stranger) or a server message that mentions the bot by name, which is a contact
    writing to the owner through it. Bots (the twin's own included) are ignored, and so
    are server messages that do not mention the bot (or mention it only through
    @everyone or a role)."""
    author = message.author
    if author.bot or author.id == bot_id:
        return None
    if message.type not in (discord.MessageType.default, discord.MessageType.reply):
        return None
    # A server channel the client has not cached is a PartialMessageable with a guild id.
    direct = message.guild is None and getattr(message.channel, "guild_id", None) is None
    if not direct and not any(user.id == bot_id for user in message.mentions):
        return None
    text = readable(message, bot_id)
    kind = MessageKind.MEDIA if message.attachments and not text else MessageKind.TEXT
    if kind is MessageKind.MEDIA:
        text = ", ".join(a.filename for a in message.attachments)
    reference = message.reference
    title = ""
    if not direct:
        channel_name = getattr(message.channel, "name", "") or ""
        guild = message.guild.name if message.guild is not None else ""
        title = f"#{channel_name} ({guild})" if channel_name else guild
    return InboundEvent(
        channel=DISCORD,
        external_id=ExternalId(str(message.id)),
        chat_id=ChatId(str(message.channel.id)),
        sender_id=HandleId(str(author.id)),
        sender_name=author.display_name,
        text=text,
        sent_at=message.created_at,
        is_group=not direct,
        chat_title=title,
        reply_to=(
            ExternalId(str(reference.message_id))
            if reference is not None and reference.message_id is not None
            else None
        ),
        kind=kind,
        to_bot=direct,
    )


def readable(message: discord.Message, bot_id: int) -> str:
    """The text without the mention of the bot that addressed it, other people's
    mentions as `@name`."""
    text = re.sub(rf"<@!?{bot_id}>", "", message.content)
    for user in message.mentions:
        text = re.sub(rf"<@!?{user.id}>", f"@{user.display_name}", text)
    return re.sub(r"[ \t]{2,}", " ", text).strip()
