"""The Slack channel: slack-bolt and slack_sdk against a fake Web API on 127.0.0.1, with
signed event posts to the twin's own HTTP endpoint, driving a real Twin."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.app import Twin
from bot.channels.fake import FakeChannel
from bot.channels.slack import SlackChannel, SlackSettings
from bot.channels.slack.events import escape, parse_message
from tests.support.fake_slack import (
    APP_TOKEN,
    BOT,
    BOT_TOKEN,
    OWNER,
    SECRET,
    USER_TOKEN,
    FakeSlack,
    button_body,
    dm,
    event_body,
    fake_slack,
    post,
    slash_body,
)
from tests.support.harness import SEED_T0
from tests.support.history import HISTORY
from tests.support.settings import make_settings
from twin_core.memory.embed import Embedder
from twin_core.memory.models import AuditEntry, Handle, Message

PAYLOADS = Path(__file__).parent / "payloads" / "slack"
CONTROL = "DCTRL"


def config(fake: FakeSlack, **more: object) -> SlackSettings:
    return SlackSettings(
        bot_token=BOT_TOKEN,
        user_token=USER_TOKEN,
        signing_secret=SECRET,
        api_url=fake.url,
        mode="http",
        http_port=0,
        **more,  # type: ignore[arg-type]
    )


@dataclass
class Live:
    fake: FakeSlack
    twin: Twin
    channel: SlackChannel

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.channel.http_port}/slack/events"

    def stored(self, chat: str = "") -> list[Message]:
        """Messages recorded (in `chat`), the seeded history left out."""
        with Session(self.twin.store.engine) as session:
            found = session.exec(select(Message).order_by(Message.id)).all()  # type: ignore[arg-type]
        return [
            m
            for m in found
            if m.external_id.startswith(f"{chat}:") and ":1600000000." not in m.external_id
        ]

    def cards(self) -> list[dict[str, object]]:
        return [args for token, args in self.fake.posted(CONTROL) if args.get("blocks")]


@pytest.fixture
async def live(tmp_path: Path, embedder: Embedder) -> AsyncIterator[Live]:
    async with fake_slack(
        users={"UALICE": ("Alice", "alice@example.com"), "UEVE": ("Eve", "")},
        bot_dms={OWNER: CONTROL, "UEVE": "DEVE"},
    ) as fake:
        channel = SlackChannel(config(fake))
        settings = make_settings(
            tmp_path, control_chat=f"slack:{CONTROL}", owner_handles={"slack": [OWNER]}
        )
        twin = Twin(settings, [channel], embedder=embedder)
        await twin.start()
        try:
            yield Live(fake, twin, channel)
        finally:
            await twin.stop()


async def seed(live: Live) -> None:
    """Sam's past exchanges with Alice, as if read from Slack before."""
    slack = FakeChannel("slack")
    live.twin.memory.record_many(
        [
            slack.event(
                OWNER if who == "me" else "UALICE",
                text,
                chat="DALICE",
                name="Alice",
                from_owner=who == "me",
                external_id=f"DALICE:1600000000.{number:06d}",
                sent_at=SEED_T0 + timedelta(minutes=number),
            )
            for number, (who, text) in enumerate(HISTORY["alice"])
        ]
    )
    live.twin.memory.index()


async def test_a_contacts_dm_becomes_a_card_a_button_sends_the_reply_as_the_owner(
    live: Live,
) -> None:
    await seed(live)
    message = dm("UALICE", "DALICE", "hey, are we still on for dinner friday?", "1700000000.000100")
    assert await post(live.url, event_body(message, "Ev1")) == 200
    [card] = await live.fake.wait(live.cards)
    token = live.fake.posted(CONTROL)[0][0]
    assert token == BOT_TOKEN  # the control chat is the bot's DM
    assert "Draft 1 for Alice" in str(card["text"])
    buttons = card["blocks"][1]["elements"]  # type: ignore[index]
    assert [b["value"] for b in buttons] == ["/approve 1", "/edit 1", "/reject 1", "/why 1"]
    assert [b["text"]["text"] for b in buttons] == ["Approve", "Edit", "Reject", "Why"]
    assert live.fake.posted("DALICE") == []  # nothing goes out before the owner says so
    [alice] = live.stored("DALICE")
    assert alice.text.startswith("hey, are we still")

    live.fake.rate_limited["chat.postMessage"] = 1  # Slack says: slow down, once
    card_message = {"ts": "1800000000.000001", "text": card["text"], "blocks": card["blocks"]}
    status = await post(
        live.url, button_body(OWNER, CONTROL, "/approve 1", card_message), form=True
    )
    assert status == 200
    [(token, reply)] = await live.fake.wait(lambda: live.fake.posted("DALICE"))
    assert token == USER_TOKEN  # answered as the owner, in the owner's DM with Alice
    assert reply["text"] == "yes! 7pm at Luigi's, I booked a table"
    assert live.fake.served_429 == 1
    await live.fake.wait(lambda: any(m == "chat.update" for m, _, _ in live.fake.calls))
    [update] = [a for m, _, a in live.fake.calls if m == "chat.update"]
    assert all(block["type"] != "actions" for block in update["blocks"])  # one press per card
    await live.fake.wait(
        lambda: any("Sent to Alice" in a["text"] for _, a in live.fake.posted(CONTROL))
    )
    assert len(live.fake.posted("DALICE")) == 1  # the 429 was retried, not repeated


