"""A real Twin on the WhatsApp channel, with neonize's own client and event dispatcher;
only the calls that would reach WhatsApp are captured (tests/support/whatsapp.py)."""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from neonize.proto import Neonize_pb2 as pb
from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import ContextInfo, ExtendedTextMessage
from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import Message as E2EMessage

from bot.app import Twin
from bot.channels.base import ChannelState, SendError
from bot.channels.whatsapp import WhatsAppChannel, WhatsAppSettings
from bot.channels.whatsapp.budget import HeldBack
from tests.support.harness import SEED_T0
from tests.support.settings import make_settings
from tests.support.whatsapp import (
    OWNER,
    TWIN_DEVICE,
    FakeClock,
    WhatsAppClient,
    feed,
    text,
)
from tests.support.whatsapp import message as wrap
from twin_core.memory.embed import Embedder
from twin_core.memory.models import DraftStatus
from twin_core.settings import load_section
from twin_core.types import (
    ChannelName,
    ChatId,
    DraftId,
    ExternalId,
    HandleId,
    InboundEvent,
    OutboundMessage,
)

ALICE = "351912345678@s.whatsapp.net"
BOB = "351934567890@s.whatsapp.net"
TOO_MANY_PEOPLE = pb.TemporaryBan.TempBanReason.Value("SEND_TO_TOO_MANY_PEOPLE")
DEVICE_GONE = pb.ConnectFailureReason.Value("MAIN_DEVICE_GONE")


@dataclass
class WA:
    twin: Twin
    channel: WhatsAppChannel
    clients: list[WhatsAppClient]
    clock: FakeClock
    _seen: int = field(default=0)

    @property
    def client(self) -> WhatsAppClient:
        return self.clients[-1]

    async def feed(self, *events: Any) -> None:
        """Events through neonize's dispatcher; returns once the twin has handled them."""
        target = self.channel.handled + sum(isinstance(e, pb.Message) for e in events)
        for event in events:
            await feed(self.client, event)
        for _ in range(500):
            if self.channel.handled >= target:
                break
            await asyncio.sleep(0.01)
        await self.twin.idle()

    async def contact_says(self, chat: str, body: str, name: str = "Alice", **kw: Any) -> None:
        await self.feed(text(body, chat=chat, pushname=name, **kw))

    async def owner_types(self, body: str, *, chat: str = OWNER, **kw: Any) -> list[str]:
        """The owner writes from the phone; returns what the twin then wrote to them."""
        self.control()
        await self.feed(text(body, chat=chat, sender=OWNER, from_me=True, device=0, **kw))
        return self.control()

    def seed(self, chat: str, name: str, *turns: tuple[bool, str]) -> None:
        """Past exchanges with `chat` (`(True, text)` is the owner's), indexed, so the
        twin has replies of the owner's to draft from."""
        events = [
            InboundEvent(
                channel=ChannelName("whatsapp"),
                external_id=ExternalId(f"seed-{chat}-{n}"),
                chat_id=ChatId(chat),
                sender_id=HandleId(OWNER if mine else chat),
                sender_name="you" if mine else name,
                text=body,
                sent_at=SEED_T0 + timedelta(minutes=n),
                from_owner=mine,
            )
            for n, (mine, body) in enumerate(turns)
        ]
        self.twin.memory.record_many(events)
        self.twin.memory.index()

    def control(self) -> list[str]:
        """What the twin wrote in the owner's chat with themselves since the last call."""
        said = self.client.outgoing.to(OWNER)
        new, self._seen = said[self._seen :], len(said)
        return new


Factory = Callable[..., Any]


@pytest.fixture
async def make_wa(tmp_path: Path, embedder: Embedder) -> AsyncIterator[Factory]:
    started: list[Twin] = []

    async def make(
        *,
        linked: bool = True,
        home: Path | None = None,
        on_connect: list[Any] | None = None,
        **budget: Any,
    ) -> WA:
        settings = make_settings(
            home or tmp_path / "home",
            control_chat=f"whatsapp:{OWNER}",
            owner_handles={"whatsapp": [OWNER]},
        )
        clients: list[WhatsAppClient] = []

        def factory(session: str) -> WhatsAppClient:
            client = WhatsAppClient(session)
            client.on_connect = list(on_connect or [])
            clients.append(client)
            return client

        clock = FakeClock()
        wa_settings = load_section(WhatsAppSettings, settings, **budget)
        channel = WhatsAppChannel(
            wa_settings,
            wa_settings.session_path(settings),
            client_factory=factory,
            is_linked=lambda path: linked,
            clock=clock,
            rng=random.Random(3),
        )
        twin = Twin(settings, [channel], embedder=embedder)
        await twin.start()
        started.append(twin)
        return WA(twin, channel, clients, clock)

    yield make
    for twin in reversed(started):
        await twin.stop()


