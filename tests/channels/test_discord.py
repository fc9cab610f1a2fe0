"""The Discord channel: discord.py against a fake REST API and gateway on 127.0.0.1,
driving a real Twin. Gateway payloads travel over the fake's websocket and are parsed
by the client's own connection state."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import discord
import pytest
from discord.gateway import DiscordWebSocket
from sqlmodel import Session, select

from bot.app import Twin
from bot.channels.base import ChannelAuthError
from bot.channels.discord import DiscordChannel, DiscordSettings
from bot.channels.discord.events import escape
from bot.channels.fake import FakeChannel
from tests.support.fake_discord import (
    BOT_ID,
    OWNER_ID,
    TOKEN,
    FakeDiscord,
    fake_discord,
    interaction,
    message,
    user,
)
from tests.support.harness import SEED_T0
from tests.support.history import HISTORY
from tests.support.settings import make_settings
from twin_core.memory.embed import Embedder
from twin_core.memory.models import AuditEntry, Message

CONTROL = "5550042"
SERVER_CHANNEL, GUILD = "8001", "6001"
ALICE = user("77", "alice")
BOT = user(BOT_ID, "twinbot", bot=True)


@dataclass
class Live:
    fake: FakeDiscord
    twin: Twin
    channel: DiscordChannel

    def stored(self) -> list[Message]:
        with Session(self.twin.store.engine) as session:
            found = session.exec(select(Message).order_by(Message.id)).all()  # type: ignore[arg-type]
        return [m for m in found if not m.external_id.startswith("seed")]


@pytest.fixture
def endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    """discord.py keeps its endpoints process-wide: put them back after the test."""
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", DiscordWebSocket.DEFAULT_GATEWAY)


def config(fake: FakeDiscord, token: str = TOKEN) -> DiscordSettings:
    return DiscordSettings(
        token=token,  # type: ignore[arg-type]
        api_url=fake.api_url,
        gateway_url=fake.gateway_url,
    )


async def started(fake: FakeDiscord, home: Path, embedder: Embedder, **settings: object) -> Live:
    channel = DiscordChannel(config(fake))
    values: dict[str, object] = {
        "control_chat": f"discord:{CONTROL}",
        "owner_handles": {"discord": [OWNER_ID]},
        **settings,
    }
    twin = Twin(make_settings(home, **values), [channel], embedder=embedder)
    await twin.start()
    return Live(fake, twin, channel)


@pytest.fixture
async def live(tmp_path: Path, embedder: Embedder, endpoints: None) -> AsyncIterator[Live]:
    async with fake_discord(dms={OWNER_ID: CONTROL}) as fake:
        running = await started(fake, tmp_path, embedder)
        try:
            yield running
        finally:
            await running.twin.stop()


def seed(live: Live) -> None:
    """Sam's past exchanges with Alice in the server channel where she writes."""
    fake = FakeChannel("discord")
    live.twin.memory.record_many(
        [
            fake.event(
                OWNER_ID if who == "me" else "77",
                text,
                chat=SERVER_CHANNEL,
                name="alice",
                from_owner=who == "me",
                external_id=f"seed-{number}",
                sent_at=SEED_T0 + timedelta(minutes=number),
            )
            for number, (who, text) in enumerate(HISTORY["alice"])
        ]
    )
    live.twin.memory.index()


def mention(text: str, message_id: str) -> dict[str, object]:
    return message(
        message_id, SERVER_CHANNEL, ALICE, f"<@{BOT_ID}> {text}", guild=GUILD, mentions=[BOT]
    )


async def test_a_mention_becomes_a_card_a_button_sends_the_reply_there(live: Live) -> None:
    seed(live)
    await live.fake.dispatch(
        "MESSAGE_CREATE", mention("hey, are we still on for dinner friday?", "9101")
    )
    [card] = await live.fake.wait(lambda: live.fake.posted(CONTROL))
    assert "Draft 1 for alice" in card["content"]
    assert card["allowed_mentions"] == {"parse": []}  # nobody is ever pinged
    buttons = card["components"][0]["components"]
    assert [b["custom_id"] for b in buttons] == [
        "twin:/approve 1",
        "twin:/edit 1",
        "twin:/reject 1",
        "twin:/why 1",
    ]
    assert [b["label"] for b in buttons] == ["Approve", "Edit", "Reject", "Why"]
    assert live.fake.posted(SERVER_CHANNEL) == []
    [stored] = live.stored()
    assert stored.text == "hey, are we still on for dinner friday?"  # the mention is gone

    live.fake.rate_limited = 1  # Discord says: slow down, once
    card_payload = message("5001", CONTROL, BOT, card["content"])
    await live.fake.dispatch(
        "INTERACTION_CREATE",
        interaction(
            "4001",
            CONTROL,
            user(OWNER_ID, "sam"),
            kind=3,
            data={"custom_id": "twin:/approve 1", "component_type": 2},
            card=card_payload,
        ),
    )
    [reply] = await live.fake.wait(lambda: live.fake.posted(SERVER_CHANNEL))
    draft = live.twin.store.drafts.with_status(limit=10)[0]
    assert reply["content"] == escape(draft.text)
    assert reply["message_reference"]["message_id"] == 9101  # in answer to Alice's message
    assert live.fake.served_429 == 1
    [(_, _, answered)] = [c for c in live.fake.calls if c[1].startswith("interactions/4001")]
    assert answered["type"] == 7 and answered["data"]["components"] == []  # one press per card
    await live.fake.wait(
        lambda: any("Sent to alice" in m["content"] for m in live.fake.posted(CONTROL))
    )
    assert len(live.fake.posted(SERVER_CHANNEL)) == 1  # retried, not repeated


