"""People-memory extraction without a language model: promises, due dates and facts.

    .venv/bin/python benchmarks/people_extraction.py [--data LOCOMO_FILE] [--messages N]

1. The labelled set `benchmarks/data/people_{en,de,es,fr}.txt` (written for this
   project: promises with due dates, facts, and look-alikes that are neither; every
   message sent on Wednesday 2026-03-04 10:00), which the rules were developed
   against, and `people_heldout.txt`, written afterwards and never tuned on. Per
   language: precision and recall of promise detection, due-date accuracy (over the
   labelled promises with a date that were found: the resolved day equals the
   label), and fact precision / recall (a fact counts when its kind matches and its
   value matches after case folding).
2. LoCoMo (`--data`, default the shared file): for each question about *when*
   something happened (category 2), its evidence turns are read by the same date
   reader (`find_when` for the past, then `find_due`), relative to their session's
   date; the figure is how many questions have an evidence turn whose date expression
   resolves to the day the gold answer names ("7 May 2023", "the Friday before 15 July
   2023"), or to the week it names ("the week before 9 June 2023"). Answers naming
   only a month, a year or a span are not counted.
3. Throughput: an import of `--messages` messages read by `PeopleMemory.catch_up`.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from twin_core.memory.people.dates import find_due, find_when
from twin_core.memory.people.rules import extract

HERE = Path(__file__).resolve().parent
SENT_AT = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
DEFAULT_LOCOMO = HERE.parents[1] / "shared" / "data" / "locomo" / "locomo10.json"


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.3f}" if b else "  -  "


def _rows(path: Path) -> list[tuple[str, str, str, str, str]]:
    rows = []
    for line in path.read_text("utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            language, promise, due, facts, text = line.split("|", 4)
            rows.append((language, promise, due, facts, text))
    return rows


def labelled(title: str, paths: list[Path]) -> None:
    print(f"\n{title}")
    print(
        f"{'lang':5} {'msgs':>5} {'prom P':>7} {'prom R':>7} {'due acc':>8} "
        f"{'fact P':>7} {'fact R':>7} {'ms/msg':>7}"
    )
    by_language: dict[str, list[tuple[str, str, str, str, str]]] = defaultdict(list)
    for path in paths:
        for row in _rows(path):
            by_language[row[0]].append(row)
    totals: dict[str, int] = defaultdict(int)
    for language in ("en", "de", "es", "fr"):
        counts: dict[str, int] = defaultdict(int)
        started = time.perf_counter()
        for _, promise, due, facts, text in by_language[language]:
            counts["messages"] += 1
            found = extract(text, SENT_AT, UTC)
            said = promise == "C"
            got = bool(found.commitments)
            counts["tp"] += said and got
            counts["fp"] += got and not said
            counts["fn"] += said and not got
            if said and got and due != "-":
                counts["due_total"] += 1
                first = found.commitments[0].due
                counts["due_ok"] += first is not None and first.day.isoformat() == due
            wanted = {
                (k, v.casefold()) for k, _, v in (f.partition("=") for f in facts.split(";") if f)
            }
            have = {(f.kind, f.value.casefold()) for f in found.facts}
            counts["fact_tp"] += len(wanted & have)
            counts["fact_fp"] += len(have - wanted)
            counts["fact_fn"] += len(wanted - have)
        elapsed = time.perf_counter() - started
        for key, value in counts.items():
            totals[key] += value
        _row(language, counts, elapsed)
    _row("all", totals, None)


def _row(name: str, c: dict[str, int], elapsed: float | None) -> None:
    per = f"{elapsed * 1000 / max(c['messages'], 1):7.2f}" if elapsed is not None else "       "
    print(
        f"{name:5} {c['messages']:5d} {_ratio(c['tp'], c['tp'] + c['fp']):>7} "
        f"{_ratio(c['tp'], c['tp'] + c['fn']):>7} {_ratio(c['due_ok'], c['due_total']):>8} "
        f"{_ratio(c['fact_tp'], c['fact_tp'] + c['fact_fp']):>7} "
        f"{_ratio(c['fact_tp'], c['fact_tp'] + c['fact_fn']):>7} {per}"
    )


_SESSION_DATE = re.compile(
    r"(\d{1,2}):(\d{2})\s*(am|pm)\s+on\s+(\d{1,2})\s+(\w+),?\s+(\d{4})", re.I
)
_DATE = r"(?:(\d{1,2})\s+(\w+),?\s+(\d{4})|(\w+)\s+(\d{1,2}),\s+(\d{4}))"
_GOLD_DAY = re.compile(rf"^\s*(?:on |around )?{_DATE}\.?\s*$", re.I)
_GOLD_BEFORE = re.compile(
    rf"^\s*(?:on )?(?:a |the |last )?(\w+) (?:\w+ )?before {_DATE}\.?\s*$", re.I
)
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_COUNTS = {"one": 1, "two": 2, "three": 3, "a": 1}


def _session_time(text: str) -> datetime | None:
    match = _SESSION_DATE.search(text)
    if match is None:
        return None
    hour, minute, half, day, month, year = match.groups()
    try:
        parsed = datetime.strptime(f"{day} {month} {year}", "%d %B %Y")
    except ValueError:
        return None
    hour_24 = int(hour) % 12 + (12 if half.lower() == "pm" else 0)
    return parsed.replace(hour=hour_24, minute=int(minute), tzinfo=UTC)


def _date(groups: tuple[str | None, ...]) -> date | None:
    day, month, year = groups[0:3] if groups[0] else (groups[4], groups[3], groups[5])
    try:
        return datetime.strptime(f"{day} {month} {year}", "%d %B %Y").date()
    except ValueError:
        return None


def gold(answer: str) -> tuple[date, str] | None:
    """The day a "when" answer names, and how exactly it is compared: `day`, or `week`
    for "the week before 9 June 2023" (any day of that week)."""
    match = _GOLD_DAY.match(answer)
    if match:
        found = _date(match.groups())
        return (found, "day") if found else None
    match = _GOLD_BEFORE.match(answer)
    if match is None:
        return None
    what, anchor = match.group(1).casefold(), _date(match.groups()[1:])
    if anchor is None:
        return None
    if what in _WEEKDAYS:
        back = (anchor.weekday() - _WEEKDAYS.index(what)) % 7 or 7
        return anchor - timedelta(days=back), "day"
    if what == "weekend":
        back = (anchor.weekday() - 5) % 7 or 7
        return anchor - timedelta(days=back), "day"
    if what == "week":
        return anchor - timedelta(days=7), "week"
    count = re.match(r"(\w+) weeks?", answer.strip(), re.I)
    if count and count.group(1).casefold() in _COUNTS:
        return anchor - timedelta(days=7 * _COUNTS[count.group(1).casefold()]), "day"
    return None


def _same(resolved: date, wanted: date, precision: str) -> bool:
    if precision == "week":
        return resolved.isocalendar()[:2] == wanted.isocalendar()[:2]
    return resolved == wanted


def locomo(path: Path) -> None:
    if not path.exists():
        print(f"\nLoCoMo: {path} not found (pass --data FILE); skipped")
        return
    samples = json.loads(path.read_text("utf-8"))
    asked = resolved = readable = no_expression = same_day = 0
    for sample in samples:
        conversation = sample["conversation"]
        turns: dict[str, tuple[str, datetime]] = {}
        for key, value in conversation.items():
            if not re.fullmatch(r"session_(\d+)", key) or not isinstance(value, list):
                continue
            when = _session_time(str(conversation.get(f"{key}_date_time", "")))
            if when is None:
                continue
            for turn in value:
                turns[str(turn.get("dia_id", ""))] = (str(turn.get("text", "")), when)
        for qa in sample.get("qa", []):
            if qa.get("category") != 2:
                continue
            asked += 1
            wanted = gold(str(qa.get("answer", "")))
            if wanted is None:
                continue
            readable += 1
            evidence = [
                turns[e.strip()]
                for ref in qa.get("evidence", [])
                for e in re.split(r"[;\s]+", str(ref))
                if e.strip() in turns
            ]
            days = []
            for text, when in evidence:
                found = find_when(text, when, UTC, "en") or find_due(text, when, UTC, "en")
                if found is not None:
                    days.append(found.day)
            if not days:
                no_expression += 1
                # No expression: the event is the session's own day, as often it is.
                same_day += any(_same(when.date(), wanted[0], wanted[1]) for _, when in evidence)
            resolved += any(_same(day, wanted[0], wanted[1]) for day in days)
    print(
        f"\nLoCoMo questions about when (category 2): {asked}; with an answer naming a day "
        f"or a week: {readable}; resolved from the evidence turn's date expression: "
        f"{resolved} ({_ratio(resolved, readable)}); evidence without an expression: "
        f"{no_expression} (of which the session's own day is right: {same_day}); "
        f"both together: {resolved + same_day} ({_ratio(resolved + same_day, readable)})"
    )


def throughput(count: int) -> None:
    """Store `count` messages of the labelled set's texts (40 contacts, a message every
    17 minutes) in a fresh SQLite database and time `PeopleMemory.catch_up`: what the
    `extract_people` job does after an import."""
    import tempfile

    from twin_core.memory.people import PeopleMemory
    from twin_core.memory.store import Store
    from twin_core.types import ChannelName, ChatId, ExternalId, HandleId, InboundEvent

    texts = [
        row[4]
        for language in ("en", "de", "es", "fr")
        for row in _rows(HERE / "data" / f"people_{language}.txt")
    ]
    texts += ["ok", "haha yes", "see you then", "thanks!", "how are you?"] * 60
    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(f"sqlite:///{folder}/twin.db")
        start = datetime(2025, 1, 1, tzinfo=UTC)
        events = []
        for n in range(count):
            person = f"p{n % 40}"
            owner = n % 3 == 0
            events.append(
                InboundEvent(
                    channel=ChannelName("bench"),
                    external_id=ExternalId(str(n)),
                    chat_id=ChatId(person),
                    sender_id=HandleId("me" if owner else person),
                    sender_name=person,
                    text=texts[n % len(texts)],
                    sent_at=start + timedelta(minutes=17 * n),
                    from_owner=owner,
                )
            )
        store.messages.record_many(events)
        people = PeopleMemory(store)
        started = time.perf_counter()
        derived = people.catch_up()
        elapsed = time.perf_counter() - started
        print(
            f"\nReading an import of {count:,} messages (SQLite, one process): "
            f"{elapsed:.1f} s, {count / elapsed:,.0f} msg/s; {derived.commitments:,} "
            f"promises, {derived.facts:,} facts, {derived.closed:,} kept"
        )
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_LOCOMO, help="LoCoMo file")
    parser.add_argument(
        "--messages", type=int, default=20_000, help="import size to time (0: skip)"
    )
    args = parser.parse_args()
    data = HERE / "data"
    labelled(
        "Labelled set (the rules were written against it):",
        [data / f"people_{language}.txt" for language in ("en", "de", "es", "fr")],
    )
    labelled("Held-out set (written afterwards, never tuned on):", [data / "people_heldout.txt"])
    locomo(args.data)
    if args.messages:
        throughput(args.messages)


if __name__ == "__main__":
    main()
