from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support.events import T0
from twin_core.decide.history import FEATURES, History, Seen, is_closing, is_question

MINUTE = timedelta(minutes=1)


def incoming(number: int, text: str, minutes: float, conversation: int = 1) -> Seen:
    return Seen(
        number, conversation, conversation, False, False, text, "text", T0 + minutes * MINUTE
    )


def owner(number: int, minutes: float, conversation: int = 1) -> Seen:
    return Seen(number, conversation, None, True, False, "ok", "text", T0 + minutes * MINUTE)


@pytest.mark.parametrize("text", ["ok", "Thanks!", "haha", "👍", "danke", "vale", "merci", "ok 👍"])
def test_closers(text: str) -> None:
    assert is_closing(text)


@pytest.mark.parametrize(
    "text",
    ["are you coming?", "wie geht's", "¿vienes", "quand est-ce que tu viens", "ok but when?"],
)
def test_questions(text: str) -> None:
    assert is_question(text) and not is_closing(text)


def test_one_answer_answers_a_burst_and_passes_over_older_messages() -> None:
    history = History()
    history.feed(
        [
            incoming(1, "haha", 0),
            incoming(2, "hey", 60),
            incoming(3, "are you free tonight?", 61),
            owner(4, 70),
        ]
    )
    outcome = {s.message_id: (s.replied, s.delay_s) for s in history.samples}
    assert outcome == {1: (False, None), 2: (True, 600.0), 3: (True, 540.0)}


def test_what_was_not_answered_within_the_horizon_counts_as_unanswered() -> None:
    history = History()
    history.feed([incoming(1, "hello?", 0)])
    assert history.samples[0].replied is None
    history.add_time(T0 + timedelta(hours=25))
    assert history.samples[0].replied is False
    history.add(owner(2, 26 * 60))  # too late to count as the answer
    assert history.samples[0].replied is False


def test_features_use_only_the_past() -> None:
    """A message's features are fixed when it arrives: what the owner does later
    changes the contact's statistics for the next message, not for this one."""
    history = History()
    [first] = history.feed([incoming(1, "lunch?", 0)])
    rate = FEATURES.index("contact_reply_rate")
    before = list(first.features)
    history.add(owner(2, 5))
    assert first.features == before
    [second] = history.feed([incoming(3, "dinner?", 60)])
    assert second.features[rate] > first.features[rate]
    assert second.features[FEATURES.index("thread_answered")] == 1.0


def test_the_owners_hours_are_learned_in_their_time_zone() -> None:
    history = History(timezone="Asia/Tokyo")  # T0 is 09:30 UTC, 18:30 in Tokyo
    history.feed([incoming(1, "hi", 0), owner(2, 1)])
    assert history.owner_hours[18] == 1
    assert history.samples[0].local_hour == 18