async def test_a_duplicate_is_recorded_once_and_chatter_not_at_all(live: Live) -> None:
    payload = mention("are you around?", "9201")
    await live.fake.dispatch("MESSAGE_CREATE", payload)
    await live.fake.dispatch("MESSAGE_CREATE", payload)
    # Server chatter that does not address the bot is not read at all.
    chatter = message("9301", SERVER_CHANNEL, ALICE, "lunch anyone?", guild=GUILD)
    everyone = {**chatter, "id": "9302", "content": "@everyone lunch?", "mention_everyone": True}
    await live.fake.dispatch("MESSAGE_CREATE", chatter)
    await live.fake.dispatch("MESSAGE_CREATE", everyone)
    await live.fake.dispatch("MESSAGE_CREATE", mention("one more", "9202"))
    await live.fake.wait(lambda: len(live.stored()) == 2)
    await live.twin.idle()
    assert sorted(m.external_id for m in live.stored()) == ["9201", "9202"]


async def test_a_strangers_command_is_refused_and_the_owners_slash_command_runs(
    live: Live,
) -> None:
    eve = user("66", "eve")
    await live.fake.dispatch("MESSAGE_CREATE", message("9401", "5550066", eve, "/approve 1"))
    [answer] = await live.fake.wait(lambda: live.fake.posted("5550066"))
    assert "private assistant" in answer["content"]
    assert live.fake.posted(CONTROL) == []
    with Session(live.twin.store.engine) as session:
        refused = session.exec(select(AuditEntry).where(AuditEntry.action == "refused")).all()
    assert [r.actor for r in refused] == ["discord:66"]
    assert live.stored() == []

    # The owner's /twin (an application command) runs in the control chat.
    await live.fake.dispatch(
        "INTERACTION_CREATE",
        interaction(
            "4101",
            CONTROL,
            user(OWNER_ID, "sam"),
            kind=2,
            data={
                "id": "3001",
                "name": "twin",
                "type": 1,
                "options": [{"name": "command", "type": 3, "value": "status"}],
            },
        ),
    )
    [answer] = await live.fake.wait(lambda: live.fake.posted(CONTROL))
    assert "discord: connected" in answer["content"]
    assert any(path == "applications/998/commands" for _, path, _ in live.fake.calls)


async def test_pairing_by_dm_makes_the_sender_the_owner(
    tmp_path: Path, embedder: Embedder, endpoints: None
) -> None:
    async with fake_discord() as fake:
        live = await started(
            fake,
            tmp_path,
            embedder,
            control_chat="console:control",
            owner_handles={"console": ["owner"]},
        )
        try:
            code = live.twin.services.identity().issue_code("discord")
            sam = user(OWNER_ID, "sam")
            await fake.dispatch("MESSAGE_CREATE", message("9501", CONTROL, sam, code.lower()))
            [answer] = await fake.wait(lambda: fake.posted(CONTROL))
            assert answer["content"].startswith("Paired")
            await fake.dispatch("MESSAGE_CREATE", message("9502", CONTROL, sam, "/drafts"))
            await fake.wait(lambda: len(fake.posted(CONTROL)) == 2)
        finally:
            await live.twin.stop()


async def test_long_replies_split_at_2000_and_markup_is_shown_as_written(live: Live) -> None:
    from twin_core.types import ChannelName, ChatId, OutboundMessage

    text = "**not bold** " * 400
    await live.channel.send(OutboundMessage(ChannelName("discord"), ChatId(SERVER_CHANNEL), text))
    parts = [m["content"] for m in live.fake.posted(SERVER_CHANNEL)]
    assert len(parts) >= 3 and all(len(p) <= 2000 for p in parts)
    assert all(re.search(r"(?<!\\)\*", p) is None for p in parts)  # no bare markup
    joined = " ".join(re.sub(r"\\(.)", r"\1", p) for p in parts)
    assert joined.strip() == text.strip()  # all of it, once


async def test_a_refused_token_fails_for_good(tmp_path: Path, endpoints: None) -> None:
    async with fake_discord() as fake:
        channel = DiscordChannel(config(fake, token="wrong"))
        with pytest.raises(ChannelAuthError, match="TWIN_DISCORD_TOKEN"):
            await channel.start(lambda event: None)  # type: ignore[arg-type,return-value]
        await channel.stop()


async def test_doctor_checks_the_token_and_the_message_content_intent(
    tmp_path: Path, endpoints: None
) -> None:
    from bot.channels import discord as discord_channel
    from twin_core.settings import load_settings

    async with fake_discord() as fake:
        environ = {"TWIN_DISCORD_TOKEN": TOKEN, "TWIN_DISCORD_API_URL": fake.api_url}
        assert await discord_channel.doctor(load_settings(environ, home=tmp_path)) == []
        fake.app_flags = 0
        [problem] = await discord_channel.doctor(load_settings(environ, home=tmp_path))
        assert "Message Content intent" in problem
        wrong = load_settings({**environ, "TWIN_DISCORD_TOKEN": "old"}, home=tmp_path)
        assert await discord_channel.doctor(wrong) == ["Discord refused TWIN_DISCORD_TOKEN"]
