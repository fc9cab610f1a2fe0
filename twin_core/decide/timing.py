"""When an automatic reply goes out: about as long as the owner would take, at an hour
the owner writes, never in the configured quiet hours.

The delay is drawn from the owner's own delays for that contact at that time of day
(night, morning, afternoon, evening), falling back to the contact's delays at any
time, then to the owner's at that time of day, then to all of them. The send time then
moves out of hours the owner never writes in (learned: no 3 a.m. reply from someone
who never writes at 3 a.m.) and out of the quiet hours (`TWIN_QUIET_HOURS`).
"""

from __future__ import annotations

import random
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from twin_core.decide.history import History, part_of_day

MIN_POOL = 3
"""A pool of fewer delays than this is not the owner's habit yet."""
ACTIVE_SHARE = 0.15
"""An hour the owner writes in less than this share of an even spread is inactive."""
MIN_ACTIVE_HISTORY = 48
"""With fewer of the owner's messages than this, every hour counts as active."""
PARTS = ("at night", "in the morning", "in the afternoon", "in the evening")

_SPAN = re.compile(r"^\s*(\d{1,2}):?(\d{2})?\s*-\s*(\d{1,2}):?(\d{2})?\s*$")


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily span (local time) in which nothing goes out; may cross midnight."""

    start_minute: int
    end_minute: int

    @classmethod
    def parse(cls, text: str) -> QuietHours:
        """`22:00-07:00`, `22-7`, `2300-0630`."""
        found = _SPAN.match(text)
        if not found:
            raise ValueError(f"{text!r} is not a span of hours like 22:00-07:00")
        h1, m1, h2, m2 = (int(g) if g else 0 for g in found.groups())
        if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59:
            raise ValueError(f"{text!r} is not a span of hours like 22:00-07:00")
        return cls((h1 * 60 + m1) % 1440, (h2 * 60 + m2) % 1440)

    def covers(self, minute: int) -> bool:
        if self.start_minute <= self.end_minute:
            return self.start_minute <= minute < self.end_minute
        return minute >= self.start_minute or minute < self.end_minute

    def __str__(self) -> str:
        s, e = self.start_minute, self.end_minute
        return f"{s // 60:02d}:{s % 60:02d}-{e // 60:02d}:{e % 60:02d}"


@dataclass(frozen=True, slots=True)
class SendTime:
    delay_s: float
    why: str


class DelayModel:
    """The owner's delays, read from a `History` (which keeps them current)."""

    def __init__(self, history: History) -> None:
        self.history = history

    def pool(self, contact_id: int | None, hour: int) -> tuple[Sequence[float], str]:
        part = part_of_day(hour)
        contact = self.history.contacts.get(contact_id) if contact_id is not None else None
        choices: list[tuple[Sequence[float], str]] = []
        if contact is not None:
            choices.append(
                (contact.part_delays.get(part, ()), f"your delays with them {PARTS[part]}")
            )
            choices.append((contact.delays, "your delays with them"))
        choices.append((self.history.part_delays.get(part, ()), f"your delays {PARTS[part]}"))
        choices.append((self.history.delays, "your delays with everyone"))
        for delays, source in choices:
            if len(delays) >= MIN_POOL:
                return delays, source
        return (), ""

    def typical(self, contact_id: int | None, hour: int) -> float | None:
        """The median delay for this contact at this hour (None without history)."""
        delays, _ = self.pool(contact_id, hour)
        return statistics.median(delays) if delays else None

    def draw(
        self, contact_id: int | None, hour: int, rng: random.Random
    ) -> tuple[float | None, str]:
        delays, source = self.pool(contact_id, hour)
        if not delays:
            return None, ""
        return rng.choice(list(delays)), source


def active_hours(history: History) -> set[int]:
    """The local hours the owner writes in (all of them while history is thin)."""
    if history.owner_total < MIN_ACTIVE_HISTORY:
        return set(range(24))
    active = {h for h in range(24) if history.active_share(h) >= ACTIVE_SHARE}
    return active or set(range(24))


def send_time(
    history: History,
    contact_id: int | None,
    now: datetime,
    *,
    fixed: float | None,
    ceiling: float,
    quiet: QuietHours | None,
    rng: random.Random,
) -> SendTime:
    """Seconds from `now` until the reply goes out, and why in words."""
    zone: ZoneInfo = history.zone
    local = now.astimezone(zone)
    if fixed is not None:
        delay, why = fixed, f"a fixed wait of {fixed:.0f}s (TWIN_AUTO_SEND_DELAY_S)"
    else:
        drawn, source = DelayModel(history).draw(contact_id, local.hour, rng)
        if drawn is None:
            delay, why = ceiling / 10, "no reply times of yours yet: a short default wait"
        else:
            delay = max(0.0, min(drawn, ceiling))
            why = f"{_human(delay)}, drawn from {source}"
            if drawn > ceiling:
                why += f" (capped at {_human(ceiling)})"
    at = local + timedelta(seconds=delay)
    hours = active_hours(history)
    moved: list[str] = []
    for _ in range(48 * 4):  # at most two days of quarter-hours
        minute = at.hour * 60 + at.minute
        if quiet is not None and quiet.covers(minute):
            reason = f"your quiet hours {quiet}"
        elif at.hour not in hours:
            reason = f"you never write at {at.hour:02d}:00"
        else:
            break
        if reason not in moved:
            moved.append(reason)
        at += timedelta(minutes=15)
        at = at.replace(minute=at.minute // 15 * 15, second=0, microsecond=0)
    if moved:
        at += timedelta(minutes=rng.uniform(0, 10))
        delay = (at - local).total_seconds()
        why += f"; moved to {at:%H:%M} ({'; '.join(moved)})"
    return SendTime(delay, why)


def _human(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f}s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
