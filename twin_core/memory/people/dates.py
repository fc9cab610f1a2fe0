"""Due dates: the date expression in a sentence, resolved from the message's own time.

Finding the expression is ours (one pattern per language, so "I'm free" never reads as
a date); reading it is dateparser's, relative to when the message was sent, in the
owner's time zone. Conventions, the same in every language:

* a weekday ("Friday", "bis Mittwoch", "el viernes", "vendredi"), with or without
  "next" / "nächsten" / "próximo" / "prochain", is the first such day after the day
  the message was sent;
* "next week" is the Monday of next week; "end of the week" its Friday; "the weekend"
  its Saturday; "end of the month" its last day;
* a due date is the end of that day in the owner's time zone.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Any

WEEKDAYS: dict[str, tuple[str, ...]] = {
    "en": ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
    "de": ("montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag", "sonntag"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
}
_NUMBER_WORDS = (
    r"\d+|a|an|one|two|three|four|five|six|ten|a couple of|"
    r"einer|einem|zwei|drei|vier|fünf|zehn|ein paar|"
    r"un|una|dos|tres|cuatro|cinco|diez|unos|unas|"
    r"une|deux|trois|quatre|cinq|dix|quelques"
)
_UNITS = (
    r"days?|weeks?|months?|hours?|tagen?|wochen?|monaten?|stunden?|"
    r"días?|semanas?|mes|meses|horas?|jours?|semaines?|mois|heures?"
)
_MONTHS = (
    r"january|february|march|april|may|june|july|august|september|october|november|december|"
    r"jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec|"
    r"januar|jänner|februar|märz|mai|juni|juli|oktober|dezember|"
    r"enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre|"
    r"janvier|février|mars|avril|juin|juillet|août|septembre|octobre|novembre|décembre"
)
_ALL_WEEKDAYS = "|".join(d for days in WEEKDAYS.values() for d in days)
_SPECIFIC = (
    rf"(?:{_NUMBER_WORDS})\s+(?:{_UNITS})",
    r"\d{1,2}[./]\d{1,2}(?:[./]\d{2,4})?\.?",
    rf"\d{{1,2}}(?:st|nd|rd|th|\.|er)?(?:\s+(?:of|de))?\s+(?:{_MONTHS})\b(?:\s+\d{{4}})?",
    rf"(?:{_MONTHS})\s+\d{{1,2}}(?:st|nd|rd|th)?\b",
)
_PHRASES = [
    # longest first: "the day after tomorrow" before "tomorrow"
    r"the day after tomorrow",
    r"übermorgen",
    r"pasado mañana",
    r"après[- ]demain",
    r"(?:at the |by the |the )?end of (?:the |this |next )?(?:week|month)",
    r"(?:bis )?(?:zum |am )?ende (?:der|dieser|nächster) woche",
    r"(?:bis )?(?:zum )?ende des monats",
    r"(?:a |para )?finales de (?:semana|mes)|(?:a |para )?fin de (?:semana|mes)",
    r"(?:d'ici |pour )?la fin de (?:la|cette) semaine|(?:d'ici |pour )?la fin du mois",
    r"(?:this|next) weekend|(?:over |on )?the weekend",
    r"(?:am |übers |dieses |nächstes )wochenende",
    r"este fin de semana|el fin de semana",
    r"ce week-?end|le week-?end",
    r"next week|next month|this week",
    r"nächste woche|nächsten monat|diese woche|kommende woche",
    r"la semana que viene|la próxima semana|el mes que viene|el próximo mes|esta semana",
    r"la semaine prochaine|le mois prochain|cette semaine",
    rf"(?:(?:next|this|on|by|until|before|coming)\s+)?(?:{_ALL_WEEKDAYS})"
    r"(?:\s+(?:que viene|próximo|prochain))?",
    rf"(?:(?:bis|am|nächsten|nächste|kommenden|diesen|el|este|próximo|d'ici|avant|"
    rf"ce|le|antes del)\s+)(?:{_ALL_WEEKDAYS})",
    r"tomorrow|tonight|today|later today|this (?:evening|afternoon|morning)",
    r"heute(?: abend| nachmittag| mittag)?|morgen(?: früh| abend| nachmittag)?",
    r"esta (?:noche|tarde)|hoy|(?<!la )(?<!por la )mañana",
    r"ce soir|cet après-midi|aujourd'hui|demain(?: matin| soir)?",
    rf"(?:in|within|in about|innerhalb von|en|dentro de|dans)\s+(?:{_NUMBER_WORDS})\s+(?:{_UNITS})",
    *(
        rf"(?:by|on|until|before|bis|am|bis zum|el|antes del|le|avant le|d'ici le)\s+{s}"
        for s in _SPECIFIC[1:]
    ),
    *_SPECIFIC[1:],
]
DATE_EXPRESSION = re.compile(
    r"(?<![\w-])(?:" + "|".join(_PHRASES) + r")(?![\w-])", re.IGNORECASE | re.UNICODE
)
_WEEKDAY_INDEX = {day: i for days in WEEKDAYS.values() for i, day in enumerate(days)}


@dataclass(frozen=True, slots=True)
class Due:
    text: str
    """The expression as written ("bis Mittwoch")."""
    day: date
    """The day it names, in the owner's time zone."""

    def at(self, zone: tzinfo) -> datetime:
        """The end of that day in `zone`: when a promise due then becomes overdue."""
        return datetime.combine(self.day, time(23, 59, 59), tzinfo=zone)


