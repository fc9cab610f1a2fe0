"""The WhatsApp channel: the twin as a linked device of the owner's own account.

neonize (whatsmeow underneath) holds the session in a SQLite file in TWIN_HOME, written
by `twin pair whatsapp`. `start()` refuses to show a QR code: an unlinked session, a
logout from the phone, a ban or a second twin on the same session is a
`ChannelAuthError` with one sentence saying what happened and what to do, and the
supervisor does not retry it. Events reach `on_event` through `parse_message`; what the
twin sends goes through the sending budget (`budget.py`) with typing presence first,
except to the owner's own chat.

The twin's own messages never come back as events: a message sent from this linked
device (its device number), or with an id this channel sent, is dropped here, so a
draft card the twin writes in the owner's chat with themselves is not read back as a
command.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.channels.base import ChannelAuthError, EventHandler, SendError
from bot.channels.whatsapp.budget import (
    BudgetLimits,
    Clock,
    KnownChats,
    SendingBudget,
    SystemClock,
)
from bot.channels.whatsapp.normalize import (
    GROUP_SERVER,
    USER_SERVER,
    WHATSAPP,
    Me,
    jid_text,
    parse_message,
    to_jid_parts,
)
from bot.channels.whatsapp.settings import WhatsAppSettings
from twin_core.types import ExternalId, OutboundMessage

log = logging.getLogger("twin.whatsapp")

ClientFactory = Callable[[str], Any]
"""Builds the neonize client for a session file (`NewAClient`); tests give a subclass
that captures what would go to WhatsApp."""

REMEMBERED_IDS = 2000
"""How many ids of the twin's own messages are kept to recognize their echoes."""


def new_client(session: str) -> Any:
    from neonize.aioze.client import NewAClient

    return NewAClient(session)


def session_is_linked(session: Path) -> bool:
    """Whether `session` holds a linked device (written by `twin pair whatsapp`)."""
    if not session.exists() or session.stat().st_size == 0:
        return False
    from neonize.aioze.client import ClientFactory as NeonizeFactory

    return bool(NeonizeFactory.get_all_devices_from_db(str(session)))


def logout_reason(kind: str, reason: str = "", expires: int = 0, now: float = 0.0) -> str:
    """The one sentence the owner reads when WhatsApp ends the session. A ban's
    `expires` is how long it lasts in seconds (whatsmeow's duration), or a time."""
    if kind == "banned":
        until = ""
        if expires > 0:
            end = expires if expires > 10**9 else (now or time.time()) + expires
            until = f" until {datetime.fromtimestamp(end, UTC):%Y-%m-%d %H:%M} UTC"
        why = f" ({reason.lower().replace('_', ' ')})" if reason else ""
        return (
            f"WhatsApp has banned this number from sending{until}{why}. The twin stopped "
            "using WhatsApp; start it again once the ban is over, and lower the sending "
            "budget (TWIN_WHATSAPP_PER_MINUTE, TWIN_WHATSAPP_PER_HOUR)."
        )
    if kind == "replaced":
        return (
            "another program took over this WhatsApp session (a second twin on the same "
            "TWIN_HOME?). Stop the other one, then start this one again."
        )
    if kind == "outdated":
        return (
            "WhatsApp refuses this client version: upgrade neonize "
            "(pip install -U 'twin[whatsapp]') and start again."
        )
    why = f" ({reason.lower().replace('_', ' ')})" if reason else ""
    return (
        f"WhatsApp logged the twin out{why}: it was unlinked from the phone, or the phone's "
        "account is gone. Run `twin pair whatsapp` to link it again."
    )


# Failures reported by ConnectFailure / LoggedOut that no reconnect can mend.
_FINAL_REASONS = {
    "LOGGED_OUT": "logged_out",
    "MAIN_DEVICE_GONE": "logged_out",
    "UNKNOWN_LOGOUT": "logged_out",
    "TEMP_BANNED": "banned",
    "CLIENT_OUTDATED": "outdated",
    "BAD_USER_AGENT": "outdated",
}


