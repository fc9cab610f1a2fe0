"""Splitting long replies at a platform's limit, and the buttons a draft card offers."""

from __future__ import annotations

import pytest

from bot.channels.slack.events import escape as slack_escape
from bot.channels.text import split_text
from tests.support.harness import Harness
from tests.support.history import HISTORY


def test_a_short_text_is_one_part() -> None:
    assert split_text("hello", 10) == ["hello"]
    assert split_text("", 10) == [""]


def test_cuts_at_the_best_break_and_loses_nothing() -> None:
    text = "first paragraph here.\n\nsecond one, a bit longer than that.\nthird line"
    parts = split_text(text, 40)
    assert parts == ["first paragraph here.", "second one, a bit longer than that.", "third line"]
    assert all(len(p) <= 40 for p in parts)


def test_a_word_longer_than_the_limit_is_cut_hard() -> None:
    assert split_text("a" * 25, 10) == ["a" * 10, "a" * 10, "a" * 5]


def test_the_limit_counts_the_escaped_text_and_never_cuts_an_entity() -> None:
    text = "<>&" * 50
    parts = split_text(text, 20, slack_escape)
    assert all(len(slack_escape(p)) <= 20 for p in parts)
    assert "".join(parts) == text


def test_emoji_and_other_scripts_stay_whole() -> None:
    text = "héllo wörld 👋🏽 " * 30
    parts = split_text(text, 25)
    assert " ".join(parts).split() == text.split()


def test_a_limit_must_be_positive() -> None:
    with pytest.raises(ValueError):
        split_text("x", 0)


async def test_a_draft_card_offers_its_commands_as_buttons(h: Harness) -> None:
    h.seed(HISTORY)
    await h.says("alice", "hey, are we still on for dinner friday?")
    [card] = [m for m in h.messages() if m.chat_id == "control"]
    assert [(b.label, b.command) for b in card.buttons] == [
        ("Approve", "/approve 1"),
        ("Edit", "/edit 1"),
        ("Reject", "/reject 1"),
        ("Why", "/why 1"),
    ]
    assert await h.command(card.buttons[0].command) == ["Sent to Alice."]  # a press is the command
