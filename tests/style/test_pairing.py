"""Reply pairs that are replies: the next turn, the owner's own text, within the
conversation's usual reply window; an explicit platform reply wins."""

from __future__ import annotations

import dataclasses
from datetime import UTC, timedelta

import pytest

from tests.support.events import T0, event
from tests.support.settings import SHARED
from twin_core.memory.importers.discord import parse_discord
from twin_core.memory.models import Message
from twin_core.memory.store import Store
from twin_core.style.pairing import DEFAULT_REPLY_WINDOW, reply_window
from twin_core.style.queries import StyleQueries
from twin_core.types import ExternalId, InboundEvent, MessageKind

DM_KAI = SHARED / "data" / "exports" / "discord" / "dm_kai.json"


def _say(store: Store, ident: str, text: str, minutes: float, **kwargs: object) -> Message:
    owner = bool(kwargs.pop("from_owner", False))
    return store.messages.record(
        event(
            ident,
            text,
            sender="me" if owner else "alice",
            from_owner=owner,
            at=T0 + timedelta(minutes=minutes),
            **kwargs,
        )
    ).message


def test_a_caption_after_the_owners_photo_answers_nothing(store: Store) -> None:
    asked = _say(store, "k1", "10 is perfect 🙌", 0)
    _say(store, "s1", "[image]", 1, from_owner=True, kind=MessageKind.MEDIA)
    _say(store, "s2", "this is the V4 I keep falling off lol", 1.5, from_owner=True)
    assert StyleQueries(store).replies_to([asked]) == {}


def test_a_forwarded_item_answers_nothing(store: Store) -> None:
    asked = _say(store, "k1", "what did the landlord say?", 0)
    _say(store, "s1", "Rent goes up in May", 1, from_owner=True, raw='{"forwarded_from": "Bob"}')
    assert StyleQueries(store).replies_to([asked]) == {}


def test_the_owner_writing_hours_later_starts_a_new_topic(store: Store) -> None:
    asked = _say(store, "k1", "night!", 0)
    _say(store, "s1", "did you see the match?", 60 * 9, from_owner=True)
    assert StyleQueries(store).replies_to([asked]) == {}
    prompt = _say(store, "k2", "lunch?", 60 * 10)
    _say(store, "s2", "yes, 1pm", 60 * 10 + 20, from_owner=True)
    assert StyleQueries(store).replies_to([prompt])[prompt.id].text == "yes, 1pm"  # type: ignore[index]


def test_an_explicit_reply_wins_even_late_and_not_next(store: Store) -> None:
    first = _say(store, "k1", "can you send the address?", 0)
    second = _say(store, "k2", "also, saturday still on?", 1)
    _say(store, "s1", "yes saturday!", 2, from_owner=True)
    _say(
        store,
        "s2",
        "12 Hill St",
        60 * 20,
        from_owner=True,
        reply_to=ExternalId("k1"),
    )
    replies = StyleQueries(store).replies_to([first, second])
    assert replies[first.id].text == "12 Hill St"  # type: ignore[index]
    assert replies[second.id].text == "yes saturday!"  # type: ignore[index]


def test_a_next_turn_that_replies_to_another_message_does_not_answer(store: Store) -> None:
    _say(store, "k0", "which train?", 0)
    asked = _say(store, "k1", "haha", 1)
    _say(store, "s1", "the 8:15", 2, from_owner=True, reply_to=ExternalId("k0"))
    assert StyleQueries(store).replies_to([asked]) == {}


def test_the_reply_window_is_learned_from_the_conversation() -> None:
    assert reply_window([]) == DEFAULT_REPLY_WINDOW
    quick = [timedelta(minutes=m) for m in (1, 2, 2, 3, 4, 5, 5, 6, 8, 10)]
    assert reply_window(quick) == timedelta(minutes=30)  # the floor
    slow = [timedelta(hours=h) for h in (1, 2, 3, 3, 4, 5, 6, 8, 9, 10)]
    assert reply_window(slow) == timedelta(hours=12)  # the ceiling


@pytest.mark.skipif(not DM_KAI.is_file(), reason=f"{DM_KAI} absent (../shared is absent)")
def test_the_discord_export_pairs_only_real_replies(store: Store) -> None:
    """The issue's case: Kai's "10 is perfect 🙌" is followed by the owner's photo and
    its caption; the caption is not an answer."""
    recorded = []
    for item in parse_discord(DM_KAI, tz=UTC):
        assert isinstance(item, InboundEvent)
        inbound = dataclasses.replace(item, from_owner=item.sender_name == "Sam")
        recorded.append(store.messages.record(inbound).message)
    asked = [m for m in recorded if not m.from_owner]
    replies = StyleQueries(store).replies_to(asked)
    pairs = {next(m.text for m in recorded if m.id == k): v.text for k, v in replies.items()}
    assert pairs == {
        "yo are we still on for the climbing gym saturday?": (
            "yes!! 10am works? I'll bring the extra chalk bag"
        ),
        "also can you send me that ramen place name? the one near the station": (
            "Menya Kaito! get the yuzu shio, trust me\nand go before 7 or the line is insane"
        ),
    }
