"""WhatsApp through neonize's real event dispatcher, with no login.

`WhatsAppClient` is neonize's own `NewAClient`; only the calls that would go to
WhatsApp's servers (connect, send, presence, get_me, group info) are replaced, and
they record what they were asked. Events are built as neonize protobufs and fed through
`client.event.execute`, the entry point the Go side calls, from another thread as Go
does (`feed`).
"""

from __future__ import annotations

import asyncio
import ctypes
import itertools
from dataclasses import dataclass, field
from typing import Any

from neonize.aioze.client import NewAClient
from neonize.events import EVENT_TO_INT
from neonize.proto import Neonize_pb2 as pb
from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import Message as E2EMessage

OWNER_NUMBER = "15550001111"
OWNER = f"{OWNER_NUMBER}@s.whatsapp.net"
OWNER_LID = "99887766554433@lid"
TWIN_DEVICE = 7


def jid(text: str, device: int = 0) -> pb.JID:
    user, _, server = text.partition("@")
    return pb.JID(
        User=user,
        Server=server or "s.whatsapp.net",
        Device=device,
        RawAgent=0,
        Integrator=0,
        IsEmpty=False,
    )


@dataclass
class Outgoing:
    """What the client was asked to send, in order."""

    calls: list[tuple[str, Any, Any]] = field(default_factory=list)

    def messages(self) -> list[tuple[str, str]]:
        return [(to, text) for kind, to, text in self.calls if kind == "message"]

    def to(self, chat: str) -> list[str]:
        return [text for to, text in self.messages() if to == chat]


class WhatsAppClient(NewAClient):
    """neonize's client with its network calls captured at the boundary."""

    def __init__(self, name: str, *, me: str = OWNER, linked: bool = True) -> None:
        super().__init__(name)
        self.outgoing = Outgoing()
        self.me_jid = me
        self.linked = linked
        self.refuse: str | None = None
        self.on_connect: list[Any] = []
        """Events fed right after connect() (default: Connected); bytes are QR codes."""
        self.groups: dict[str, str] = {}
        self.contact = SavedContacts()  # type: ignore[assignment]
        self._ids = itertools.count(1)

    async def connect(self, proxy_settings: Any = None) -> asyncio.Future[None]:
        self.loop = asyncio.get_running_loop()
        for event in self.on_connect or [pb.Connected()]:
            if isinstance(event, bytes):  # a QR code, as the Go side reports it
                await self.event._qr(self, event)
            else:
                await feed(self, event)
        self.running: asyncio.Future[None] = self.loop.create_future()
        return self.running  # "runs" until the library gives up

    async def get_me(self) -> pb.Device:
        return pb.Device(JID=jid(self.me_jid, TWIN_DEVICE), LID=jid(OWNER_LID), PushName="Sam")

    async def send_message(self, to: Any, message: Any, *args: Any, **kwargs: Any) -> Any:
        if self.refuse:
            raise RuntimeError(self.refuse)
        text = message if isinstance(message, str) else message.conversation
        self.outgoing.calls.append(("message", f"{to.User}@{to.Server}", text))
        return pb.SendResponse(ID=f"3EB0TWIN{next(self._ids):04d}", Timestamp=1)

    async def send_chat_presence(self, jid: Any, state: Any, media: Any) -> None:
        self.outgoing.calls.append(("presence", f"{jid.User}@{jid.Server}", state.name))

    async def get_group_info(self, jid: Any) -> pb.GroupInfo:
        name = self.groups.get(f"{jid.User}@{jid.Server}")
        if name is None:
            raise RuntimeError("no such group")
        return pb.GroupInfo(GroupName=pb.GroupName(Name=name))

    async def PairPhone(self, phone: str, show_push_notification: bool, *a: Any) -> str:
        self.outgoing.calls.append(("pair_phone", phone, show_push_notification))
        return "ABCD-EFGH"

    async def disconnect(self) -> None:
        self.outgoing.calls.append(("disconnect", "", ""))

    async def stop(self) -> None:
        self.outgoing.calls.append(("stop", "", ""))


class SavedContacts:
    """The phone's address book as neonize's contact store answers for it."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    async def get_contact(self, user: Any) -> pb.ContactInfo:
        name = self.names.get(f"{user.User}@{user.Server}")
        return pb.ContactInfo(Found=name is not None, FullName=name or "")


async def feed(client: NewAClient, event: Any) -> None:
    """Hand `event` to the client's dispatcher as the Go side does: serialized, by
    address and size, from a thread that is not the event loop's."""
    raw = event.SerializePartialToString()  # proto2 'required' fields may be unset
    buffer = ctypes.create_string_buffer(raw, len(raw))
    code = EVENT_TO_INT[type(event)]
    await asyncio.to_thread(client.event.execute, 0, ctypes.addressof(buffer), len(raw), code)
    for _ in range(3):
        await asyncio.sleep(0)


_stamps = itertools.count(1_780_000_000)


def message(
    content: E2EMessage,
    *,
    chat: str,
    sender: str | None = None,
    from_me: bool = False,
    id: str | None = None,
    pushname: str = "",
    device: int = 0,
    group: bool = False,
    sender_alt: str | None = None,
    recipient_alt: str | None = None,
    timestamp: int | None = None,
) -> pb.Message:
    source = pb.MessageSource(
        Chat=jid(chat),
        Sender=jid(sender or (OWNER if from_me else chat), device),
        IsFromMe=from_me,
        IsGroup=group,
    )
    if sender_alt:
        source.SenderAlt.CopyFrom(jid(sender_alt))
    if recipient_alt:
        source.RecipientAlt.CopyFrom(jid(recipient_alt))
    return pb.Message(
        Info=pb.MessageInfo(
            MessageSource=source,
            ID=id or f"3A{next(_stamps):X}",
            Pushname=pushname,
            Timestamp=timestamp or next(_stamps),
        ),
        Message=content,
    )


def text(body: str, **kwargs: Any) -> pb.Message:
    return message(E2EMessage(conversation=body), **kwargs)


class FakeClock:
    """Time that passes only when someone sleeps (the budget, typing presence)."""

    def __init__(self, start: float = 1_780_000_000.0) -> None:
        self.t = start
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds
        await asyncio.sleep(0)
