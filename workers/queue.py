"""Where deferred jobs go: the bot's own process (kept in SQL), or arq on Redis."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any, Protocol

from twin_core.aio import TaskGroup
from twin_core.memory.models import JobStatus, ScheduledJob
from twin_core.memory.store import Store
from twin_core.types import utcnow
from workers.jobs import JOBS

log = logging.getLogger("twin.jobs")


class JobQueue(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def enqueue(self, job: str, *args: Any, key: str, defer_s: float = 0.0) -> bool:
        """Schedule `job(*args)` once under `key`; False when that key is already queued."""
        ...

    async def drain(self, horizon_s: float = 1.0) -> None:
        """Wait for the jobs due within `horizon_s` seconds (for scripts and tests)."""
        ...


class LocalJobQueue:
    """Runs jobs in this process at their time; pending ones survive a restart in SQL."""

    def __init__(
        self,
        store: Store,
        ctx: Mapping[str, Any],
        jobs: Mapping[str, Callable[..., Awaitable[Any]]] = JOBS,
    ) -> None:
        self.store = store
        self.ctx = ctx
        self.jobs = jobs
        self._tasks = TaskGroup()
        self._running: dict[str, asyncio.Task[Any]] = {}
        self._started = False

    async def start(self) -> None:
        self._started = True
        for job in self.store.pending_jobs():
            self._schedule(job)

    async def stop(self) -> None:
        await self._tasks.cancel()
        self._started = False

    async def enqueue(self, job: str, *args: Any, key: str, defer_s: float = 0.0) -> bool:
        if job not in self.jobs:
            raise ValueError(f"unknown job {job!r}")
        run_at = utcnow() + timedelta(seconds=defer_s)
        if not self.store.schedule_job(key, job, list(args), run_at):
            return False
        if self._started:
            for pending in self.store.pending_jobs():
                if pending.key == key:
                    self._schedule(pending)
        return True

    def _schedule(self, job: ScheduledJob) -> None:
        task = self._tasks.spawn(self._run(job), name=f"job:{job.key}")
        self._running[job.key] = task
        task.add_done_callback(lambda _: self._running.pop(job.key, None))

    async def _run(self, job: ScheduledJob) -> None:
        wait = (job.run_at - utcnow()).total_seconds()
        if wait > 0:
            await asyncio.sleep(wait)
        assert job.id is not None
        try:
            result = await self.jobs[job.name](self.ctx, *job.args)
        except Exception as exc:
            log.exception("job %s failed", job.key)
            self.store.finish_job(job.id, JobStatus.FAILED, f"{type(exc).__name__}: {exc}")
            return
        log.info("job %s: %s", job.key, result)
        self.store.finish_job(job.id, JobStatus.DONE)

    async def drain(self, horizon_s: float = 1.0) -> None:
        """Wait for the jobs due within `horizon_s`, never for later ones."""
        due = [
            self._running[j.key]
            for j in self.store.pending_jobs()
            if j.key in self._running and (j.run_at - utcnow()).total_seconds() <= horizon_s
        ]
        await asyncio.gather(*due, return_exceptions=True)


class ArqJobQueue:
    """Hands jobs to arq workers on Redis. arq's job id is our key, so a job queued twice
    runs once."""

    def __init__(self, redis_url: str, queue_name: str = "twin:queue") -> None:
        self.redis_url = redis_url
        self.queue_name = queue_name
        self._pool: Any = None

    async def start(self) -> None:
        from arq import create_pool
        from arq.connections import RedisSettings

        self._pool = await create_pool(
            RedisSettings.from_dsn(self.redis_url), default_queue_name=self.queue_name
        )

    async def stop(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None

    async def enqueue(self, job: str, *args: Any, key: str, defer_s: float = 0.0) -> bool:
        if self._pool is None:
            raise RuntimeError("ArqJobQueue.start() was not awaited")
        queued = await self._pool.enqueue_job(
            job, *args, _job_id=key, _defer_by=timedelta(seconds=defer_s)
        )
        return queued is not None

    async def drain(self, horizon_s: float = 1.0) -> None:
        """Jobs run in the workers; nothing to wait for in this process."""
