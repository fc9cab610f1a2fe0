"""Accuracy of recall's period reader on a table of expressions with their expected days.

    .venv/bin/python benchmarks/period_expressions.py [--table FILE] [--show-misses]

The table (tests/memory/data/period_expressions.tsv) holds queries in English, German,
Spanish and French, each with the days it names (or none), all asked at one fixed
moment in Europe/Berlin. A query is right when the reader returns exactly those days,
or nothing for a query that names no period. Printed: accuracy per language and in
all, for the reader before issue 10 (benchmarks/period_v1.py) and the current one,
and the mean time per query.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import period_v1
from twin_core.memory import period

TABLE = Path(__file__).resolve().parents[1] / "tests" / "memory" / "data" / "period_expressions.tsv"
ZONE = ZoneInfo("Europe/Berlin")
NOW = datetime(2024, 3, 13, 15, 0, tzinfo=ZONE)

Row = tuple[str, str, date | None, date | None]
Reader = Callable[[str, datetime, tzinfo], object]


def load(path: Path = TABLE) -> list[Row]:
    rows: list[Row] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        language, query, start, end = line.split("\t")
        rows.append(
            (
                language,
                query,
                None if start == "-" else date.fromisoformat(start),
                None if end == "-" else date.fromisoformat(end),
            )
        )
    return rows


def days_of(found: object) -> tuple[date, date] | None:
    if found is None:
        return None
    start = found.start  # type: ignore[attr-defined]
    end = found.end  # type: ignore[attr-defined]
    return start.astimezone(ZONE).date(), end.astimezone(ZONE).date()


def score(reader: Reader, rows: list[Row]) -> tuple[dict[str, list[bool]], list[str], float]:
    right: dict[str, list[bool]] = defaultdict(list)
    misses: list[str] = []
    started = time.perf_counter()
    for language, query, start, end in rows:
        got = days_of(reader(query, NOW, ZONE))
        expected = None if start is None else (start, end)
        ok = got == expected
        right[language].append(ok)
        if not ok:
            misses.append(f"  {language} {query!r}: expected {expected}, got {got}")
    return right, misses, (time.perf_counter() - started) / len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--table", type=Path, default=TABLE)
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()
    rows = load(args.table)
    languages = sorted({r[0] for r in rows})
    # dateparser loads its language data on first use: not part of a query's time.
    period.find_period("vor zwei Wochen", NOW, ZONE)
    print(f"{len(rows)} expressions, asked {NOW.isoformat()} ({ZONE.key})")
    header = "reader".ljust(12) + "".join(f"{lang:>10}" for lang in languages)
    print(header + f"{'all':>10}{'ms/query':>10}")
    for name, reader in (("before", period_v1.find_period), ("now", period.find_period)):
        right, misses, seconds = score(reader, rows)
        cells = "".join(f"{sum(right[lang]) / len(right[lang]):>10.3f}" for lang in languages)
        total = sum(sum(v) for v in right.values()) / len(rows)
        print(name.ljust(12) + cells + f"{total:>10.3f}{seconds * 1000:>10.2f}")
        if args.show_misses and misses:
            print("\n".join(misses))


if __name__ == "__main__":
    main()
