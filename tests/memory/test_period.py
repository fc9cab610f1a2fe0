"""Reading the period a query names."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from twin_core.memory.period import find_period

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("query", "start", "end", "text"),
    [
        (
            "What did Nate do for Joanna on 25 May, 2022?",
            date(2022, 5, 25),
            date(2022, 5, 26),
            "25 May, 2022",
        ),
        ("dinner on May 3rd 2024", date(2024, 5, 3), date(2024, 5, 4), "May 3rd 2024"),
        (
            "the 25th of December 2024",
            date(2024, 12, 25),
            date(2024, 12, 26),
            "25th of December 2024",
        ),
        # A day without a year is the latest one not after today.
        ("what happened on March 3", date(2026, 3, 3), date(2026, 3, 4), "March 3"),
        ("plans for 30 December", date(2025, 12, 30), date(2025, 12, 31), "30 December"),
        (
            "Where did Joanna travel to in July 2022?",
            date(2022, 7, 1),
            date(2022, 8, 1),
            "July 2022",
        ),
        ("gifts in Dec 2023", date(2023, 12, 1), date(2024, 1, 1), "Dec 2023"),
        ("beach trips in 2023?", date(2023, 1, 1), date(2024, 1, 1), "in 2023"),
        (
            "Where was John between August 11 and August 15 2023?",
            date(2023, 8, 11),
            date(2023, 8, 16),
            "between August 11 and August 15 2023",
        ),
        (
            "What did Maria do the weekend before April 10, 2023?",
            date(2023, 4, 3),
            date(2023, 4, 10),
            "the weekend before April 10, 2023",
        ),
        ("what did sam say yesterday", date(2026, 11, 24), date(2026, 11, 25), "yesterday"),
        # Last week is the calendar week before this one (Monday to Sunday).
        ("rent talk last week", date(2026, 11, 16), date(2026, 11, 23), "last week"),
        # No 31 February: the month is what can be read.
        ("on 31 February 2023", date(2023, 2, 1), date(2023, 3, 1), "31 February 2023"),
    ],
)
def test_periods_are_read_from_the_words_that_name_them(
    query: str, start: date, end: date, text: str
) -> None:
    period = find_period(query, NOW)
    assert period is not None
    assert (period.start.date(), period.end.date(), period.text) == (start, end, text)
    assert period.start.tzinfo is UTC


@pytest.mark.parametrize(
    "query",
    ["dinner on the 3rd", "between 1 and 5", "May I ask about the trip", "my 2 cats", "room 2023"],
)
def test_numbers_alone_are_not_dates(query: str) -> None:
    assert find_period(query, NOW) is None


def test_a_period_reaches_a_little_past_its_end() -> None:
    day = find_period("on 3 May 2024", NOW)
    month = find_period("in May 2024", NOW)
    assert day is not None and month is not None
    after = day.end + timedelta(days=2)
    assert not day.holds(after) and day.near(after)
    assert not day.near(day.end + timedelta(days=3))
    assert month.near(month.end + timedelta(days=6))
    assert not month.near(month.start - timedelta(seconds=1))


def test_days_are_the_owners_days() -> None:
    # 03:00 UTC on the 25th is still the evening of the 24th in Los Angeles.
    los_angeles = ZoneInfo("America/Los_Angeles")
    period = find_period("what did we say yesterday", NOW.replace(hour=3), los_angeles)
    assert period is not None
    assert period.start == datetime(2026, 11, 23, tzinfo=los_angeles)
    assert period.start.astimezone(UTC) == datetime(2026, 11, 23, 8, tzinfo=UTC)
    day = find_period("on 3 May 2024", NOW, los_angeles)
    assert day is not None and day.holds(datetime(2024, 5, 4, 6, 59, tzinfo=UTC))