async def test_a_message_gets_a_numbered_draft_in_the_owners_own_chat_and_approval_sends_it(
    make_wa: Factory,
) -> None:
    wa = await make_wa()
    wa.seed(ALICE, "Alice", (False, "are we on for saturday?"), (True, "yes, see you at 8!"))
    await wa.contact_says(ALICE, "are we still on for friday?")
    [card] = wa.control()
    assert "Alice" in card and "/approve 1" in card
    [draft] = wa.twin.store.drafts.with_status()
    assert draft.status == DraftStatus.PENDING

    answer = await wa.owner_types("/approve 1")
    assert any("Sent" in line or "sent" in line for line in answer)
    [reply] = wa.client.outgoing.to(ALICE)
    assert reply == draft.text
    # Typing first, then the message: what a person's phone shows.
    to_alice = [(kind, what) for kind, to, what in wa.client.outgoing.calls if to == ALICE]
    assert to_alice == [
        ("presence", "CHAT_PRESENCE_COMPOSING"),
        ("presence", "CHAT_PRESENCE_PAUSED"),
        ("message", reply),
    ]
    assert any(1.0 <= s <= 8.0 * 1.25 for s in wa.clock.sleeps)  # typing time
    assert wa.twin.store.drafts.get(draft.id).status == DraftStatus.SENT


async def test_the_twins_own_messages_in_the_owners_chat_are_not_read_back_as_commands(
    make_wa: Factory,
) -> None:
    wa = await make_wa()
    wa.seed(ALICE, "Alice", (False, "lunch today?"), (True, "sure, 1pm works"))
    await wa.contact_says(ALICE, "lunch tomorrow?")
    wa.control()
    commands_before = len(wa.twin.store.audit.entries(action="command"))
    # The same text, as WhatsApp would show the twin's own message to this device:
    # sent from the twin's device number, or carrying an id the twin sent.
    echo_from_device = text("/approve 1", chat=OWNER, from_me=True, device=TWIN_DEVICE)
    sent_id = wa.client.outgoing.calls and next(
        iter(wa.channel._sent_ids)  # the id of the draft card the twin wrote
    )
    echo_by_id = text("/approve 1", chat=OWNER, from_me=True, device=0, id=str(sent_id))
    await wa.feed(echo_from_device, echo_by_id)
    assert wa.client.outgoing.to(ALICE) == []
    assert wa.control() == []
    assert len(wa.twin.store.audit.entries(action="command")) == commands_before
    [draft] = wa.twin.store.drafts.with_status()
    assert draft.status == DraftStatus.PENDING


async def test_what_the_owner_writes_from_the_phone_is_theirs_and_expires_the_draft(
    make_wa: Factory,
) -> None:
    wa = await make_wa()
    wa.seed(ALICE, "Alice", (False, "can you talk?"), (True, "give me 5 minutes"))
    await wa.contact_says(ALICE, "can you call me?")
    [draft] = wa.twin.store.drafts.with_status()
    await wa.owner_types("calling you now", chat=ALICE)
    assert wa.twin.store.drafts.get(draft.id).status == DraftStatus.EXPIRED
    conversation = wa.twin.store.conversations.get(draft.conversation_id)
    messages = wa.twin.store.messages.in_conversation(conversation.id, limit=10)
    [mine] = [m for m in messages if m.external_id.startswith("3A") and m.from_owner]
    assert mine.text == "calling you now" and mine.contact_id is None
    assert wa.client.outgoing.to(ALICE) == []


