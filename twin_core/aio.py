"""Background tasks with a handle: every task is kept until it ends and its failure is
logged, never lost (an un-referenced asyncio task can be garbage-collected mid-flight)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger("twin")


class TaskGroup:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("task %s failed", task.get_name(), exc_info=task.exception())

    def __len__(self) -> int:
        return len(self._tasks)

    async def wait(self) -> None:
        """Wait until every task (including ones spawned meanwhile) has ended."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def cancel(self) -> None:
        await asyncio.gather(*(cancel_and_wait(task) for task in list(self._tasks)))


async def cancel_and_wait(task: asyncio.Task[Any], *, again_after_s: float = 1.0) -> None:
    """Cancel `task` and wait until it has ended, whatever it ended with.

    One `cancel()` is not always enough: on Python 3.11, `asyncio.wait_for` (which
    aioimaplib, among others, awaits every answer with) returns the answer instead of
    raising when the cancellation lands just as the answer arrives, and the task runs
    on. So the cancellation is asked for again until the task has ended."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=again_after_s)
    if not task.cancelled():
        task.exception()  # retrieved: its failure is the task's owner's to report
