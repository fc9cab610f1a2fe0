"""The Telegram channel with python-telegram-bot against a fake Bot API on 127.0.0.1:
a Twin built from settings alone, as `twin run` builds it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from bot.app import Twin
from bot.channels.telegram import TelegramChannel
from bot.handlers.dispatch import STRANGER_ANSWER
from tests.bot.channels.telegram.conftest import HISTORY, TelegramTwin
from tests.support.fake_telegram import OWNER_ID, FakeBotApi
from twin_core.memory.models import DraftStatus
from twin_core.types import ChannelName, ChatId, OutboundMessage

ALICE = 200


async def card_for(api: FakeBotApi, count: int = 1) -> dict[str, Any]:
    """The `count`th draft card sent to the owner (a message with inline buttons)."""
    for _ in range(1500):  # 30 s: drafting is slow on a loaded machine
        cards = [m for m in api.sent() if m.get("reply_markup")]
        if len(cards) >= count:
            return cards[count - 1]
        await asyncio.sleep(0.02)
    raise AssertionError(f"no draft card; calls: {[c for c, _ in api.calls]}; sent: {api.sent()}")


async def until(condition: Any, timeout: float = 30.0) -> None:
    for _ in range(int(timeout / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the condition never held")


def buttons(card: dict[str, Any]) -> dict[str, str]:
    [row] = card["reply_markup"]["inline_keyboard"]
    return {b["text"]: b["callback_data"] for b in row}


def card_message(card: dict[str, Any]) -> dict[str, Any]:
    """The card as a callback query carries it."""
    return {
        "message_id": card["_message_id"],
        "date": 1_700_000_000,
        "chat": {"id": OWNER_ID, "type": "private", "first_name": "Sam"},
        "text": card["text"],
    }


async def test_a_business_message_becomes_a_card_and_a_button_sends_the_reply_as_the_owner(
    api: FakeBotApi, telegram_twin: TelegramTwin
) -> None:
    twin = await telegram_twin()
    commands = api.called("setMyCommands")[0]["commands"]
    assert {"approve", "edit", "reject", "why", "status"} <= {c["command"] for c in commands}
    api.connect_business()
    api.business_message(ALICE, "Alice", "are you free tonight?")
    card = await card_for(api)
    assert int(card["chat_id"]) == OWNER_ID and "parse_mode" not in card  # plain text
    [draft] = twin.store.drafts.with_status(DraftStatus.PENDING)
    pressable = buttons(card)
    assert list(pressable) == ["Approve", "Edit", "Reject", "Why"]
    assert pressable["Approve"] == f"draft:{draft.id}|/approve {draft.id}"

    api.press(OWNER_ID, card_message(card), pressable["Approve"])
    await api.wait_for("editMessageText")
    [answered] = api.called("answerCallbackQuery")
    assert answered["callback_query_id"].startswith("cq")
    [reply] = [m for m in api.sent() if int(m["chat_id"]) == ALICE]
    assert reply["business_connection_id"] == "biz-1" and reply["text"] == draft.text
    [edit] = api.called("editMessageText")
    assert int(edit["message_id"]) == card["_message_id"] and "Sent to Alice." in edit["text"]
    assert not edit.get("reply_markup")  # the buttons are gone
    await until(lambda: twin.store.drafts.get(draft.id).status == DraftStatus.SENT)  # type: ignore[union-attr]
    # The outcome is on the card: no second message about it.
    assert not [m for m in api.sent() if "Sent to Alice" in m["text"]]


async def test_edit_takes_the_owners_next_message_and_why_explains(
    api: FakeBotApi, telegram_twin: TelegramTwin
) -> None:
    await telegram_twin()
    api.connect_business()
    api.business_message(ALICE, "Alice", "dinner on friday?")
    card = await card_for(api)
    pressable = buttons(card)
    api.press(OWNER_ID, card_message(card), pressable["Why"])
    await until(
        lambda: any(
            m["text"].startswith("Why draft 1 for Alice")
            and "confidence" in m["text"]
            and not m.get("reply_markup")
            for m in api.sent()
        )
    )
    api.press(OWNER_ID, card_message(card), pressable["Edit"])
    await until(lambda: any("as your next message" in m["text"] for m in api.sent()))
    api.message(OWNER_ID, "Sam", "Friday works, 8pm?")
    await api.wait_for("editMessageText")
    [reply] = [m for m in api.sent() if int(m["chat_id"]) == ALICE]
    assert reply["text"] == "Friday works, 8pm?" and reply["business_connection_id"] == "biz-1"
    [edit] = api.called("editMessageText")
    assert int(edit["message_id"]) == card["_message_id"] and "Sent to Alice." in edit["text"]
    assert len(api.called("answerCallbackQuery")) == 2


async def test_a_strangers_command_is_refused_with_one_fixed_answer_and_audited(
    api: FakeBotApi, telegram_twin: TelegramTwin
) -> None:
    twin = await telegram_twin()
    api.connect_business()
    api.business_message(ALICE, "Alice", "lunch?")
    await card_for(api)
    [draft] = twin.store.drafts.with_status(DraftStatus.PENDING)
    api.message(300, "Eve", f"/approve {draft.id}")
    await until(lambda: any(int(m["chat_id"]) == 300 for m in api.sent()))
    [answer] = [m for m in api.sent() if int(m["chat_id"]) == 300]
    assert answer["text"] == STRANGER_ANSWER
    assert twin.store.drafts.get(draft.id).status == DraftStatus.PENDING  # type: ignore[union-attr]
    [refused] = twin.store.audit.entries(action="refused")
    assert refused.actor == "telegram:300" and refused.subject == f"/approve {draft.id}"
    assert not [m for m in api.sent() if int(m["chat_id"]) == ALICE]


async def test_a_stranger_lending_their_business_account_is_not_heard(
    api: FakeBotApi, telegram_twin: TelegramTwin
) -> None:
    twin = await telegram_twin()
    api.connect_business("biz-eve", owner=300)
    api.business_message(ALICE, "Alice", "hello Eve's customer here", connection_id="biz-eve")
    await until(lambda: bool(twin.store.audit.entries(action="refused")))
    assert twin.store.stats()["messages"] == len(HISTORY) and not api.sent()


async def test_a_429_is_waited_out_and_the_card_arrives_once(
    api: FakeBotApi, telegram_twin: TelegramTwin
) -> None:
    await telegram_twin()
    api.connect_business()
    api.flood["sendMessage"] = 1
    api.business_message(ALICE, "Alice", "coffee?")
    await card_for(api)
    assert [name for name, _ in api.calls].count("sendMessage:429") == 1
    await asyncio.sleep(0.3)
    assert len([m for m in api.sent() if m.get("reply_markup")]) == 1


async def test_a_lost_connection_is_made_again_and_nothing_is_dropped_or_repeated(
    api: FakeBotApi, telegram_twin: TelegramTwin, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.channels.supervisor.BACKOFF_BASE_S", 0.05)
    twin = await telegram_twin()
    api.connect_business()
    api.business_message(ALICE, "Alice", "are you free tonight?")
    await card_for(api)
    api.broken["getUpdates"] = 2  # the Bot API falls over twice
    api.business_message(ALICE, "Alice", "are we still on?")
    await card_for(api, 2)
    health = twin.supervisor.health["telegram"]
    await until(
        lambda: (
            [name for name, _ in api.calls].count("getUpdates:502") == 2
            and health.state.value == "connected"
        )
    )
    assert "Bad Gateway" in health.last_error
    await twin.idle()
    assert twin.store.stats()["messages"] == len(HISTORY) + 2
    assert any("lost its connection" in m["text"] for m in api.sent())


async def test_a_duplicate_delivery_is_recorded_once(
    api: FakeBotApi, telegram_twin: TelegramTwin
) -> None:
    twin = await telegram_twin()
    api.connect_business()
    first = api.business_message(ALICE, "Alice", "are we still on?", message_id=4242)
    await card_for(api)
    api.repeat(first)  # the same update again
    api.business_message(ALICE, "Alice", "are we still on?", message_id=4242)  # same message
    api.message(OWNER_ID, "Sam", "/status")  # something after them, to know they were read
    await until(lambda: any("telegram business" in m["text"] for m in api.sent()))
    await twin.idle()
    assert twin.store.stats()["messages"] == len(HISTORY) + 1
    assert len([m for m in api.sent() if m.get("reply_markup")]) == 1


async def test_a_restart_resumes_after_the_last_update_handled(
    api: FakeBotApi, telegram_twin: TelegramTwin, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    twin = await telegram_twin(home)
    api.connect_business()
    handled = api.business_message(ALICE, "Alice", "see you at 8?")
    await card_for(api)
    await twin.stop()
    state = json.loads((home / "telegram-state.json").read_text())
    assert state["last_update_id"] == handled and "biz-1" in state["connections"]
    # Telegram still holds the last update (nothing confirmed it); more come meanwhile.
    api.business_message(ALICE, "Alice", "or 9?")
    polls = len(api.called("getUpdates"))
    again = await telegram_twin(home)
    await card_for(api, 2)
    assert api.called("getUpdates")[polls]["offset"] == handled + 1
    await again.idle()
    assert again.store.stats()["messages"] == len(HISTORY) + 2  # nothing lost, nothing twice


async def test_the_owners_own_message_from_the_phone_expires_the_draft(
    api: FakeBotApi, telegram_twin: TelegramTwin
) -> None:
    twin = await telegram_twin()
    api.connect_business()
    api.business_message(ALICE, "Alice", "movie tonight?")
    await card_for(api)
    [draft] = twin.store.drafts.with_status(DraftStatus.PENDING)
    api.business_message(ALICE, "Alice", "yes! which one?", sender=OWNER_ID, sender_name="Sam")
    await until(lambda: twin.store.drafts.get(draft.id).status == DraftStatus.EXPIRED)  # type: ignore[union-attr]
    mine = [m for m in twin.store.messages.iter_after(0) if m.from_owner]
    assert mine[-1].text == "yes! which one?" and mine[-1].external_id.startswith("business:200:")


async def test_status_says_when_the_connection_may_not_reply(
    api: FakeBotApi, telegram_twin: TelegramTwin
) -> None:
    twin = await telegram_twin()
    api.connect_business(can_reply=False)
    api.message(OWNER_ID, "Sam", "/status")
    await until(lambda: any("may read but not reply" in m["text"] for m in api.sent()))
    channel = twin.services.channels["telegram"]
    assert isinstance(channel, TelegramChannel)
    try:
        await channel.send(
            OutboundMessage(ChannelName("telegram"), ChatId(f"business:{ALICE}"), "hi")
        )
    except Exception as exc:
        assert "may not reply" in str(exc)
    else:
        raise AssertionError("a reply went out through a connection that may not reply")


async def test_long_replies_are_split_at_4096_in_plain_text(
    api: FakeBotApi, telegram_twin: TelegramTwin
) -> None:
    twin = await telegram_twin()
    channel = twin.services.channels["telegram"]
    text = "<b>not bold</b> *nor this* " + "x" * 9000
    await channel.send(OutboundMessage(ChannelName("telegram"), ChatId(str(OWNER_ID)), text))
    parts = [m for m in api.sent() if m["text"] != ""]
    assert "".join(m["text"] for m in parts) == text and len(parts) == 3
    assert all(len(m["text"]) <= 4096 and "parse_mode" not in m for m in parts)


async def test_a_paired_owner_gets_the_control_chat(
    api: FakeBotApi, telegram_twin: TelegramTwin
) -> None:
    # No owner in the settings: pairing makes one.
    twin: Twin = await telegram_twin(
        TWIN_OWNER_HANDLES='{"console": ["owner"]}', TWIN_CONTROL_CHAT="console:control"
    )
    code = await asyncio.to_thread(twin.services.identity().issue_code, "telegram")
    api.message(OWNER_ID, "Sam", code)
    await until(lambda: any(m["text"].startswith("Paired") for m in api.sent()))
    [paired] = [m for m in api.sent() if m["text"].startswith("Paired")]
    assert int(paired["chat_id"]) == OWNER_ID  # answered in the owner's own chat
    api.message(OWNER_ID, "Sam", "/drafts")  # and that chat now takes commands
    await until(lambda: any(m["text"] == "No drafts waiting." for m in api.sent()))
    [answer] = [m for m in api.sent() if m["text"] == "No drafts waiting."]
    assert int(answer["chat_id"]) == OWNER_ID