def find_due(text: str, sent_at: datetime, zone: tzinfo, language: str = "") -> Due | None:
    """The first date expression in `text`, resolved relative to `sent_at` (aware) in
    `zone`; None when there is none, or dateparser cannot read it."""
    for match in DATE_EXPRESSION.finditer(text):
        day = resolve(match.group(0), sent_at.astimezone(zone), language)
        if day is not None:
            return Due(match.group(0), day)
    return None


def resolve(expression: str, now: datetime, language: str = "") -> date | None:
    """The day `expression` names, seen from the local time `now`."""
    phrase = " ".join(expression.casefold().split())
    today = now.date()
    weekday = next((w for w in phrase.split() if w in _WEEKDAY_INDEX), None)
    if weekday is not None:
        ahead = (_WEEKDAY_INDEX[weekday] - today.weekday()) % 7 or 7
        return today + timedelta(days=ahead)
    next_monday = today + timedelta(days=7 - today.weekday())
    if re.search(r"week-?end|wochenende|fin de semana", phrase):
        saturday = today + timedelta(days=(5 - today.weekday()) % 7)
        return saturday + timedelta(days=7) if re.search(r"next|nächst", phrase) else saturday
    if re.search(r"end|ende|fin", phrase) and re.search(r"week|woche|semana|semaine", phrase):
        friday = today + timedelta(days=(4 - today.weekday()) % 7)
        return friday + timedelta(days=7) if re.search(r"next|nächst", phrase) else friday
    if re.search(r"end|ende|fin", phrase) and re.search(r"month|monat|mes|mois", phrase):
        return today.replace(day=calendar.monthrange(today.year, today.month)[1])
    if re.search(
        r"next week|nächste woche|kommende woche|semana que viene|próxima semana|"
        r"semaine prochaine",
        phrase,
    ):
        return next_monday
    if re.search(r"this week|diese woche|esta semana|cette semaine", phrase):
        return today + timedelta(days=(4 - today.weekday()) % 7)
    if re.search(
        r"tonight|later today|heute abend|esta noche|esta tarde|ce soir|cet après-midi", phrase
    ):
        return today
    if _AFTER_TOMORROW.search(phrase):
        return today + timedelta(days=2)
    phrase = _stripped(re.sub(r"^(?:within|innerhalb von|dentro de)\s+", "in ", phrase))
    if phrase in _SAME_DAY:
        return today
    if phrase in _NEXT_DAY:
        return today + timedelta(days=1)
    counted = re.fullmatch(r"(?:in|en|dans) (\d+) (\w+)", phrase)
    if counted:
        unit = counted.group(2)
        for pattern, days in _UNIT_DAYS:
            if re.match(pattern, unit):
                return today + timedelta(days=int(counted.group(1)) * days)
    # Absolute dates ("12 March", "20.3."): what dateparser reads, once per day seen.
    return _parsed(phrase, today, language)


