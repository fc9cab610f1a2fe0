"""The period reader on the table of expressions in four languages (issue 10, item 6).

The same table feeds benchmarks/period_expressions.py, which prints accuracy against
the reader before the issue; here every row must be read to its expected days.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from twin_core.memory.period import find_period

TABLE = Path(__file__).resolve().parent / "data" / "period_expressions.tsv"
ZONE = ZoneInfo("Europe/Berlin")


def _rows() -> list[tuple[str, str, str, str]]:
    rows = []
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            language, query, start, end = line.split("\t")
            rows.append((language, query, start, end))
    return rows


ROWS = _rows()


def test_the_table_is_large_and_covers_every_importer_language() -> None:
    assert len(ROWS) >= 100
    assert {r[0] for r in ROWS} == {"en", "de", "es", "fr"}
    assert sum(r[2] == "-" for r in ROWS) >= 10  # and things that are not dates


@pytest.mark.parametrize(("language", "query", "start", "end"), ROWS, ids=[r[1] for r in ROWS])
def test_each_expression_names_its_days(language: str, query: str, start: str, end: str) -> None:
    now = datetime(2024, 3, 13, 15, 0, tzinfo=ZONE)
    found = find_period(query, now, ZONE)
    if start == "-":
        assert found is None, f"{query!r} read as {found}"
        return
    assert found is not None, f"{query!r} ({language}) not read"
    assert found.start.tzinfo is ZONE
    assert (found.start.date(), found.end.date()) == (
        date.fromisoformat(start),
        date.fromisoformat(end),
    )
    # The words that named it are in the query.
    assert found.text and found.text.lower() in " ".join(query.split()).lower()