async def test_a_duplicate_delivery_is_recorded_once_even_after_a_restart(live: Live) -> None:
    # Alice wrote by email before: her Slack profile's address makes her the same contact.
    live.twin.memory.record_many(
        [FakeChannel("email").event("alice@example.com", "hi by mail", name="Alice W")]
    )
    message = dm("UALICE", "DALICE", "are you around?", "1700000000.000200")
    body = event_body(message, "Ev2")
    assert await post(live.url, body) == 200
    assert await post(live.url, body, headers={"X-Slack-Retry-Num": "1"}) == 200
    # The same message through another subscription (another event id), and after the
    # channel reconnected (its memory of event ids gone): still one message.
    await live.channel.stop()
    await live.channel.start(live.twin.dispatch)
    assert await post(live.url, event_body(message, "Ev3")) == 200
    await live.fake.wait(lambda: live.fake.posted(CONTROL))
    await live.twin.idle()
    assert [m.text for m in live.stored("DALICE")] == ["are you around?"]
    [notice] = live.fake.posted(CONTROL)  # the owner heard of it once
    assert "are you around?" in notice[1]["text"]
    with Session(live.twin.store.engine) as session:
        handles = {h.channel: h for h in session.exec(select(Handle)).all()}
    assert handles["slack"].identity == "email:alice@example.com"
    assert handles["slack"].contact_id == handles["email"].contact_id


async def test_strangers_are_refused_forgeries_too_and_the_owners_slash_command_runs(
    live: Live,
) -> None:
    await post(live.url, event_body(dm("UEVE", "DEVE", "/approve 1", "1700000000.000300"), "Ev4"))
    [(token, answer)] = await live.fake.wait(lambda: live.fake.posted("DEVE"))
    assert token == BOT_TOKEN and "private assistant" in answer["text"]
    assert await post(live.url, slash_body("UEVE", "CGENERAL", "approve 1"), form=True) == 200
    await live.fake.wait(lambda: len(live.fake.posted("DEVE")) == 2)
    assert live.fake.posted(CONTROL) == []  # the owner's chat heard nothing of it
    with Session(live.twin.store.engine) as session:
        refused = session.exec(select(AuditEntry).where(AuditEntry.action == "refused")).all()
    assert {r.actor for r in refused} == {"slack:UEVE"}
    assert live.stored() == []  # a message to the bot is never a contact's

    # A request not signed with the app's secret is refused before anything reads it.
    forged = event_body(dm("UALICE", "DALICE", "hi", "1700000000.000400"), "Ev5")
    assert await post(live.url, forged, secret="not-the-secret") == 401
    # The owner's own /twin, typed anywhere, runs in the control chat.
    assert await post(live.url, slash_body(OWNER, "CGENERAL", "status"), form=True) == 200
    [(token, answer)] = await live.fake.wait(lambda: live.fake.posted(CONTROL))
    assert token == BOT_TOKEN and "slack: connected" in answer["text"]
    await live.twin.idle()
    assert live.stored() == []


async def test_the_owners_own_message_is_recorded_as_theirs_and_long_replies_split(
    live: Live,
) -> None:
    await post(live.url, event_body(dm(OWNER, "DALICE", "see you <3 & bye", "1700000000.5"), "Ev6"))
    await live.fake.wait(lambda: live.stored("DALICE"))
    [mine] = live.stored("DALICE")
    assert mine.from_owner and mine.text == "see you <3 & bye"
    from twin_core.types import ChannelName, ChatId, OutboundMessage

    long = ("word " * 700 + "<!channel>") * 2
    await live.channel.send(OutboundMessage(ChannelName("slack"), ChatId("DALICE"), long))
    parts = [args["text"] for _, args in live.fake.posted("DALICE")]
    assert len(parts) >= 3 and all(len(p) <= 3000 for p in parts)
    assert "<!channel>" not in "".join(parts) and "&lt;!channel&gt;" in parts[-1]


def test_recorded_payloads_normalize() -> None:
    cases = json.loads((PAYLOADS / "messages.json").read_text())
    for case in cases:
        event = parse_message(
            case["event"], owner_id=OWNER, bot_user_id=BOT, bot_dm=case.get("bot_dm", False)
        )
        expected = case["expect"]
        if expected is None:
            assert event is None, case["why"]
            continue
        assert event is not None, case["why"]
        for key, value in expected.items():
            assert str(getattr(event, key)) == str(value), (case["why"], key)


def test_escape_keeps_text_as_written() -> None:
    assert escape("a < b && <@U1> >") == "a &lt; b &amp;&amp; &lt;@U1&gt; &gt;"