_SAME_DAY = frozenset({"today", "heute", "hoy", "aujourd'hui"})
_NEXT_DAY = frozenset({"tomorrow", "morgen", "mañana", "demain"})
_UNIT_DAYS = (
    (r"day|tag|día|dia|jour", 1),
    (r"week|woche|semana|semaine", 7),
    (r"hour|stunde|hora|heure", 0),
)


@lru_cache(maxsize=4096)
def _parsed(phrase: str, today: date, language: str) -> date | None:
    base = datetime.combine(today, time(12, 0))
    parsed = _dateparser(phrase, base, language)
    return parsed.date() if parsed is not None else None


_LEADING = re.compile(
    r"^(?:by|on|until|before|in about|bis zum|bis|am|antes del|el|"
    r"d'ici le|d'ici|avant le|para|at the|by the|the)\s+"
)


_NUMBERS = {
    "a couple of": "2",
    "ein paar": "2",
    "unos": "2",
    "unas": "2",
    "quelques": "2",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "ten": "10",
    "einer": "1",
    "einem": "1",
    "zwei": "2",
    "drei": "3",
    "vier": "4",
    "fünf": "5",
    "zehn": "10",
    "un": "1",
    "una": "1",
    "dos": "2",
    "tres": "3",
    "cuatro": "4",
    "cinco": "5",
    "diez": "10",
    "une": "1",
    "deux": "2",
    "trois": "3",
    "quatre": "4",
    "cinq": "5",
    "dix": "10",
}
_NUMBER = re.compile(r"\b(" + "|".join(sorted(_NUMBERS, key=len, reverse=True)) + r")\b")
_DAYPART = re.compile(
    r"\s+(?:morning|evening|night|afternoon|früh|abend|nachmittag|mittag|matin|soir|"
    r"noch)$"
)
_AFTER_TOMORROW = re.compile(r"day after tomorrow|übermorgen|pasado mañana|après[- ]demain")


def _stripped(phrase: str) -> str:
    """The expression as dateparser reads it best: without the preposition before it
    ("bis morgen" -> "morgen") or the part of the day after it ("morgen früh"), with
    numbers as digits ("en dos semanas" -> "en 2 semanas"); "in"/"en"/"dans" stay."""
    previous = None
    while previous != phrase:
        previous, phrase = phrase, _LEADING.sub("", phrase)
    phrase = _DAYPART.sub("", phrase)
    if phrase.startswith(("in ", "en ", "dans ")) or re.match(r"\w+ (?:de )?\w", phrase):
        phrase = _NUMBER.sub(lambda m: _NUMBERS[m.group(1)], phrase)
    if re.fullmatch(r"\d{1,2}[./]\d{1,2}\.?", phrase):
        phrase = phrase.rstrip(".")
    return phrase


@lru_cache(maxsize=4)
def _settings(prefer: str) -> dict[str, Any]:
    return {"PREFER_DATES_FROM": prefer, "RETURN_AS_TIMEZONE_AWARE": False, "DATE_ORDER": "DMY"}


def _dateparser(phrase: str, base: datetime, language: str) -> datetime | None:
    import dateparser

    settings = dict(_settings("future"))
    settings["RELATIVE_BASE"] = base
    languages = [language] if language else ["en", "de", "es", "fr"]
    if phrase in ("tonight", "later today"):
        phrase = "today"
    return dateparser.parse(phrase, languages=languages, settings=settings)  # type: ignore[no-any-return]


