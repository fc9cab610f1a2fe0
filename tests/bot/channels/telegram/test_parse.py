"""Telegram updates reduced to the twin's events (`parse_update`), from payloads as the
Bot API sends them."""

from __future__ import annotations

from typing import Any

from telegram import Update

from bot.channels.telegram.state import Connection
from bot.channels.telegram.text import split_message, utf16_length
from bot.channels.telegram.updates import parse_update
from twin_core.types import MessageKind

BOT = 999
OWNER = 100
CONNECTIONS = {"biz-1": Connection("biz-1", OWNER, "Sam", True, True)}


def update(**payload: Any) -> Update:
    parsed = Update.de_json({"update_id": 7, **payload}, None)
    assert parsed is not None
    return parsed


def business(sender: int, text: str, *, chat: int = 200, **more: Any) -> Update:
    return update(
        business_message={
            "message_id": 31,
            "date": 1_700_000_000,
            "chat": {"id": chat, "type": "private", "first_name": "Alice"},
            "from": {
                "id": sender,
                "is_bot": False,
                "first_name": "Alice" if sender == chat else "Sam",
            },
            "text": text,
            "business_connection_id": "biz-1",
            **more,
        }
    )


def test_a_contacts_business_message_is_theirs_in_a_chat_apart_from_the_bots() -> None:
    [event] = parse_update(business(200, "free tonight?"), BOT, CONNECTIONS).events
    assert event.chat_id == "business:200" and event.sender_id == "200"
    assert event.external_id == "business:200:31"
    assert not event.from_owner and not event.to_bot
    assert event.via == str(OWNER)  # the connection's user: checked against the owner
    assert event.sent_at.tzinfo is not None


def test_the_owners_own_business_message_is_the_owners() -> None:
    [event] = parse_update(business(OWNER, "yes, 8pm"), BOT, CONNECTIONS).events
    assert event.from_owner and event.chat_id == "business:200"


def test_the_twins_own_send_through_the_connection_is_left_to_the_outbox() -> None:
    echo = business(
        OWNER,
        "sent by the twin",
        sender_business_bot={"id": BOT, "is_bot": True, "first_name": "Twin"},
    )
    parsed = parse_update(echo, BOT, CONNECTIONS)
    assert parsed.events == () and parsed.business_chat == ("200", "biz-1")


def test_an_unknown_connection_cannot_vouch_for_its_messages() -> None:
    [event] = parse_update(business(200, "hi"), BOT, {}).events
    assert event.via == "unknown:biz-1"


def test_edits_and_deletions_are_messages_of_their_own() -> None:
    edited = update(
        edited_business_message={
            "message_id": 31,
            "date": 1_700_000_000,
            "edit_date": 1_700_000_060,
            "chat": {"id": 200, "type": "private", "first_name": "Alice"},
            "from": {"id": 200, "is_bot": False, "first_name": "Alice"},
            "text": "free tomorrow?",
            "business_connection_id": "biz-1",
        }
    )
    [event] = parse_update(edited, BOT, CONNECTIONS).events
    assert event.external_id == "business:200:31:edited:1700000060"
    assert event.reply_to == "business:200:31" and event.text == "free tomorrow?"
    deleted = update(
        deleted_business_messages={
            "business_connection_id": "biz-1",
            "chat": {"id": 200, "type": "private", "first_name": "Alice"},
            "message_ids": [31, 32],
        }
    )
    events = parse_update(deleted, BOT, CONNECTIONS).events
    assert [e.kind for e in events] == [MessageKind.DELETED, MessageKind.DELETED]
    assert [e.reply_to for e in events] == ["business:200:31", "business:200:32"]


def test_a_message_to_the_bot_and_a_button_press_are_for_the_bot() -> None:
    [event] = parse_update(
        update(
            message={
                "message_id": 5,
                "date": 1_700_000_000,
                "chat": {"id": 300, "type": "private", "first_name": "Eve"},
                "from": {"id": 300, "is_bot": False, "first_name": "Eve"},
                "text": "/approve 1",
            }
        ),
        BOT,
    ).events
    assert event.to_bot and event.chat_id == "300" and event.external_id == "300:5"
    parsed = parse_update(
        update(
            callback_query={
                "id": "cq1",
                "from": {"id": OWNER, "is_bot": False, "first_name": "Sam"},
                "chat_instance": "x",
                "data": "draft:3|/approve 3",
                "message": {
                    "message_id": 40,
                    "date": 1_700_000_000,
                    "chat": {"id": OWNER, "type": "private", "first_name": "Sam"},
                    "text": "Draft 3 for Alice",
                },
            }
        ),
        BOT,
    )
    [press] = parsed.events
    assert press.text == "/approve 3" and press.to_bot and press.chat_id == str(OWNER)
    assert parsed.press is not None and parsed.press.card == "draft:3"
    assert parsed.press.message_id == 40


def test_a_contact_card_from_the_sender_is_a_phone_number_key() -> None:
    shared = business(
        200,
        "",
        contact={"phone_number": "+351 912 345 678", "first_name": "Alice", "user_id": 200},
    )
    [event] = parse_update(shared, BOT, CONNECTIONS).events
    assert event.identities == ("tel:351912345678",)


def test_long_texts_split_at_4096_as_telegram_counts() -> None:
    text = ("word " * 2000) + "😀" * 3000
    parts = split_message(text)
    assert "".join(parts) == text
    assert all(utf16_length(p) <= 4096 for p in parts) and len(parts) in (4, 5)
    assert parts[0].endswith(" ")  # cut at a word break
    assert split_message("short") == ["short"]