class WhatsAppChannel:
    def __init__(
        self,
        settings: WhatsAppSettings,
        session: Path,
        *,
        client_factory: ClientFactory = new_client,
        is_linked: Callable[[Path], bool] = session_is_linked,
        clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.name = WHATSAPP
        self.settings = settings
        self.session = session
        self._client_factory = client_factory
        self._is_linked = is_linked
        self.clock: Clock = clock or SystemClock()
        self.rng = rng or random.Random()
        self.budget = SendingBudget(
            BudgetLimits(
                per_minute=settings.per_minute,
                per_hour=settings.per_hour,
                new_chats_per_day=settings.new_chats_per_day,
                max_wait_s=settings.max_wait_s,
                gap_s=settings.gap_s,
                jitter=settings.jitter,
            ),
            clock=self.clock,
            rng=self.rng,
            known=KnownChats(session.parent / "known_chats.json"),
        )
        self.client: Any = None
        self.me: Me | None = None
        self._on_event: EventHandler | None = None
        self._connected: asyncio.Event = asyncio.Event()
        self._ended: asyncio.Future[None] | None = None
        self._sent_ids: OrderedDict[str, None] = OrderedDict()
        self._group_titles: dict[str, str] = {}
        self._saved_names: dict[str, str] = {}
        self.handled = 0
        """WhatsApp messages taken from neonize so far (handed on or dropped)."""
        self._closing: asyncio.Future[None] | None = None
        self._running: asyncio.Future[Any] | None = None
        """neonize's connection task: it ends only when the library gives up."""
        self.gone = ""
        """Why the session ended for good (logged out, banned); nothing is sent after."""

    # -- lifecycle --------------------------------------------------------------------

    async def start(self, on_event: EventHandler) -> None:
        if not await asyncio.to_thread(self._is_linked, self.session):
            raise ChannelAuthError(
                f"WhatsApp is not linked yet (no session in {self.session}): run "
                "`twin pair whatsapp` and scan the code with your phone"
            )
        from neonize.aioze import events as neonize_events

        loop = asyncio.get_running_loop()
        # neonize hands the Go side's callbacks to one module-wide loop: this one.
        neonize_events.event_global_loop = loop
        self._on_event = on_event
        self._running = None
        self.gone = ""
        self._connected = asyncio.Event()
        self._ended = loop.create_future()
        client = self._client_factory(str(self.session))
        self.client = client
        self._register(client)
        connecting = await client.connect()
        connected = asyncio.ensure_future(self._connected.wait())
        waiters: list[asyncio.Future[Any]] = [connected, self._ended]
        if isinstance(connecting, asyncio.Future):
            self._running = connecting
            waiters.append(connecting)
        done, _ = await asyncio.wait(
            waiters, timeout=self.settings.connect_timeout_s, return_when=asyncio.FIRST_COMPLETED
        )
        connected.cancel()
        if self._ended.done():
            self._ended.result()  # raises the ChannelAuthError that ended it
        if not self._connected.is_set():
            if isinstance(connecting, asyncio.Future) and connecting in done:
                error = connecting.exception()
                raise ConnectionError(f"WhatsApp connection ended: {error}")
            raise ConnectionError(
                f"WhatsApp did not connect within {self.settings.connect_timeout_s:.0f} s"
            )
        await self._learn_me()

    def _register(self, client: Any) -> None:
        from neonize.aioze.events import (
            ClientOutdatedEv,
            ConnectedEv,
            ConnectFailureEv,
            LoggedOutEv,
            MessageEv,
            StreamReplacedEv,
            TemporaryBanEv,
        )
        from neonize.proto.Neonize_pb2 import ConnectFailureReason, TemporaryBan

        async def connected(_: Any, event: Any) -> None:
            self._connected.set()

        async def message(_: Any, event: Any) -> None:
            # neonize runs this as a detached coroutine: nothing would see it fail.
            try:
                await self.receive(event)
            except Exception:
                log.exception("a WhatsApp message could not be handled")
            finally:
                self.handled += 1

        async def logged_out(_: Any, event: Any) -> None:
            self._end(logout_reason("logged_out", ConnectFailureReason.Name(event.Reason)))

        async def banned(_: Any, event: Any) -> None:
            reasons = TemporaryBan.TempBanReason
            reason = reasons.Name(event.Code) if event.Code in reasons.values() else ""
            self._end(logout_reason("banned", reason, int(event.Expire)))

        async def failed(_: Any, event: Any) -> None:
            reason = ConnectFailureReason.Name(event.Reason)
            kind = _FINAL_REASONS.get(reason)
            if kind is not None:
                self._end(logout_reason(kind, reason))
            else:
                log.warning("WhatsApp refused the connection: %s %s", reason, event.Message)

        async def replaced(_: Any, event: Any) -> None:
            self._end(logout_reason("replaced"))

        async def outdated(_: Any, event: Any) -> None:
            self._end(logout_reason("outdated"))

        async def unexpected_qr(_: Any, data: bytes) -> None:
            # A QR code during `twin run` means the session is no longer linked.
            self._end(
                "WhatsApp asks to link this device again (the session in "
                f"{self.session} is no longer valid): run `twin pair whatsapp`."
            )

        client.event(ConnectedEv)(connected)
        client.event(MessageEv)(message)
        client.event(LoggedOutEv)(logged_out)
        client.event(TemporaryBanEv)(banned)
        client.event(ConnectFailureEv)(failed)
        client.event(StreamReplacedEv)(replaced)
        client.event(ClientOutdatedEv)(outdated)
        client.event.qr(unexpected_qr)

    def _end(self, why: str) -> None:
        """The session is over for good: say it once, and end `wait_closed`."""
        self.gone = self.gone or why
        if self._ended is not None and not self._ended.done():
            # Said once, by the supervisor (terminal, control chat, /status).
            log.debug("whatsapp: %s", why)
            self._ended.set_exception(ChannelAuthError(why))
            if self.client is not None:
                # Stop the library's own reconnecting (and any further QR codes).
                self._closing = asyncio.ensure_future(self._disconnect(self.client))

    @staticmethod
    async def _disconnect(client: Any) -> None:
        try:
            await client.disconnect()
        except Exception as exc:
            log.debug("disconnecting after the session ended: %s", exc)

    async def _learn_me(self) -> None:
        device = await self.client.get_me()
        phone = jid_text(device.JID)
        if not phone:
            raise ChannelAuthError(
                "WhatsApp connected but did not say whose account this is; "
                "run `twin pair whatsapp` again"
            )
        self.me = Me(
            phone_jid=phone,
            lid=jid_text(device.LID),
            device=int(device.JID.Device),
            name=str(device.PushName),
        )

    async def wait_closed(self) -> None:
        """Until stopped, or the session ended for good (`ChannelAuthError`), or the
        library's connection ended by itself (`ConnectionError`: connect again)."""
        if self._ended is None:
            return
        waiters: list[asyncio.Future[Any]] = [self._ended]
        if self._running is not None:
            waiters.append(self._running)
        # asyncio.wait cancels none of them, whoever cancels this.
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        if self._ended.done():
            self._ended.result()
            return
        running = self._running
        error = running.exception() if running is not None and not running.cancelled() else None
        raise ConnectionError(f"the WhatsApp connection ended: {error or 'closed'}")

    async def stop(self) -> None:
        client, self.client = self.client, None
        self._on_event = None
        if self._ended is not None and not self._ended.done():
            self._ended.set_result(None)
        running, self._running = self._running, None
        if running is not None and not running.done():
            running.cancel()  # neonize tells its Go side to stop
        if client is not None:
            with contextlib.suppress(Exception):
                await client.disconnect()
            with contextlib.suppress(Exception):
                await client.stop()

    # -- inbound ----------------------------------------------------------------------

    async def receive(self, raw: Any) -> None:
        """One neonize `MessageEv`: the twin's own echoes dropped, the rest normalized
        and handed on."""
        if self._on_event is None:
            return
        source = raw.Info.MessageSource
        if raw.Info.ID in self._sent_ids:
            return
        me = self.me
        if (
            source.IsFromMe
            and me is not None
            and me.device
            and int(source.Sender.Device) == me.device
        ):
            return  # sent by this linked device: the twin's own message
        title = ""
        if source.Chat.Server == GROUP_SERVER:
            title = await self._group_title(source.Chat)
        name = "" if source.IsFromMe else await self._saved_name(source)
        event = parse_message(raw, me, chat_title=title, saved_name=name)
        if event is None:
            return
        own_chat = me is not None and event.chat_id == me.phone_jid
        if not own_chat and event.chat_id not in self.budget.known:
            # The chat now talks with this number: answering it starts nothing new.
            await asyncio.to_thread(self.budget.known.add, [event.chat_id])
        await self._on_event(event)

    async def _saved_name(self, source: Any) -> str:
        """The name the owner saved this sender under in the phone's address book."""
        sender = source.SenderAlt if source.Sender.Server == "lid" else source.Sender
        key = jid_text(sender)
        if not key or self.client is None:
            return ""
        if key not in self._saved_names:
            try:
                info = await self.client.contact.get_contact(self._jid(key))
            except Exception as exc:
                log.debug("no saved name for %s: %s", key, exc)
                return ""
            self._saved_names[key] = str(info.FullName or info.FirstName) if info.Found else ""
        return self._saved_names[key]

    async def _group_title(self, chat: Any) -> str:
        key = jid_text(chat)
        if key not in self._group_titles and self.client is not None:
            try:
                info = await self.client.get_group_info(chat)
                self._group_titles[key] = str(info.GroupName.Name)
            except Exception as exc:
                log.debug("no name for group %s: %s", key, exc)
                return ""
        return self._group_titles.get(key, "")

    # -- outbound ---------------------------------------------------------------------

    def _jid(self, chat_id: str) -> Any:
        from neonize.proto.Neonize_pb2 import JID

        user, server = to_jid_parts(chat_id)
        return JID(User=user, Server=server, RawAgent=0, Device=0, Integrator=0, IsEmpty=False)

    async def send(self, message: OutboundMessage) -> ExternalId:
        client = self.client
        if self.gone:
            raise SendError(self.gone)
        if client is None:
            raise SendError("WhatsApp is not connected")
        jid = self._jid(message.chat_id)
        own_chat = self.me is not None and message.chat_id == self.me.phone_jid
        if own_chat:
            return await self._send_now(jid, message.text)
        async with self.budget.turn(message.chat_id):
            await self._type(jid, message.text)
            return await self._send_now(jid, message.text)

    async def _type(self, jid: Any, text: str) -> None:
        """Show "typing…" for about as long as a person would take to type `text`."""
        from neonize.utils.enum import ChatPresence, ChatPresenceMedia

        s = self.settings
        seconds = min(s.typing_max_s, max(s.typing_min_s, len(text) / s.typing_chars_per_s))
        seconds *= 1.0 + self.rng.uniform(-0.25, 0.25) * min(1.0, s.jitter)
        media = ChatPresenceMedia.CHAT_PRESENCE_MEDIA_TEXT
        try:
            await self.client.send_chat_presence(jid, ChatPresence.CHAT_PRESENCE_COMPOSING, media)
            await self.clock.sleep(seconds)
            await self.client.send_chat_presence(jid, ChatPresence.CHAT_PRESENCE_PAUSED, media)
        except SendError:
            raise
        except Exception as exc:  # presence is a courtesy: its failure stops no message
            log.debug("typing presence failed: %s", exc)

    async def _send_now(self, jid: Any, text: str) -> ExternalId:
        try:
            response = await self.client.send_message(jid, text)
        except Exception as exc:
            raise SendError(f"WhatsApp did not take the message: {exc}") from exc
        external_id = str(response.ID)
        if not external_id:
            raise SendError("WhatsApp took the message but gave it no id")
        self._sent_ids[external_id] = None
        while len(self._sent_ids) > REMEMBERED_IDS:
            self._sent_ids.popitem(last=False)
        return ExternalId(external_id)

    def status_lines(self) -> list[str]:
        """The sending budget and what it held back, for `/status`."""
        return self.budget.describe()


def user_jid(number: str) -> str:
    """The chat id of a phone number (`+351 912…` -> `351912…@s.whatsapp.net`)."""
    digits = "".join(c for c in number if c.isdigit())
    return f"{digits}@{USER_SERVER}"
