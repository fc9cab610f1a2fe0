"""Background tasks end when asked, even when one cancellation is swallowed."""

from __future__ import annotations

import asyncio
import threading
import time

from twin_core.aio import Stopped, TaskGroup, cancel_and_wait, to_thread_stoppable


async def _swallows_one_cancel(log: list[str]) -> None:
    """What Python 3.11's `wait_for` does when the answer and the cancellation meet:
    the first cancellation is dropped and the loop goes on."""
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        log.append("swallowed")
    await asyncio.Event().wait()


async def test_a_task_that_swallows_a_cancellation_still_ends() -> None:
    log: list[str] = []
    task = asyncio.create_task(_swallows_one_cancel(log))
    await asyncio.sleep(0)
    await asyncio.wait_for(cancel_and_wait(task, again_after_s=0.01), 5)
    assert task.cancelled()
    assert log == ["swallowed"]


async def test_a_task_group_cancels_stubborn_and_failed_tasks() -> None:
    log: list[str] = []
    group = TaskGroup()
    group.spawn(_swallows_one_cancel(log), name="stubborn")

    async def fails() -> None:
        raise RuntimeError("boom")

    failed = group.spawn(fails(), name="fails")
    await asyncio.sleep(0)
    await asyncio.wait_for(group.cancel(), 5)
    assert len(group) == 0
    assert log == ["swallowed"]
    assert isinstance(failed.exception(), RuntimeError)


async def test_a_cancelled_thread_job_ends_only_after_its_thread_has() -> None:
    """`to_thread_stoppable`: the cancellation sets the stop flag and waits for the
    thread's work to return, so nothing it does happens after its task has ended."""
    started = threading.Event()
    log: list[str] = []

    def work(stop: threading.Event) -> str:
        started.set()
        while not stop.wait(0.01):
            pass
        time.sleep(0.2)  # the work between its last look and its return
        log.append("returned")
        raise Stopped("stopped")

    task = asyncio.create_task(to_thread_stoppable(work))
    await asyncio.to_thread(started.wait, 5)
    await asyncio.wait_for(cancel_and_wait(task, again_after_s=0.01), 5)
    assert task.cancelled()
    assert log == ["returned"]


async def test_a_thread_job_not_cancelled_returns_its_result() -> None:
    def work(stop: threading.Event) -> str:
        return "done" if not stop.is_set() else "stopped"

    assert await to_thread_stoppable(work) == "done"
