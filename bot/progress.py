"""The progress bars of long command-line work: recall's index catching up with the
message store, the draft-confidence refit."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TimeRemainingColumn

from twin_core.memory.recall import Recall

OPTIMIZE_AFTER = 10_000
"""After indexing this many messages at once, build the search structures: until then
queries compare every new point by brute force (10-15 ms per 100,000 points)."""


def optimize_if_large(
    recall: Recall,
    indexed: int,
    console: Console | None = None,
    threshold: int = OPTIMIZE_AFTER,
) -> bool:
    """Optimize when `indexed` messages were just added in bulk; True when it did."""
    if indexed < threshold:
        return False
    with (console or Console(stderr=True)).status(
        f"building the search index for {indexed:,} new messages (about 50 s per 100,000)"
    ):
        recall.optimize()
    return True


def _bar(console: Console | None) -> Progress:
    """A bar with a count, a rate (the task's `rate` field) and the time left."""
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        "{task.fields[rate]}",
        TimeRemainingColumn(),
        console=console,
    )


@contextmanager
def indexing_bar(
    description: str = "indexing for recall", console: Console | None = None
) -> Iterator[Callable[[int, int], None]]:
    """Yields a `progress(done, total)` callback that draws a bar with messages/second."""
    with _bar(console) as bar:
        task = bar.add_task(description, total=None, rate="")
        started = time.perf_counter()

        def progress(done: int, total: int) -> None:
            rate = done / max(time.perf_counter() - started, 1e-9)
            bar.update(task, completed=done, total=total or None, rate=f"{rate:,.0f} msg/s")

        yield progress


@contextmanager
def phased_bar(
    description: str, units: Mapping[str, str], console: Console | None = None
) -> Iterator[Callable[[str, int, int], None]]:
    """Yields a `progress(phase, done, total)` callback that draws one bar per phase,
    with `units[phase]`s/second."""
    with _bar(console) as bar:
        tasks: dict[str, tuple[TaskID, float]] = {}

        def progress(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                task = bar.add_task(f"{description}: {phase}", total=total or None, rate="")
                tasks[phase] = (task, time.perf_counter())
            task, started = tasks[phase]
            rate = done / max(time.perf_counter() - started, 1e-9)
            unit = units.get(phase, "")
            bar.update(task, completed=done, total=total or None, rate=f"{rate:,.0f} {unit}/s")

        yield progress