async def test_refused_tokens_fail_for_good(tmp_path: Path) -> None:
    from bot.channels.base import ChannelAuthError

    async with fake_slack() as fake:
        wrong = SlackSettings(
            bot_token=BOT_TOKEN,
            user_token="xoxp-wrong",  # type: ignore[arg-type]
            signing_secret=SECRET,  # type: ignore[arg-type]
            api_url=fake.url,
            mode="http",
        )
        channel = SlackChannel(wrong)
        with pytest.raises(ChannelAuthError, match="TWIN_SLACK_USER_TOKEN"):
            await channel.start(lambda event: None)  # type: ignore[arg-type,return-value]
        await channel.stop()
        not_an_app_token = SlackSettings(
            bot_token=BOT_TOKEN,  # type: ignore[arg-type]
            user_token=USER_TOKEN,  # type: ignore[arg-type]
            app_token="xoxb-by-mistake",  # type: ignore[arg-type]
            api_url=fake.url,
        )
        channel = SlackChannel(not_an_app_token)
        with pytest.raises(ChannelAuthError, match="TWIN_SLACK_APP_TOKEN"):
            await channel.start(lambda event: None)  # type: ignore[arg-type,return-value]
        await channel.stop()


def test_settings_name_what_is_missing(tmp_path: Path) -> None:
    from bot.channels.slack import make_channel
    from twin_core.settings import SettingsError, load_settings

    settings = load_settings({"TWIN_SLACK_BOT_TOKEN": "xoxb-1"}, home=tmp_path)
    with pytest.raises(SettingsError, match="TWIN_SLACK_USER_TOKEN, TWIN_SLACK_APP_TOKEN"):
        make_channel(settings)
    settings = load_settings(
        {
            "TWIN_SLACK_BOT_TOKEN": "xoxb-1",
            "TWIN_SLACK_USER_TOKEN": "xoxp-1",
            "TWIN_SLACK_APP_TOKEN": APP_TOKEN,
        },
        home=tmp_path,
    )
    assert make_channel(settings).config.mode == "socket"


async def test_socket_mode_from_settings_alone(tmp_path: Path, embedder: Embedder) -> None:
    """`TWIN_CHANNELS=["slack"]` and the `TWIN_SLACK_*` variables, nothing else: the
    twin connects over Socket Mode, and an event is acknowledged and recorded."""
    from twin_core.settings import load_settings

    async with fake_slack(users={"UALICE": ("Alice", "alice@example.com")}) as fake:
        environ = {
            "TWIN_CHANNELS": '["slack"]',
            "TWIN_SLACK_BOT_TOKEN": BOT_TOKEN,
            "TWIN_SLACK_USER_TOKEN": USER_TOKEN,
            "TWIN_SLACK_APP_TOKEN": APP_TOKEN,
            "TWIN_SLACK_API_URL": fake.url,
            "TWIN_CONTROL_CHAT": f"slack:{CONTROL}",
            "TWIN_OWNER_HANDLES": f'{{"slack": ["{OWNER}"]}}',
            "TWIN_BURST_WINDOW_S": "0",
        }
        twin = Twin(load_settings(environ, home=tmp_path), embedder=embedder)
        await twin.start()
        try:
            assert twin.supervisor.health["slack"].describe() == "slack: connected"
            message = dm("UALICE", "DALICE", "over the socket", "1700000001.000100")
            await fake.envelope("env-1", event_body(message, "Ev9"))
            await fake.wait(lambda: "env-1" in fake.acks)
            await fake.wait(lambda: fake.posted(CONTROL))  # the owner hears of it
            with Session(twin.store.engine) as session:
                texts = [m.text for m in session.exec(select(Message)).all()]
            assert texts == ["over the socket"]
        finally:
            await twin.stop()


async def test_doctor_and_pairing_from_settings_alone(tmp_path: Path) -> None:
    from bot.channels import slack
    from bot.handlers.owner import OwnerIdentity
    from twin_core.memory.store import Store
    from twin_core.settings import load_settings

    async with fake_slack() as fake:
        environ = {
            "TWIN_SLACK_BOT_TOKEN": BOT_TOKEN,
            "TWIN_SLACK_USER_TOKEN": USER_TOKEN,
            "TWIN_SLACK_APP_TOKEN": APP_TOKEN,
            "TWIN_SLACK_API_URL": fake.url,
        }
        settings = load_settings(environ, home=tmp_path)
        assert await slack.doctor(settings) == []
        wrong = load_settings({**environ, "TWIN_SLACK_USER_TOKEN": "xoxp-old"}, home=tmp_path)
        assert await slack.doctor(wrong) == ["Slack refused TWIN_SLACK_USER_TOKEN (invalid_auth)"]
    said: list[str] = []
    code = await slack.pair(settings, said.append)
    assert "Messages tab" in said[0] and len(code) == 8
    store = Store.open(settings.sqlalchemy_url)
    try:
        paired = OwnerIdentity(settings, store).try_pair("slack", "U1", "D1", code)
        assert paired is not None and paired.chat_id == "D1"
    finally:
        store.close()
