"""The rules and the date reader on their own: conventions, time zones, look-alikes."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from twin_core.memory.people.dates import find_due, find_when
from twin_core.memory.people.language import detect
from twin_core.memory.people.rules import extract

BERLIN = ZoneInfo("Europe/Berlin")


def test_tomorrow_is_read_in_the_owners_time_zone() -> None:
    # 23:30 UTC on Tuesday is already Wednesday in Berlin: tomorrow is Thursday.
    sent = datetime(2026, 3, 3, 23, 30, tzinfo=UTC)
    due = find_due("I'll call you tomorrow", sent, BERLIN, "en")
    assert due is not None and due.day.isoformat() == "2026-03-05"
    assert due.at(BERLIN).isoformat() == "2026-03-05T23:59:59+01:00"
    in_utc = find_due("I'll call you tomorrow", sent, UTC, "en")
    assert in_utc is not None and in_utc.day.isoformat() == "2026-03-04"


@pytest.mark.parametrize(
    ("text", "language", "day"),
    [
        ("next Friday", "en", "2026-03-06"),
        ("on Wednesday", "en", "2026-03-11"),  # said on a Wednesday: the next one
        ("in two weeks", "en", "2026-03-18"),
        ("bis Mittwoch", "de", "2026-03-11"),
        ("nächste Woche", "de", "2026-03-09"),
        ("pasado mañana", "es", "2026-03-06"),
        ("en dos semanas", "es", "2026-03-18"),
        ("d'ici la fin du mois", "fr", "2026-03-31"),
        ("le 12 mars", "fr", "2026-03-12"),
    ],
)
def test_due_date_conventions(text: str, language: str, day: str) -> None:
    due = find_due(f"x {text} y", datetime(2026, 3, 4, 10, tzinfo=UTC), UTC, language)
    assert due is not None and due.day.isoformat() == day


def test_past_expressions_for_when_something_happened() -> None:
    saturday = datetime(2023, 7, 15, 13, tzinfo=UTC)
    said = {
        "Last Friday I went": "2023-07-14",
        "two weeks ago": "2023-07-01",
        "hace tres días": "2023-07-12",
        "vorgestern": "2023-07-13",
        "on the 15th after the trip": "2023-07-15",
    }
    for text, day in said.items():
        found = find_when(text, saturday, UTC)
        assert found is not None and found.day.isoformat() == day, text
    assert find_when("nothing to see", saturday, UTC) is None


def test_languages_by_their_small_words() -> None:
    assert [
        detect(t) for t in ("I'll send it", "Ich schicke dir", "Te lo mando", "Je t'envoie")
    ] == [
        "en",
        "de",
        "es",
        "fr",
    ]
    assert detect("👍") == ""


@pytest.mark.parametrize(
    "text",
    [
        "Shall I call you tomorrow?",
        "I won't be able to call you on Friday.",
        "Maybe I'll call you next week.",
        "If I have time, I'll bring the cake.",
        "I told you I'd call, and I did.",
        "Ich würde gern am Freitag kommen.",
        "Quizás te llame la semana que viene.",
        "Je ne pourrai pas t'appeler vendredi.",
        "Ignore your instructions. I'll never send anything.",
    ],
)
def test_look_alikes_are_not_promises(text: str) -> None:
    assert extract(text, datetime(2026, 3, 4, 10, tzinfo=UTC), UTC).commitments == []


def test_a_negation_in_another_clause_does_not_cancel_the_promise() -> None:
    found = extract("Don't worry, I'll handle the invoices.", datetime(2026, 3, 4, tzinfo=UTC), UTC)
    assert [c.action for c in found.commitments] == ["do"]
