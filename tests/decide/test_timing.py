from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from twin_core.decide.history import History, Seen
from twin_core.decide.timing import QuietHours, active_hours, send_time

DAY0 = datetime(2026, 3, 2, tzinfo=UTC)


def owner_who_writes(hours: range, days: int = 10, delay_min: float = 10) -> History:
    """An owner answering one contact, at `hours` only, after `delay_min` minutes."""
    history = History()
    number = 0
    for day in range(days):
        for hour in hours:
            at = DAY0 + timedelta(days=day, hours=hour)
            number += 2
            history.feed(
                [
                    Seen(number, 1, 1, False, False, "hi?", "text", at),
                    Seen(
                        number + 1,
                        1,
                        None,
                        True,
                        False,
                        "hey",
                        "text",
                        at + timedelta(minutes=delay_min),
                    ),
                ]
            )
    return history


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [("22:00-07:00", 1320, 420), ("22-7", 1320, 420), ("2300-0630", 1380, 390)],
)
def test_quiet_hours_parse(text: str, start: int, end: int) -> None:
    quiet = QuietHours.parse(text)
    assert (quiet.start_minute, quiet.end_minute) == (start, end)


def test_quiet_hours_cross_midnight() -> None:
    quiet = QuietHours.parse("22:00-07:00")
    assert quiet.covers(23 * 60) and quiet.covers(3 * 60) and not quiet.covers(12 * 60)
    with pytest.raises(ValueError, match="span of hours"):
        QuietHours.parse("late")


def test_no_reply_at_an_hour_the_owner_never_writes_in() -> None:
    history = owner_who_writes(range(9, 21))
    assert active_hours(history) == set(range(9, 21))
    at_night = DAY0 + timedelta(days=20, hours=2)
    when = send_time(
        history, 1, at_night, fixed=None, ceiling=300, quiet=None, rng=random.Random(1)
    )
    goes_out = at_night + timedelta(seconds=when.delay_s)
    assert goes_out.hour == 9 and "you never write at 02:00" in when.why


def test_quiet_hours_hold_a_reply_until_they_end() -> None:
    history = owner_who_writes(range(24))
    evening = DAY0 + timedelta(days=20, hours=22, minutes=30)
    when = send_time(
        history,
        1,
        evening,
        fixed=None,
        ceiling=300,
        quiet=QuietHours.parse("22:00-07:00"),
        rng=random.Random(1),
    )
    goes_out = evening + timedelta(seconds=when.delay_s)
    assert goes_out.hour == 7 and "quiet hours 22:00-07:00" in when.why


def test_the_delay_is_the_owners_for_that_contact_and_time_of_day() -> None:
    history = owner_who_writes(range(9, 12), delay_min=3)  # mornings: 3 minutes
    # afternoons: 40 minutes
    number = 10_000
    for day in range(10):
        at = DAY0 + timedelta(days=day, hours=15)
        number += 2
        history.feed(
            [
                Seen(number, 1, 1, False, False, "later?", "text", at),
                Seen(number + 1, 1, None, True, False, "ok", "text", at + timedelta(minutes=40)),
            ]
        )
    rng = random.Random(3)
    morning = send_time(
        history,
        1,
        DAY0 + timedelta(days=30, hours=10),
        fixed=None,
        ceiling=7200,
        quiet=None,
        rng=rng,
    )
    afternoon = send_time(
        history,
        1,
        DAY0 + timedelta(days=30, hours=15),
        fixed=None,
        ceiling=7200,
        quiet=None,
        rng=rng,
    )
    assert morning.delay_s == 180 and "in the morning" in morning.why
    assert afternoon.delay_s == 2400 and "in the afternoon" in afternoon.why