_PAST = re.compile(
    r"(?<![\w-])(?:"
    r"the day before yesterday|vorgestern|anteayer|avant-hier|"
    r"yesterday|gestern|ayer|hier|"
    rf"last (?:{_ALL_WEEKDAYS})|(?:letzten|letzte|vergangenen) (?:{_ALL_WEEKDAYS})|"
    rf"(?:el )?(?:{_ALL_WEEKDAYS}) pasado|(?:{_ALL_WEEKDAYS}) dernier|"
    r"last (?:week-?end|week|month)|letzte woche|letztes wochenende|letzten monat|"
    r"la semana pasada|el fin de semana pasado|el mes pasado|"
    r"la semaine dernière|le week-?end dernier|le mois dernier|"
    rf"(?:{_NUMBER_WORDS})\s+(?:{_UNITS})\s+ago|vor\s+(?:{_NUMBER_WORDS})\s+(?:{_UNITS})|"
    rf"hace\s+(?:{_NUMBER_WORDS})\s+(?:{_UNITS})|il y a\s+(?:{_NUMBER_WORDS})\s+(?:{_UNITS})|"
    r"(?:on )?the \d{1,2}(?:st|nd|rd|th)\b|"
    r"earlier today|this morning|today|heute|hoy|aujourd'hui"
    r")(?![\w-])",
    re.IGNORECASE | re.UNICODE,
)


def find_when(text: str, sent_at: datetime, zone: tzinfo, language: str = "") -> Due | None:
    """When `text` says something happened ("yesterday", "last Friday", "two weeks
    ago", "on the 15th"), relative to `sent_at` in `zone`: the past counterpart of
    `find_due`. "Last week" is that week's Monday, "last weekend" its Saturday."""
    now = sent_at.astimezone(zone)
    today = now.date()
    for match in _PAST.finditer(text):
        phrase = " ".join(match.group(0).casefold().split())
        day = _past_day(phrase, today, now, language)
        if day is not None:
            return Due(match.group(0), day)
    return None


def _past_day(phrase: str, today: date, now: datetime, language: str) -> date | None:
    if re.search(r"day before yesterday|vorgestern|anteayer|avant-hier", phrase):
        return today - timedelta(days=2)
    if re.fullmatch(r"yesterday|gestern|ayer|hier", phrase):
        return today - timedelta(days=1)
    if re.fullmatch(r"earlier today|this morning|today|heute|hoy|aujourd'hui", phrase):
        return today
    weekday = next((w for w in phrase.split() if w in _WEEKDAY_INDEX), None)
    if weekday is not None:
        back = (today.weekday() - _WEEKDAY_INDEX[weekday]) % 7 or 7
        return today - timedelta(days=back)
    monday = today - timedelta(days=today.weekday())
    if re.search(r"week-?end|wochenende|fin de semana", phrase):
        return monday - timedelta(days=2)
    relative = re.search(r"\d|ago|vor |hace|il y a", phrase) is not None
    if re.search(r"week|woche|semana|semaine", phrase) and not relative:
        return monday - timedelta(days=7)
    if re.search(r"month|monat|mes|mois", phrase) and not relative:
        first = today.replace(day=1) - timedelta(days=1)
        return first.replace(day=1)
    ordinal = re.search(r"the (\d{1,2})(?:st|nd|rd|th)", phrase)
    if ordinal:
        wanted = int(ordinal.group(1))
        candidate = today
        for _ in range(62):
            if candidate.day == wanted:
                return candidate
            candidate -= timedelta(days=1)
        return None
    counted = re.sub(r"^(?:vor|hace|il y a)\s+", "", phrase)
    counted = re.sub(r"\s+ago$", "", counted)
    counted = _NUMBER.sub(lambda m: _NUMBERS[m.group(1)], counted)
    number = re.match(r"(\d+)\s+(\w+)", counted)
    if number is None:
        return None
    count, unit = int(number.group(1)), number.group(2)
    if re.match(r"day|tag|día|dia|jour", unit):
        return today - timedelta(days=count)
    if re.match(r"week|woche|semana|semaine", unit):
        return today - timedelta(days=7 * count)
    if re.match(r"hour|stunde|hora|heure", unit):
        return (now - timedelta(hours=count)).date()
    if re.match(r"month|monat|mes|mois", unit):
        parsed = _dateparser(f"{count} months ago", now.replace(tzinfo=None), "en")
        return parsed.date() if parsed is not None else None
    return None
