from __future__ import annotations

from datetime import UTC, datetime

from twin_core.types import ChannelName, ChatId, ExternalId, HandleId, InboundEvent

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def event(
    external_id: str,
    text: str = "hi",
    *,
    sender: str = "alice",
    chat: str = "alice",
    channel: str = "telegram",
    from_owner: bool = False,
    at: datetime = T0,
    **kwargs: object,
) -> InboundEvent:
    """An event as an adapter would report it (defaults: Alice on Telegram)."""
    return InboundEvent(
        channel=ChannelName(channel),
        external_id=ExternalId(external_id),
        chat_id=ChatId(chat),
        sender_id=HandleId(sender),
        sender_name=sender.title(),
        text=text,
        sent_at=at,
        from_owner=from_owner,
        **kwargs,  # type: ignore[arg-type]
    )
