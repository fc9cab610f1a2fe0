"""The period a query names: "on 25 May, 2022", "between August 11 and 15 2023", "from
March 3 to March 9", "last weekend", "in the summer of 2022", "early March", "vor zwei
Wochen", "el fin de semana pasado", "début mars 2023".

Recall favours messages sent in that period, and asks the index for the period's best
matches too, so a message from that day is found even among years of others. Chats
talk about things after they happen ("we went camping yesterday"), so a period also
reaches a little past its end (`Period.after`).

Languages: those the importers cover, English, German, Spanish and French. The shape
of a period (a range and its connectors, seasons, early/mid/late, weekends, calendar
weeks and months) is read here; phrases whose wording varies most between languages
("three weeks ago", "hace dos semanas", "il y a 3 jours", "letzten Freitag", numeric
dates like 15.08.2023) are handed to `dateparser`, which knows them in every one of
these languages. Only what can be read without guessing: a bare number is not a day,
"may" is a month only next to a day or a year, and a day with no year is the latest
such day not after today. Days run from midnight to midnight in the owner's zone.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from itertools import pairwise
from typing import Any

_MONTH_NAMES: tuple[tuple[str, ...], ...] = (
    ("january", "jan", "januar", "jänner", "janner", "enero", "janvier", "janv"),
    ("february", "feb", "februar", "febrero", "février", "fevrier", "févr", "fevr"),
    ("march", "mar", "märz", "marz", "maerz", "marzo", "mars"),
    ("april", "apr", "abril", "avril", "avr"),
    ("may", "mai", "mayo"),
    ("june", "jun", "juni", "junio", "juin"),
    ("july", "jul", "juli", "julio", "juillet", "juil"),
    ("august", "aug", "agosto", "août", "aout"),
    ("september", "sep", "sept", "septiembre", "setiembre", "septembre"),
    ("october", "oct", "oktober", "okt", "octubre", "octobre"),
    ("november", "nov", "noviembre", "novembre"),
    ("december", "dec", "dezember", "dez", "diciembre", "décembre", "decembre", "déc"),
)
MONTHS = {name: number for number, names in enumerate(_MONTH_NAMES, 1) for name in names}
_MONTH = "(?:" + "|".join(sorted(map(re.escape, MONTHS), key=len, reverse=True)) + r")\.?"
_DAY = r"(?:[0-3]?\d)(?:st|nd|rd|th|er|º|°|\.)?"
_YEAR = r"(?:19|20)\d\d"
_OF = r"(?:\s+of|\s+de|\s+del)?"

# One written day, month or year. Named groups: d (day), m (month), y (year).
_DAY_MONTH = rf"(?P<d1>{_DAY}){_OF}\s+(?P<m1>{_MONTH})(?:,?(?:\s+de|\s+del)?\s+(?P<y1>{_YEAR}))?"
_MONTH_DAY = rf"(?P<m2>{_MONTH})\s+(?P<d2>{_DAY})(?![\d:])(?:,?\s+(?P<y2>{_YEAR}))?"
_MONTH_YEAR = rf"(?P<m3>{_MONTH})(?:\s+of|\s+de|\s+del|,)?\s+(?P<y3>{_YEAR})"
_POINT = re.compile(rf"\b(?:{_DAY_MONTH}|{_MONTH_DAY}|{_MONTH_YEAR})\b", re.I)
_YEAR_ALONE = re.compile(
    rf"\b(?:in|during|of|from|since|im|jahr|in\s+the\s+year|en|en\s+el|año|del|de|au|"
    rf"durant|pendant|année|l'année|en\s+l'an)\s+(?P<y>{_YEAR})\b",
    re.I,
)
_MONTH_ALONE = re.compile(
    rf"\b(?:in|during|im|en|au\s+mois\s+de|en\s+el\s+mes\s+de|el\s+mes\s+de|en\s+mes\s+de|"
    rf"mois\s+de|von)\s+(?P<m>{_MONTH})(?!\s*\d)\b",
    re.I,
)

# "between A and B", "from A to B", "zwischen A und B", "del A al B", "du A au B", "A-B".
_RANGE_START = r"between|from|zwischen|vom|von|ab|entre|desde|del|de|du|depuis"
_RANGE_JOIN = (
    r"and|to|until|till|through|thru|und|bis(?:\s+zum|\s+zur|\s+)?|y|al|a|hasta(?:\s+el)?|"
    r"et|au|à|jusqu'au|-|–|—"
)
_JOIN = re.compile(rf"^\s*(?:{_RANGE_JOIN})\s*(?:the\s+|le\s+|el\s+|den\s+)?$", re.I)
_START = re.compile(rf"\b(?:{_RANGE_START})\s+(?:the\s+|le\s+|el\s+|dem\s+|den\s+)?$", re.I)
_BARE_DAY = r"(?P<bare>[0-3]?\d)(?:st|nd|rd|th|er|º|°|\.)?"
_BARE_BEFORE = re.compile(
    rf"(?:\b(?:{_RANGE_START})\s+(?:the\s+|le\s+|el\s+|dem\s+|den\s+)?)?\b{_BARE_DAY}"
    rf"\s*(?:{_RANGE_JOIN})\s*(?:the\s+|le\s+|el\s+|dem\s+|den\s+)?$",
    re.I,
)
_BARE_AFTER = re.compile(
    rf"^\s*(?:{_RANGE_JOIN})\s*(?:the\s+|le\s+|el\s+)?{_BARE_DAY}(?![\d:])"
    rf"(?:,?\s+(?P<year>{_YEAR}))?\b",
    re.I,
)

_SEASONS = {
    **dict.fromkeys(("spring", "frühling", "fruhling", "frühjahr", "primavera", "printemps"), 3),
    **dict.fromkeys(("summer", "sommer", "verano", "été", "ete"), 6),
    **dict.fromkeys(("autumn", "fall", "herbst", "otoño", "otono", "automne"), 9),
    **dict.fromkeys(("winter", "invierno", "hiver"), 12),
}
_SEASON_NAMES = "|".join(sorted(_SEASONS, key=len, reverse=True))
# A season is a period only with a year or a word that makes it one ("the summer",
# "last fall", "im Sommer"): "summer camp" and "did she fall" are not dates.
_SEASON = re.compile(
    r"(?:\b(?P<q>the|last|this|past|der|den|dem|im|el|la|le|l'|en|au|en\s+el|este|cet|"
    r"letzten|diesen|vergangenen)\s+)?"
    rf"\b(?P<season>{_SEASON_NAMES})"
    rf"(?:\s+(?:of|de|del|von)?\s*(?P<y>{_YEAR})|\s+(?P<y2>{_YEAR}))?\b",
    re.I,
)
_PART = {
    "early": 0,
    "beginning of": 0,
    "the beginning of": 0,
    "start of": 0,
    "the start of": 0,
    "anfang": 0,
    "principios de": 0,
    "a principios de": 0,
    "comienzos de": 0,
    "inicios de": 0,
    "début": 0,
    "debut": 0,
    "au début de": 0,
    "début de": 0,
    "mid": 1,
    "mid-": 1,
    "middle of": 1,
    "the middle of": 1,
    "mitte": 1,
    "mediados de": 1,
    "a mediados de": 1,
    "mi-": 1,
    "mi": 1,
    "late": 2,
    "end of": 2,
    "the end of": 2,
    "ende": 2,
    "finales de": 2,
    "a finales de": 2,
    "fines de": 2,
    "fin": 2,
    "fin de": 2,
    "à la fin de": 2,
}
_PART_PATTERN = re.compile(
    r"(?<![\w-])(?P<part>"
    + "|".join(re.escape(p) for p in sorted(_PART, key=len, reverse=True))
    + rf")\s*(?:(?P<m>{_MONTH})(?:,?(?:\s+de|\s+del)?\s+(?P<y>{_YEAR}))?|(?P<yo>{_YEAR}))\b",
    re.I,
)
_BEFORE = re.compile(
    r"\b(?:the\s+)?(?P<unit>week|weekend|month|day)\s+(?:before|prior\s+to)\s+(?P<rest>.+)",
    re.I,
)

# Relative periods: (regex, resolver name).
_RELATIVE: tuple[tuple[str, str], ...] = (
    (r"day before yesterday|vorgestern|anteayer|antes de ayer|avant-hier|avant hier", "-2d"),
    (r"yesterday|gestern|ayer|hier", "-1d"),  # "hier" is German "here": see _relative
    (r"today|tonight|this morning|heute|hoy|esta mañana|aujourd'hui|ce matin|ce soir", "0d"),
    (
        r"last weekend|past weekend|letztes wochenende|letzten wochenende|vergangenes wochenende|"
        r"am wochenende davor|el fin de semana pasado|fin de semana pasado|el finde pasado|"
        r"le week-end dernier|le weekend dernier|week-end dernier|weekend dernier",
        "-1weekend",
    ),
    (
        r"this weekend|dieses wochenende|este fin de semana|"
        r"ce week-end|ce weekend",
        "0weekend",
    ),
    (
        r"last week|letzte woche|letzten woche|vergangene woche|vorige woche|"
        r"la semana pasada|semana pasada|la semaine dernière|la semaine derniere|"
        r"semaine dernière",
        "-1week",
    ),
    (
        r"past week|past 7 days|last 7 days|letzten 7 tage|letzten sieben tage|"
        r"últimos 7 días|ultimos 7 dias|7 derniers jours|sept derniers jours",
        "7days",
    ),
    (r"this week|diese woche|dieser woche|esta semana|cette semaine", "0week"),
    (
        r"last month|letzten monat|letzter monat|vergangenen monat|vorigen monat|"
        r"el mes pasado|mes pasado|le mois dernier|mois dernier",
        "-1month",
    ),
    (r"past month|last 30 days|letzten 30 tage|últimos 30 días|30 derniers jours", "30days"),
    (r"this month|diesen monat|diesem monat|este mes|ce mois-ci|ce mois", "0month"),
    (
        r"last year|letztes jahr|letzten jahr|vergangenes jahr|voriges jahr|el año pasado|"
        r"año pasado|l'année dernière|l'an dernier|l'annee derniere",
        "-1year",
    ),
    (r"this year|dieses jahr|diesem jahr|este año|cette année", "0year"),
)
_RELATIVE_PATTERN = re.compile(
    "|".join(rf"(?P<r{i}>(?<!\w)(?:{words})(?!\w))" for i, (words, _) in enumerate(_RELATIVE)),
    re.I,
)

# Phrases dateparser reads better than a table: "3 weeks ago", "vor zwei Wochen",
# "hace 3 días", "il y a deux mois", weekdays, numeric dates.
_NUMBER = (
    r"(?:\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|couple of|few|"
    r"einem|einer|zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|"
    r"un|una|uno|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|"
    r"une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix)"
)
_AGO = re.compile(
    rf"\b{_NUMBER}\s+(?P<u1>day|week|month|year)s?\s+ago\b"
    rf"|\bvor\s+{_NUMBER}\s+(?P<u2>tag|woche|monat|jahr)(?:en|e|n)?\b"
    rf"|\bhace\s+{_NUMBER}\s+(?P<u3>día|dia|semana|mes|año|ano)(?:s|es)?\b"
    rf"|\bil\s+y\s+a\s+{_NUMBER}\s+(?P<u4>jour|semaine|mois|an|année|annee)s?\b",
    re.I,
)
_NUMBER_WORDS = {
    word: str(number)
    for number, words in enumerate(
        (
            ("a", "an", "one", "einem", "einer", "un", "una", "uno", "une"),
            ("two", "zwei", "dos", "deux"),
            ("three", "drei", "tres", "trois"),
            ("four", "vier", "cuatro", "quatre"),
            ("five", "fünf", "cinco", "cinq"),
            ("six", "sechs", "seis"),
            ("seven", "sieben", "siete", "sept"),
            ("eight", "acht", "ocho", "huit"),
            ("nine", "neun", "nueve", "neuf"),
            ("ten", "zehn", "diez", "dix"),
        ),
        start=1,
    )
    for word in words
}
_UNITS = {
    "day": "day",
    "tag": "day",
    "día": "day",
    "dia": "day",
    "jour": "day",
    "week": "week",
    "woche": "week",
    "semana": "week",
    "semaine": "week",
    "month": "month",
    "monat": "month",
    "mes": "month",
    "mois": "month",
    "year": "year",
    "jahr": "year",
    "año": "year",
    "ano": "year",
    "an": "year",
    "année": "year",
    "annee": "year",
}
_WEEKDAY = re.compile(
    r"\b(?:(?:last|on|this\s+past|past)\s+)?(?:monday|tuesday|wednesday|thursday|friday|saturday|"
    r"sunday)\b"
    r"|\b(?:letzten|letzter|vergangenen|am)\s+(?:montag|dienstag|mittwoch|donnerstag|freitag|"
    r"samstag|sonntag)\b"
    r"|\b(?:el\s+)?(?:lunes|martes|miércoles|miercoles|jueves|viernes|sábado|sabado|domingo)"
    r"(?:\s+pasado)?\b"
    r"|\b(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)(?:\s+dernier)?\b",
    re.I,
)
_NUMERIC = re.compile(r"(?<![\d./-])(\d{1,4})([./-])(\d{1,2})\2(\d{2,4})(?![\d./-])")
_GERMAN_HINT = re.compile(
    r"\b(?:ich|wir|hat|haben|habe|was|wo|wann|der|die|das|ist|sind|mit|und|über)\b", re.I
)
_ENGLISH_HINT = re.compile(
    r"\b(?:what|when|did|the|on|in|we|about|with|say|said|talk|between|from)\b", re.I
)


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


@dataclass(frozen=True, slots=True)
class _Point:
    """One written date: its days [start, end), and whether a year was written."""

    start: date
    end: date
    year_written: bool
    begin: int
    """Where its words start and end in the query."""
    finish: int
    month: int
    day: int | None


def find_period(query: str, now: datetime, tz: tzinfo = UTC) -> Period | None:
    """The period `query` names, or None. `now` dates "yesterday" and a year-less day;
    days are those of time zone `tz`."""
    today = now.astimezone(tz).date()
    text = unicodedata.normalize("NFC", query)
    for reader in (_range, _before, _part, _season, _point, _month_alone, _year_alone):
        found = reader(text, today)
        if found is not None:
            start, end, words = found
            return _span(tz, start, end, words)
    for reader in (_relative, _ago, _weekday, _numeric):
        found = reader(text, today)
        if found is not None:
            start, end, words = found
            return _span(tz, start, end, words)
    return None


Found = tuple[date, date, str]


def _points(text: str, today: date) -> list[_Point]:
    points: list[_Point] = []
    for match in _POINT.finditer(text):
        point = _read_point(match, today)
        if point is not None:
            points.append(point)
    return points


def _read_point(match: re.Match[str], today: date) -> _Point | None:
    groups = match.groupdict()
    month = MONTHS[_month_key(groups["m1"] or groups["m2"] or groups["m3"])]
    raw_day = groups["d1"] or groups["d2"]
    raw_year = groups["y1"] or groups["y2"] or groups["y3"]
    day = int(re.sub(r"\D", "", raw_day)) if raw_day else None
    year = int(raw_year) if raw_year else None
    if day is None:
        assert year is not None
        start = date(year, month, 1)
        return _Point(start, _next_month(start), True, match.start(), match.end(), month, None)
    if year is None:
        found = _latest(month, day, today)
        if found is None:
            return None
        return _Point(
            found, found + timedelta(days=1), False, match.start(), match.end(), month, day
        )
    try:
        found = date(year, month, day)
    except ValueError:
        # "31 February 2023": the month is what can be read.
        start = date(year, month, 1)
        return _Point(start, _next_month(start), True, match.start(), match.end(), month, None)
    return _Point(found, found + timedelta(days=1), True, match.start(), match.end(), month, day)


def _month_key(name: str) -> str:
    return name.lower().rstrip(".")


def _latest(month: int, day: int, today: date) -> date | None:
    """The latest `day`/`month` not after today."""
    for year in (today.year, today.year - 1, today.year - 2, today.year - 3, today.year - 4):
        try:
            found = date(year, month, day)
        except ValueError:
            continue
        if found <= today:
            return found
    return None


def _range(text: str, today: date) -> Found | None:
    points = _points(text, today)
    # Two written dates joined by "and", "to", "bis", "al", "au", "-": a range.
    for first, second in pairwise(points):
        if _JOIN.match(text[first.finish : second.begin]) is None:
            continue
        low, high = _pair(first, second, today)
        begin = _START.search(text[: first.begin])
        start_at = begin.start() if begin else first.begin
        return low.start, high.end, text[start_at : second.finish]
    for point in points:
        # "August 11 and 15 2023", "August 11-15": the second day shares the month.
        after = _BARE_AFTER.match(text[point.finish :])
        if after is not None and point.day is not None:
            year = int(after.group("year")) if after.group("year") else None
            base = point.start if year is None else _safe(year, point.month, point.day)
            end_day = base and _safe(base.year, point.month, int(after.group("bare")))
            if base is not None and end_day is not None and end_day >= base:
                if year is None and not point.year_written and end_day > today:
                    base, end_day = _last_year(base), _last_year(end_day)
                begin = _START.search(text[: point.begin])
                start_at = begin.start() if begin else point.begin
                return (
                    base,
                    end_day + timedelta(days=1),
                    text[start_at : point.finish + after.end()],
                )
        # "11 and 15 August 2023", "del 11 al 15 de agosto", "du 3 au 9 mars": the first
        # day shares the second's month.
        before = _BARE_BEFORE.search(text[: point.begin])
        if before is not None and point.day is not None:
            start_day = _safe(point.start.year, point.month, int(before.group("bare")))
            if start_day is not None and start_day <= point.start:
                return start_day, point.end, text[before.start() : point.finish]
    return None


def _pair(first: _Point, second: _Point, today: date) -> tuple[_Point, _Point]:
    """Two ends of a range, the year written once borrowed by the other."""
    if second.year_written and not first.year_written and first.day is not None:
        moved = _safe(second.start.year, first.month, first.day)
        if moved is not None:
            if moved > second.start:
                moved = _safe(second.start.year - 1, first.month, first.day) or moved
            first = _Point(
                moved,
                moved + timedelta(days=1),
                True,
                first.begin,
                first.finish,
                first.month,
                first.day,
            )
    elif first.year_written and not second.year_written and second.day is not None:
        moved = _safe(first.start.year, second.month, second.day)
        if moved is not None:
            if moved < first.start:
                moved = _safe(first.start.year + 1, second.month, second.day) or moved
            second = _Point(
                moved,
                moved + timedelta(days=1),
                True,
                second.begin,
                second.finish,
                second.month,
                second.day,
            )
    elif not first.year_written and not second.year_written and first.start > second.start:
        # "from December 28 to January 3": the first day is in the year before.
        earlier = _last_year(first.start)
        first = _Point(
            earlier,
            earlier + timedelta(days=1),
            False,
            first.begin,
            first.finish,
            first.month,
            first.day,
        )
    return (first, second) if first.start <= second.start else (second, first)


def _safe(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _last_year(day: date) -> date:
    return _safe(day.year - 1, day.month, day.day) or day.replace(day=28, year=day.year - 1)


def _before(text: str, today: date) -> Found | None:
    found = _BEFORE.search(text)
    if not found:
        return None
    points = _points(found.group("rest"), today)
    if not points:
        return None
    anchor = points[0].start
    days = {"day": 1, "week": 7, "weekend": 7, "month": 31}[found.group("unit").lower()]
    return anchor - timedelta(days=days), anchor, found.group(0)


def _part(text: str, today: date) -> Found | None:
    found = _PART_PATTERN.search(text)
    if not found:
        return None
    part = _PART[found.group("part").lower()]
    if found.group("yo"):
        year = int(found.group("yo"))
        bounds = ((1, 5), (5, 9), (9, 13))[part]
        start = date(year, bounds[0], 1)
        end = date(year + 1, 1, 1) if bounds[1] == 13 else date(year, bounds[1], 1)
        return start, end, found.group(0)
    month = MONTHS[_month_key(found.group("m"))]
    if found.group("y"):
        year = int(found.group("y"))
    else:
        year = today.year if (month, 1) <= (today.month, today.day) else today.year - 1
    first = date(year, month, 1)
    start = first + timedelta(days=(0, 10, 20)[part])
    end = (
        first + timedelta(days=10)
        if part == 0
        else (first + timedelta(days=20) if part == 1 else _next_month(first))
    )
    return start, end, found.group(0)


def _season(text: str, today: date) -> Found | None:
    found = next(
        (f for f in _SEASON.finditer(text) if f.group("q") or f.group("y") or f.group("y2")),
        None,
    )
    if not found:
        return None
    first_month = _SEASONS[found.group("season").lower()]
    raw_year = found.group("y") or found.group("y2")
    if raw_year:
        year = int(raw_year)
    else:
        # The latest such season that has begun.
        year = today.year
        if date(year, first_month, 1) > today:
            year -= 1
        if first_month == 12 and today.month <= 2:
            year = today.year - 1
    start = date(year, first_month, 1)
    end = date(year + (first_month + 3 > 12), (first_month + 3 - 1) % 12 + 1, 1)
    return start, end, found.group(0).strip()


def _point(text: str, today: date) -> Found | None:
    for point in _points(text, today):
        return point.start, point.end, text[point.begin : point.finish]
    return None


def _month_alone(text: str, today: date) -> Found | None:
    found = _MONTH_ALONE.search(text)
    if not found:
        return None
    # "in may" is a verb too often; "mar", "jan", "dec" are words or names elsewhere.
    if found.group("m").lower() in ("may", "mar", "jan", "dec"):
        return None
    month = MONTHS[_month_key(found.group("m"))]
    year = today.year if month <= today.month else today.year - 1
    start = date(year, month, 1)
    return start, _next_month(start), found.group(0)


def _year_alone(text: str, today: date) -> Found | None:
    found = _YEAR_ALONE.search(text)
    if not found:
        return None
    year = int(found.group("y"))
    return date(year, 1, 1), date(year + 1, 1, 1), found.group(0)


def _relative(text: str, today: date) -> Found | None:
    found = _RELATIVE_PATTERN.search(text)
    if found and found.group(0).lower() == "hier" and _GERMAN_HINT.search(text):
        found = _RELATIVE_PATTERN.search(text, found.end())
    if not found:
        return None
    index = next(int(name[1:]) for name, value in found.groupdict().items() if value)
    kind = _RELATIVE[index][1]
    monday = today - timedelta(days=today.weekday())
    month_start = today.replace(day=1)
    spans: dict[str, tuple[date, date]] = {
        "-2d": (today - timedelta(days=2), today - timedelta(days=1)),
        "-1d": (today - timedelta(days=1), today),
        "0d": (today, today + timedelta(days=1)),
        "-1weekend": (monday - timedelta(days=2), monday),
        "0weekend": (monday + timedelta(days=5), monday + timedelta(days=7)),
        "-1week": (monday - timedelta(days=7), monday),
        "7days": (today - timedelta(days=6), today + timedelta(days=1)),
        "0week": (monday, today + timedelta(days=1)),
        "-1month": (_previous_month(month_start), month_start),
        "30days": (today - timedelta(days=29), today + timedelta(days=1)),
        "0month": (month_start, today + timedelta(days=1)),
        "-1year": (date(today.year - 1, 1, 1), date(today.year, 1, 1)),
        "0year": (date(today.year, 1, 1), today + timedelta(days=1)),
    }
    start, end = spans[kind]
    return start, end, found.group(0)


def _ago(text: str, today: date) -> Found | None:
    found = _AGO.search(text)
    if not found:
        return None
    unit = _UNITS[
        next(
            g
            for g in (found.group("u1"), found.group("u2"), found.group("u3"), found.group("u4"))
            if g
        ).lower()
    ]
    words = found.group(0)
    # Number words as digits: dateparser knows "two weeks ago" but not every language's.
    tokens = words.split()
    number = 0 if found.group("u1") else len(tokens) - 2
    tokens[number] = _NUMBER_WORDS.get(tokens[number].lower(), tokens[number])
    phrase = " ".join(tokens)
    moment = _dateparser_date(phrase, today)
    if moment is None:
        return None
    return (*_unit_span(moment, unit), words)


def _weekday(text: str, today: date) -> Found | None:
    found = _WEEKDAY.search(text)
    if not found:
        return None
    words = found.group(0)
    bare = re.sub(
        r"^(?:last|on|this\s+past|past|letzten|letzter|vergangenen|am|el)\s+|\s+(?:pasado|dernier)$",
        "",
        words,
        flags=re.I,
    )
    moment = _dateparser_date(bare, today)
    if moment is None:
        return None
    # The latest such day before today ("on Friday" asked on a Friday is a week ago).
    while moment >= today:
        moment -= timedelta(days=7)
    while moment < today - timedelta(days=7):
        moment += timedelta(days=7)
    return moment, moment + timedelta(days=1), words


def _numeric(text: str, today: date) -> Found | None:
    found = _NUMERIC.search(text)
    if not found:
        return None
    first, _, second, _ = found.groups()
    if len(first) == 4:
        order = "YMD"
    elif int(first) > 12:
        order = "DMY"
    elif int(second) > 12:
        order = "MDY"
    else:
        # 03/04/2023: an English question reads it month first, the others day first.
        order = "MDY" if found.group(2) == "/" and _ENGLISH_HINT.search(text) else "DMY"
    moment = _dateparser_date(found.group(0), today, order)
    if moment is None:
        return None
    return moment, moment + timedelta(days=1), found.group(0)


def _unit_span(moment: date, unit: str) -> tuple[date, date]:
    if unit == "week":
        monday = moment - timedelta(days=moment.weekday())
        return monday, monday + timedelta(days=7)
    if unit == "month":
        start = moment.replace(day=1)
        return start, _next_month(start)
    if unit == "year":
        return date(moment.year, 1, 1), date(moment.year + 1, 1, 1)
    return moment, moment + timedelta(days=1)


_LANGUAGES = ["en", "de", "es", "fr"]


def _dateparser_date(words: str, today: date, order: str = "") -> date | None:
    """The day `dateparser` reads in `words`, relative to `today`, or None."""
    from dateparser import parse  # type: ignore[import-untyped]

    settings: dict[str, Any] = {
        "PREFER_DATES_FROM": "past",
        "RELATIVE_BASE": datetime(today.year, today.month, today.day, 12),
    }
    if order:
        settings["DATE_ORDER"] = order
    try:
        parsed = parse(words, languages=_LANGUAGES, settings=settings)
    except (ValueError, OverflowError):
        return None
    return parsed.date() if parsed is not None else None


def _next_month(first: date) -> date:
    return date(first.year + (first.month == 12), first.month % 12 + 1, 1)


def _previous_month(first: date) -> date:
    return date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)


def _span(tz: tzinfo, start: date, end: date, text: str) -> Period:
    return Period(
        datetime(start.year, start.month, start.day, tzinfo=tz),
        datetime(end.year, end.month, end.day, tzinfo=tz),
        " ".join(text.split()).rstrip("?.!,;:"),
    )