async def test_only_the_owner_commands_in_the_owners_chat(make_wa: Factory) -> None:
    wa = await make_wa()
    # Someone else's message can never be in the owner's chat with themselves; if a
    # forged one claimed to be, it is refused, never run.
    await wa.feed(text("/pause", chat=OWNER, sender=ALICE, pushname="Mallory"))
    [answer] = wa.control()
    assert "not the owner" in answer
    assert wa.twin.store.state.get("paused") != "1"


async def test_status_shows_the_sending_budget_and_what_it_held_back(make_wa: Factory) -> None:
    wa = await make_wa(per_minute=1, max_wait_s=0)
    wa.seed(ALICE, "Alice", (False, "hello"), (True, "hey! how are you?"))
    wa.seed(BOB, "Bob", (False, "hi"), (True, "hi Bob, what's up?"))
    await wa.contact_says(ALICE, "hello?")
    await wa.contact_says(BOB, "hi there", name="Bob")
    assert len(wa.twin.store.drafts.with_status()) == 2
    await wa.owner_types("/approve 1")
    [answer] = await wa.owner_types("/approve 2")
    assert answer.startswith("Draft 2 approved; it waits for Bob: held back by the WhatsApp")
    assert re.search(r"frees up in \d\d s \(sent then\)\.$", answer)
    assert wa.client.outgoing.to(ALICE) != [] and wa.client.outgoing.to(BOB) == []
    [status] = await wa.owner_types("/status")
    assert "whatsapp: connected" in status
    assert "whatsapp budget: 1/1 this minute" in status
    assert "1 held for later" in status and "frees up" in status

    # Held, not lost: still approved, with a job to send it when the budget frees up.
    assert wa.twin.store.drafts.get(2).status == DraftStatus.APPROVED
    [job] = [j for j in wa.twin.store.jobs.pending() if j.name == "send_draft"]
    assert job.args == [2]
    wait = (job.run_at - datetime.now(UTC)).total_seconds()
    assert 50 < wait <= 61
    wa.clock.t += 61  # what the job finds when it runs
    outcome = await wa.twin.outbox.deliver(DraftId(2))
    assert outcome.sent and len(wa.client.outgoing.to(BOB)) == 1


async def test_the_twin_does_not_start_new_chats_in_bulk(make_wa: Factory) -> None:
    wa = await make_wa(new_chats_per_day=0)
    stranger = OutboundMessage(
        ChannelName("whatsapp"), ChatId("4915112345678@s.whatsapp.net"), "hi"
    )
    with pytest.raises(HeldBack, match="never wrote to you"):
        await wa.channel.send(stranger)
    assert issubclass(HeldBack, SendError)
    # A chat that wrote first is answered.
    await wa.contact_says(ALICE, "hey")
    await wa.channel.send(OutboundMessage(ChannelName("whatsapp"), ChatId(ALICE), "hey you"))
    assert wa.client.outgoing.to(ALICE) == ["hey you"]


async def test_a_contacts_number_joins_them_with_the_same_person_from_an_export(
    make_wa: Factory, tmp_path: Path, cli: Any
) -> None:
    home = tmp_path / "home"
    export = tmp_path / "WhatsApp Chat with +351 912 345 678.txt"
    export.write_text(
        "15/08/2025, 09:12 - +351 912 345 678: are we still on for Friday?\n"
        "15/08/2025, 09:13 - Sam: yes! 8pm\n",
        encoding="utf-8",
    )
    result = cli("import", "whatsapp", str(export), "--me", "Sam", env={"TWIN_HOME": str(home)})
    assert result.exit_code == 0, result.output
    wa = await make_wa(home=home)
    [imported] = wa.twin.store.contacts.all()
    wa.client.contact.names[ALICE] = "Alice Martins"  # saved in the phone
    await wa.contact_says(ALICE, "see you friday", name="Alice M.")
    [handle] = [h for h in wa.twin.store.contacts.handles(imported.id) if "@" in h.external_id]
    assert handle.display_name == "Alice Martins"  # the owner's name for her, not hers
    assert wa.twin.store.contacts.all() == [imported]
    messages = list(wa.twin.store.messages.iter_after(0))
    assert len(messages) == 3
    assert {m.contact_id for m in messages if not m.from_owner} == {imported.id}


