"""Background tasks with a handle: every task is kept until it ends and its failure is
logged, never lost (an un-referenced asyncio task can be garbage-collected mid-flight)."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

log = logging.getLogger("twin")

T = TypeVar("T")


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


class Stopped(Exception):
    """Blocking work gave up at one of its checkpoints because it was asked to stop."""


async def to_thread_stoppable(work: Callable[[threading.Event], T]) -> T:
    """`work(stop)` in a thread; when the awaiting task is cancelled, `stop` is set and
    the cancellation waits until `work` has returned before it goes on.

    `asyncio.to_thread` alone lets a cancelled task end while its thread runs on, and
    that thread may then write to a store its owner has closed meanwhile. Here the task
    ends only with its thread, so whoever cancels and awaits it (a job runner's `stop`)
    knows nothing of it is left running; `work` checks `stop` between its phases (and
    raises `Stopped`) so that the wait is short."""
    stop = threading.Event()
    running = asyncio.ensure_future(asyncio.to_thread(work, stop))
    try:
        return await asyncio.shield(running)
    except asyncio.CancelledError:
        stop.set()
        while not running.done():
            try:
                await asyncio.wait({running})
            except asyncio.CancelledError:  # asked again (`cancel_and_wait`): still waiting
                continue
        if not running.cancelled():
            running.exception()  # retrieved: the cancellation is what this task ends with
        raise
