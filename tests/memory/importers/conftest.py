from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

from twin_core.memory.importers.common import ImportItem, ImportProblem
from twin_core.types import InboundEvent

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED_EXPORTS = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "exports"


@pytest.fixture
def shared_exports() -> Path:
    """The real export files of other projects' test suites (see shared/data/SOURCES.md)."""
    if not SHARED_EXPORTS.is_dir():
        pytest.skip(f"real export files not present at {SHARED_EXPORTS} (../shared is absent)")
    return SHARED_EXPORTS.resolve()


def events(items: Iterable[ImportItem]) -> list[InboundEvent]:
    return [item for item in items if isinstance(item, InboundEvent)]


def split(items: Iterable[ImportItem]) -> tuple[list[InboundEvent], list[ImportProblem]]:
    found: list[InboundEvent] = []
    problems: list[ImportProblem] = []
    for item in items:
        if isinstance(item, InboundEvent):
            found.append(item)
        else:
            problems.append(item)
    return found, problems