async def test_a_group_message_is_recorded_with_the_groups_name(make_wa: Factory) -> None:
    wa = await make_wa()
    group = "120363025246125888@g.us"
    wa.client.groups[group] = "Climbing crew"
    await wa.feed(
        text("who's in for saturday?", chat=group, sender=ALICE, group=True, pushname="Alice")
    )
    [message] = list(wa.twin.store.messages.iter_after(0))
    conversation = wa.twin.store.conversations.get(message.conversation_id)
    assert conversation is not None and conversation.external_id == group
    assert conversation.is_group and conversation.title == "Climbing crew"
    assert message.text == "who's in for saturday?" and message.contact_id is not None
    assert wa.control() == []  # a group message that does not mention the owner
    mention = E2EMessage(
        extendedTextMessage=ExtendedTextMessage(
            text="@15550001111 are you coming?", contextInfo=ContextInfo(mentionedJID=[OWNER])
        )
    )
    await wa.feed(wrap(mention, chat=group, sender=ALICE, group=True, pushname="Alice"))
    [card] = wa.control()
    assert "@Sam are you coming?" in card


async def test_an_unlinked_session_fails_once_with_what_to_do(make_wa: Factory) -> None:
    wa = await make_wa(linked=False)
    health = wa.twin.supervisor.health["whatsapp"]
    assert health.state is ChannelState.FAILED
    assert "twin pair whatsapp" in health.last_error
    assert wa.clients == []  # it never even tried to connect (no QR in `twin run`)


@pytest.mark.parametrize(
    ("event", "says"),
    [
        (pb.LoggedOut(Reason=pb.ConnectFailureReason.Value("LOGGED_OUT")), "logged the twin out"),
        (
            pb.TemporaryBan(
                Code=pb.TemporaryBan.TempBanReason.Value("SEND_TO_TOO_MANY_PEOPLE"),
                Expire=1_790_000_000,
            ),
            "banned this number from sending until 2026-",
        ),
        (pb.StreamReplaced(), "another program took over"),
        (
            pb.ConnectFailure(Reason=pb.ConnectFailureReason.Value("MAIN_DEVICE_GONE")),
            "logged the twin out",
        ),
    ],
)
async def test_logged_out_or_banned_fails_for_good_with_one_clear_message(
    make_wa: Factory, event: Any, says: str, caplog: pytest.LogCaptureFixture
) -> None:
    wa = await make_wa()
    await wa.feed(event)
    for _ in range(200):
        if wa.twin.supervisor.health["whatsapp"].state is ChannelState.FAILED:
            break
        await asyncio.sleep(0.01)
    health = wa.twin.supervisor.health["whatsapp"]
    assert health.state is ChannelState.FAILED and says in health.last_error
    await asyncio.sleep(0.05)
    assert len(wa.clients) == 1, "no reconnect loop"
    said = [r.getMessage() for r in caplog.records if says in r.getMessage()]
    assert len(said) == 2, "the terminal is told, once (and that the owner could not be)"
    assert ("disconnect", "", "") in wa.client.outgoing.calls  # no library reconnects
    # The owner's chat is on WhatsApp itself, which is gone: the audit log keeps it.
    entries = wa.twin.store.audit.entries(action="owner_not_told")
    assert any(says in e.subject for e in entries)


async def test_a_qr_code_during_run_means_the_session_is_gone(make_wa: Factory) -> None:
    wa = await make_wa(on_connect=[b"2@qr-data"])
    health = wa.twin.supervisor.health["whatsapp"]
    assert health.state is ChannelState.FAILED and "twin pair whatsapp" in health.last_error


async def test_when_the_library_gives_up_the_connection_the_channel_connects_again(
    make_wa: Factory,
) -> None:
    wa = await make_wa()
    first = wa.client
    first.running.set_exception(RuntimeError("websocket closed"))
    for _ in range(300):
        if len(wa.clients) == 2 and wa.twin.supervisor.health["whatsapp"].state is (
            ChannelState.CONNECTED
        ):
            break
        await asyncio.sleep(0.01)
    assert len(wa.clients) == 2 and ("stop", "", "") in first.outgoing.calls
    assert wa.twin.supervisor.health["whatsapp"].state is ChannelState.CONNECTED
    await wa.contact_says(ALICE, "still there?")
    assert [m.text for m in wa.twin.store.messages.iter_after(0)] == ["still there?"]
