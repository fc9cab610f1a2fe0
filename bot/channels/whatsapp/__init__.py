"""WhatsApp through neonize: the twin as a linked device of the owner's own number.

`make_channel` for `twin run`, `pair` for `twin pair whatsapp`, `doctor` for
`twin doctor`. See docs/channels/whatsapp.md.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.channels.whatsapp.budget import BudgetLimits, HeldBack, SendingBudget
from bot.channels.whatsapp.channel import WhatsAppChannel, session_is_linked
from bot.channels.whatsapp.normalize import WHATSAPP, Me, parse_message
from bot.channels.whatsapp.settings import WhatsAppSettings
from twin_core.settings import Settings, load_section

__all__ = [
    "WHATSAPP",
    "BudgetLimits",
    "HeldBack",
    "Me",
    "SendingBudget",
    "WhatsAppChannel",
    "WhatsAppSettings",
    "doctor",
    "make_channel",
    "pair",
    "parse_message",
]


def make_channel(settings: Settings) -> WhatsAppChannel:
    whatsapp = load_section(WhatsAppSettings, settings)
    return WhatsAppChannel(whatsapp, whatsapp.session_path(settings))


async def pair(settings: Settings, say: Callable[[str], None]) -> str:
    """Link the twin to the owner's account; the owner's chat with themselves becomes
    the control chat unless the control chat is already on another platform."""
    from bot.channels.whatsapp.pairing import link

    whatsapp = load_section(WhatsAppSettings, settings)
    me = await link(
        whatsapp.session_path(settings),
        say,
        phone=whatsapp.phone,
        timeout_s=whatsapp.pair_timeout_s,
    )
    return await asyncio.to_thread(record_owner, settings, me)


def record_owner(settings: Settings, me: Me) -> str:
    """Make `me` the owner on WhatsApp (and their own chat the control chat when the
    control chat is not on another platform already); the sentence to show."""
    from bot.app import open_store
    from bot.handlers.owner import OwnerIdentity

    store = open_store(settings)
    try:
        identity = OwnerIdentity(settings, store)
        current = identity.control_chat().channel
        control = current in ("console", str(WHATSAPP))
        identity.link(WHATSAPP, me.phone_jid, me.phone_jid, control=control)
    finally:
        store.close()
    number = "+" + me.phone_jid.partition("@")[0]
    where = (
        "your chat with yourself (Message yourself) is the control chat"
        if control
        else f"the control chat stays on {current}"
    )
    return (
        f"Linked: the twin is a device of {number}; {where}. Start it with "
        "TWIN_CHANNELS='[\"whatsapp\"]' twin run."
    )


async def doctor(settings: Settings) -> list[str]:
    whatsapp = load_section(WhatsAppSettings, settings)
    session = whatsapp.session_path(settings)
    if not await asyncio.to_thread(session_is_linked, session):
        return [f"not linked (no session in {session}): run `twin pair whatsapp`"]
    return []
