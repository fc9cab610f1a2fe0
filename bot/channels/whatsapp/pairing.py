"""`twin pair whatsapp`: link the twin as a device of the owner's own account.

The terminal shows a QR code to scan from the phone (WhatsApp > Linked devices > Link a
device), or, with `TWIN_WHATSAPP_PHONE`, an 8-character code to type there instead
("Link with phone number"). The session is kept in TWIN_HOME, so `twin run` later
connects without a scan. Once linked, the owner's number is recorded as the owner on
WhatsApp and, unless the control chat is already on another platform, the owner's chat
with themselves becomes the control chat.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.channels.base import ChannelAuthError
from bot.channels.whatsapp import channel as whatsapp_channel
from bot.channels.whatsapp.channel import ClientFactory, logout_reason
from bot.channels.whatsapp.normalize import Me, jid_text

log = logging.getLogger("twin.whatsapp")

Say = Callable[[str], None]


def qr_text(data: bytes) -> str:
    """The QR code for `data`, drawn with block characters for a terminal."""
    import segno

    out = io.StringIO()
    segno.make_qr(data).terminal(out=out, compact=True)
    return out.getvalue()


async def link(
    session: Path,
    say: Say,
    *,
    phone: str | None = None,
    timeout_s: float = 180.0,
    client_factory: ClientFactory | None = None,
) -> Me:
    """Connect with the session in `session`, showing a QR code (or, with `phone`, a
    pairing code) until the phone links it; returns whose account it is. An already
    linked session just connects. Raises `ChannelAuthError` saying why it failed."""
    from neonize.aioze import events as neonize_events
    from neonize.aioze.events import (
        ConnectedEv,
        ConnectFailureEv,
        LoggedOutEv,
        PairStatusEv,
        TemporaryBanEv,
    )
    from neonize.proto.Neonize_pb2 import ConnectFailureReason, PairStatus

    session.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    loop = asyncio.get_running_loop()
    neonize_events.event_global_loop = loop
    done: asyncio.Future[None] = loop.create_future()
    client = (client_factory or whatsapp_channel.new_client)(str(session))
    codes_shown = 0

    def finish(error: str | None = None) -> None:
        if not done.done():
            if error is None:
                done.set_result(None)
            else:
                done.set_exception(ChannelAuthError(error))

    async def on_qr(_: Any, data: bytes) -> None:
        nonlocal codes_shown
        codes_shown += 1
        if phone:
            if codes_shown == 1:
                code = await client.PairPhone(phone, True)
                say(
                    f"On your phone: WhatsApp > Linked devices > Link a device > "
                    f"Link with phone number instead, and type: {code}"
                )
            return
        say(
            (
                "Scan this with your phone: WhatsApp > Linked devices > Link a device"
                if codes_shown == 1
                else "A new code (the last one expired):"
            )
            + "\n"
            + qr_text(data)
        )

    async def on_pair(_: Any, event: Any) -> None:
        if event.Status != PairStatus.PStatus.Value("SUCCESS"):
            finish(f"the phone did not link the twin: {event.Error or 'refused'}")
        else:
            say("Linked; finishing the first sync…")

    async def on_connected(_: Any, event: Any) -> None:
        finish()

    async def on_logged_out(_: Any, event: Any) -> None:
        finish(logout_reason("logged_out", ConnectFailureReason.Name(event.Reason)))

    async def on_failure(_: Any, event: Any) -> None:
        finish(
            f"WhatsApp refused the connection: {ConnectFailureReason.Name(event.Reason)}"
            + (f" ({event.Message})" if event.Message else "")
        )

    async def on_ban(_: Any, event: Any) -> None:
        finish(logout_reason("banned", "", int(event.Expire)))

    client.event.qr(on_qr)
    client.event(PairStatusEv)(on_pair)
    client.event(ConnectedEv)(on_connected)
    client.event(LoggedOutEv)(on_logged_out)
    client.event(ConnectFailureEv)(on_failure)
    client.event(TemporaryBanEv)(on_ban)
    try:
        await client.connect()
        try:
            await asyncio.wait_for(asyncio.shield(done), timeout_s)
        except TimeoutError:
            raise ChannelAuthError(
                f"the phone did not link the twin within {timeout_s:.0f} s; run "
                "`twin pair whatsapp` again (TWIN_WHATSAPP_PAIR_TIMEOUT_S waits longer)"
            ) from None
        await asyncio.to_thread(_owner_only, session)
        device = await client.get_me()
        phone_jid = jid_text(device.JID)
        if not phone_jid:
            raise ChannelAuthError("WhatsApp linked, but did not say whose account it is")
        return Me(
            phone_jid=phone_jid,
            lid=jid_text(device.LID),
            device=int(device.JID.Device),
            name=str(device.PushName),
        )
    finally:
        for step in (client.disconnect, client.stop):
            try:
                await step()
            except Exception as exc:
                log.debug("closing the pairing client: %s", exc)


def _owner_only(session: Path) -> None:
    """The session holds the keys to the owner's account: readable by them alone."""
    if session.exists():
        session.chmod(0o600)
