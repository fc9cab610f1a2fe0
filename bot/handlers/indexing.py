"""Recall's index follows the store in the background, never on a message's path.

After new messages, the indexer wakes and indexes them (off the event loop). When far
more is waiting than a live trickle (an import, a long pause), it does not do that
inline: it queues the `index_backlog` job, which reports progress as it goes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from twin_core.aio import to_thread_stoppable
from twin_core.memory.service import Memory

log = logging.getLogger("twin.indexing")

LIVE_LIMIT = 2_000
"""More pending than this is a backlog: a job, with progress."""


class LiveIndexer:
    def __init__(
        self,
        memory: Memory,
        queue_backlog: Callable[[int], Awaitable[None]],
        *,
        live_limit: int = LIVE_LIMIT,
        gather_s: float = 1.0,
    ) -> None:
        self.memory = memory
        self.queue_backlog = queue_backlog
        self.live_limit = live_limit
        self.gather_s = gather_s
        """How long new messages gather before they are indexed together: one
        embedding call for several, and drafting, which never needs the newest
        messages indexed, keeps the CPU meanwhile."""
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._quiet = asyncio.Event()
        self._quiet.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="indexer")
        self._wake.set()

    def wake(self) -> None:
        self._quiet.clear()
        self._wake.set()

    async def settled(self) -> None:
        """Until what was recorded so far is indexed (or handed to the backlog job)."""
        await self._quiet.wait()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            if self.gather_s:
                await asyncio.sleep(self.gather_s)
            self._wake.clear()
            try:
                pending = await asyncio.to_thread(self.memory.pending)
                if pending > self.live_limit:
                    await self.queue_backlog(pending)
                elif pending:
                    # Stopping waits for a batch under way: the store is closed
                    # only after its last write.
                    await to_thread_stoppable(lambda _stop: self.memory.index(wait=False))
            except Exception:
                log.exception("indexing new messages failed (they are stored)")
            if not self._wake.is_set():
                self._quiet.set()
