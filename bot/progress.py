"""The progress bar shown while recall's index catches up with the message store."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn


@contextmanager
def indexing_bar(
    description: str = "indexing for recall", console: Console | None = None
) -> Iterator[Callable[[int, int], None]]:
    """Yields a `progress(done, total)` callback that draws a bar with messages/second."""
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        "{task.fields[rate]}",
        TimeRemainingColumn(),
        console=console,
    ) as bar:
        task = bar.add_task(description, total=None, rate="")
        started = time.perf_counter()

        def progress(done: int, total: int) -> None:
            rate = done / max(time.perf_counter() - started, 1e-9)
            bar.update(task, completed=done, total=total or None, rate=f"{rate:,.0f} msg/s")

        yield progress
