"""The period reader as it was before issue 10 (English only, hand-written), kept to
compare with `twin_core.memory.period` in benchmarks/period_expressions.py.

The period a query names: "on 25 May, 2022", "in July 2023", "between August 11 and
August 15", "yesterday", "last week".

Recall favours messages sent in that period, and asks the index for the period's best
matches too, so a message from that day is found even among years of others. Chats
talk about things after they happen ("we went camping yesterday"), so a period also
reaches a little past its end (`Period.after`).

English only, and only what can be read without guessing: a bare number is not a
day, and a day with no year is the latest such day not after today. Days run from
midnight to midnight in the owner's time zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<{0}>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<{0}>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<{0}>(?:19|20)\d\d)"

# "25 May, 2022", "25th of May 2022", "May 25, 2022", "May 25th" (the year optional).
_DAY_FIRST = _DAY.format("d1") + r"\s+(?:of\s+)?" + _MONTH.format("m1")
_MONTH_FIRST = _MONTH.format("m2") + r"\s+" + _DAY.format("d2") + r"(?![\d:])"
_A_DAY = rf"(?:{_DAY_FIRST}|{_MONTH_FIRST})(?:,?\s+{_YEAR.format('y1')})?"
_DAY_PATTERN = re.compile(rf"\b{_A_DAY}\b", re.I)
_MONTH_PATTERN = re.compile(
    r"\b" + _MONTH.format("m") + r"(?:\s+(?:of\s+)?|,\s*)" + _YEAR.format("y") + r"\b", re.I
)
_YEAR_PATTERN = re.compile(r"\b(?:in|during|of|from)\s+" + _YEAR.format("y") + r"\b", re.I)
_BETWEEN = re.compile(r"\b(?:between|from)\s+(?P<a>.+?)\s+(?:and|to|until|till)\s+(?P<b>.+)", re.I)
_RELATIVE = {
    "today": (0, 1),
    "tonight": (0, 1),
    "yesterday": (-1, 0),
    "this week": (-6, 1),
    "last week": (-13, 1),
    "past week": (-6, 1),
    "this weekend": (-2, 1),
    "last weekend": (-9, 1),
    "this month": (-30, 1),
    "last month": (-61, 1),
    "past month": (-30, 1),
}
_RELATIVE_PATTERN = re.compile(
    r"\b(" + "|".join(re.escape(k) for k in sorted(_RELATIVE, key=len, reverse=True)) + r")\b",
    re.I,
)
_BEFORE = re.compile(r"\b(?:the\s+)?(?P<unit>week|weekend|month|day)\s+before\s+(?P<rest>.+)", re.I)


@dataclass(frozen=True, slots=True)
class Period:
    """A half-open span of time, [start, end), in the owner's time zone."""

    start: datetime
    end: datetime
    text: str
    """The words of the query that named it."""

    @property
    def after(self) -> timedelta:
        """How far past the end a message may still be about the period: a few days for
        a day or a week, a week for longer periods."""
        short = self.end - self.start <= timedelta(days=7)
        return timedelta(days=3) if short else timedelta(days=7)

    def holds(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def near(self, moment: datetime) -> bool:
        """In the period, or shortly after it (see `after`)."""
        return self.start <= moment < self.end + self.after


def find_period(query: str, now: datetime, tz: tzinfo = UTC) -> Period | None:
    """The period `query` names, or None. `now` dates "yesterday" and a year-less day;
    days are those of time zone `tz`."""
    today = now.astimezone(tz).date()
    between = _BETWEEN.search(query)
    if between:
        first, second = _day_in(between.group("a"), today), _day_in(between.group("b"), today)
        if first and second:
            # "between August 11 and 15 2023": the year written once, at the end.
            if first[1] is None and second[1] is not None:
                first = (first[0].replace(year=second[0].year), second[1])
            low, high = sorted((first[0], second[0]))
            return _span(tz, low, high + timedelta(days=1), between.group(0))
    before = _BEFORE.search(query)
    if before:
        found = _day_in(before.group("rest"), today)
        if found:
            unit = before.group("unit").lower()
            days = {"day": 1, "week": 7, "weekend": 7, "month": 31}[unit]
            return _span(tz, found[0] - timedelta(days=days), found[0], before.group(0))
    day = _DAY_PATTERN.search(query)
    if day:
        found = _day_in(day.group(0), today)
        if found:
            return _span(tz, found[0], found[0] + timedelta(days=1), day.group(0))
    month = _MONTH_PATTERN.search(query)
    if month:
        year, number = int(month.group("y")), MONTHS[month.group("m").lower()]
        start = date(year, number, 1)
        end = date(year + (number == 12), number % 12 + 1, 1)
        return _span(tz, start, end, month.group(0))
    year_only = _YEAR_PATTERN.search(query)
    if year_only:
        year = int(year_only.group("y"))
        return _span(tz, date(year, 1, 1), date(year + 1, 1, 1), year_only.group(0))
    relative = _RELATIVE_PATTERN.search(query)
    if relative:
        back, ahead = _RELATIVE[relative.group(1).lower()]
        return _span(
            tz, today + timedelta(days=back), today + timedelta(days=ahead), relative.group(0)
        )
    return None


def _day_in(text: str, today: date) -> tuple[date, int | None] | None:
    """The first day written in `text`, with the year if one was written."""
    match = _DAY_PATTERN.search(text)
    if not match:
        return None
    groups = match.groupdict()
    day = int(groups["d1"] or groups["d2"])
    month = MONTHS[(groups["m1"] or groups["m2"]).lower()]
    year = int(groups["y1"]) if groups["y1"] else None
    try:
        if year is not None:
            return date(year, month, day), year
        found = date(today.year, month, day)
        if found > today:
            found = date(today.year - 1, month, day)
        return found, None
    except ValueError:
        return None


def _span(tz: tzinfo, start: date, end: date, text: str) -> Period:
    return Period(
        datetime(start.year, start.month, start.day, tzinfo=tz),
        datetime(end.year, end.month, end.day, tzinfo=tz),
        " ".join(text.split()).rstrip("?.!,;:"),
    )
