"""Where jobs go: the bot's own process (kept in SQL), or arq on Redis.

Without Redis, `LocalJobQueue` runs every job in the bot's process at its time; pending
jobs wait in SQL, so a restart resumes them, and jobs another process put there (an
approval from the CLI, an import asking for indexing) are picked up within `poll_s`.
With Redis, `ArqJobQueue` hands jobs to arq: the `bot` queue is served by an arq worker
inside the bot process (`BotWorker`), the `work` queue by `twin worker`s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from typing import Any, Protocol

from twin_core.aio import TaskGroup
from twin_core.memory.models import JobStatus, ScheduledJob
from twin_core.memory.store import Store
from twin_core.types import utcnow
from workers.jobs import JOBS, JobContext, JobSpec, JobUnavailable, Queue

log = logging.getLogger("twin.jobs")


class JobQueue(Protocol):
    async def start(self) -> None:
        """Connect; jobs can be queued from now on."""
        ...

    async def run(self) -> None:
        """Begin running due jobs in this process (where this queue runs any)."""
        ...

    async def stop(self) -> None: ...

    async def enqueue(
        self, job: str, *args: Any, key: str, defer_s: float = 0.0, queue: Queue | None = None
    ) -> bool:
        """Schedule `job(*args)` once under `key` (on its own queue unless `queue` says
        otherwise); False when that key is already queued."""
        ...

    async def drain(self, horizon_s: float = 1.0) -> None:
        """Wait for the jobs due within `horizon_s` seconds (for scripts and tests)."""
        ...


def queue_names(prefix: str) -> dict[Queue, str]:
    """The Redis queue names for one twin (its install id keeps twins apart)."""
    return {"bot": f"{prefix}:bot", "work": f"{prefix}:work"}


class LocalJobQueue:
    """Runs jobs of `queues` in this process at their time; pending ones survive a
    restart in SQL. Jobs retry with backoff up to their `max_tries`."""

    def __init__(
        self,
        store: Store,
        context: JobContext,
        *,
        queues: Iterable[Queue] = ("bot", "work"),
        jobs: Mapping[str, JobSpec] = JOBS,
        poll_s: float = 2.0,
    ) -> None:
        self.store = store
        self.ctx: dict[str, Any] = {"twin": context}
        self.queues = set(queues)
        self.jobs = jobs
        self.poll_s = poll_s
        self._tasks = TaskGroup()
        self._running: dict[str, asyncio.Task[Any]] = {}
        self._started = False

    async def start(self) -> None:
        """Nothing to connect: jobs queued now wait in SQL until `run()`."""

    async def run(self) -> None:
        self._started = True
        await self._schedule_pending()
        self._tasks.spawn(self._poll(), name="jobs:poll")

    async def stop(self) -> None:
        self._started = False
        await self._tasks.cancel()

    async def enqueue(
        self, job: str, *args: Any, key: str, defer_s: float = 0.0, queue: Queue | None = None
    ) -> bool:
        spec = self.jobs.get(job)
        if spec is None:
            raise ValueError(f"unknown job {job!r}")
        run_at = utcnow() + timedelta(seconds=defer_s)
        if not await asyncio.to_thread(
            self.store.jobs.schedule, key, job, list(args), run_at, queue=queue or spec.queue
        ):
            return False
        if self._started:
            await self._schedule_pending()
        return True

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.poll_s)
            try:
                await self._schedule_pending()
            except Exception:
                log.exception("looking for queued jobs failed")

    async def _schedule_pending(self) -> None:
        for job in await asyncio.to_thread(self.store.jobs.pending):
            if job.queue in self.queues and job.key not in self._running:
                task = self._tasks.spawn(self._run(job), name=f"job:{job.key}")
                self._running[job.key] = task
                task.add_done_callback(self._forget(job.key))

    def _forget(self, key: str) -> Callable[[asyncio.Task[Any]], None]:
        def forget(_: asyncio.Task[Any]) -> None:
            self._running.pop(key, None)

        return forget

    async def _run(self, job: ScheduledJob) -> None:
        spec = self.jobs.get(job.name)
        assert job.id is not None
        if spec is None:
            await asyncio.to_thread(
                self.store.jobs.finish, job.id, JobStatus.FAILED, f"unknown job {job.name!r}"
            )
            return
        wait = (job.run_at - utcnow()).total_seconds()
        if wait > 0:
            await asyncio.sleep(wait)
        # The row this task was spawned for may be stale: a look at SQL can read a job
        # just before its running try records a retry, and spawn it again once that try
        # is over. Only the row as it is now says whether this try is still owed.
        current = await asyncio.to_thread(self.store.jobs.get, job.key)
        if (
            current is None
            or current.status != JobStatus.PENDING
            or current.attempts != job.attempts
            or current.run_at > utcnow() + timedelta(seconds=1)  # moved later meanwhile
        ):
            return
        try:
            result = await spec.function(self.ctx, *job.args)
        except Exception as exc:
            tries = job.attempts + 1
            error = f"{type(exc).__name__}: {exc}"
            if tries < spec.max_tries and not isinstance(exc, JobUnavailable):
                delay = spec.backoff(tries)
                log.warning(
                    "job %s failed (try %d of %d), again in %.0f s: %s",
                    job.key,
                    tries,
                    spec.max_tries,
                    delay,
                    error,
                )
                await asyncio.to_thread(
                    self.store.jobs.retry, job.id, utcnow() + timedelta(seconds=delay), error
                )
                # Picked up again by the next look at SQL (`_poll`).
                return
            log.error("job %s failed: %s", job.key, error, exc_info=exc)
            await asyncio.to_thread(self.store.jobs.finish, job.id, JobStatus.FAILED, error)
            return
        log.info("job %s: %s", job.key, result)
        await asyncio.to_thread(self.store.jobs.finish, job.id, JobStatus.DONE)

    async def drain(self, horizon_s: float = 1.0) -> None:
        """Wait for the jobs due within `horizon_s`, never for later ones."""
        pending = await asyncio.to_thread(self.store.jobs.pending)
        due = [
            self._running[j.key]
            for j in pending
            if j.key in self._running and (j.run_at - utcnow()).total_seconds() <= horizon_s
        ]
        await asyncio.gather(*due, return_exceptions=True)


class ArqJobQueue:
    """Hands jobs to arq workers on Redis. arq's job id is our key, so a job queued twice
    runs once."""

    def __init__(self, redis_url: str, names: Mapping[Queue, str]) -> None:
        self.redis_url = redis_url
        self.names = dict(names)
        self._pool: Any = None
        self._queued: dict[str, tuple[Any, float]] = {}
        """Jobs this process queued and may be asked to wait for: key -> (job, due)."""

    async def start(self) -> None:
        from arq import create_pool
        from arq.connections import RedisSettings

        redis = RedisSettings.from_dsn(self.redis_url)
        # Two tries, not arq's five a second apart: a wrong URL is said at once.
        redis.conn_retries, redis.conn_retry_delay = 2, 1
        self._pool = await create_pool(redis, default_queue_name=self.names["bot"])

    async def run(self) -> None:
        """The bot's own arq worker runs its jobs (`workers.settings.make_worker`)."""

    async def stop(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None

    async def enqueue(
        self, job: str, *args: Any, key: str, defer_s: float = 0.0, queue: Queue | None = None
    ) -> bool:
        if self._pool is None:
            raise RuntimeError("ArqJobQueue.start() was not awaited")
        spec = JOBS.get(job)
        if spec is None:
            raise ValueError(f"unknown job {job!r}")
        queued = await self._pool.enqueue_job(
            job,
            *args,
            _job_id=key,
            _defer_by=timedelta(seconds=defer_s),
            _queue_name=self.names[queue or spec.queue],
        )
        if queued is not None:
            self._queued[key] = (queued, asyncio.get_running_loop().time() + defer_s)
        return queued is not None

    async def drain(self, horizon_s: float = 1.0) -> None:
        """Wait for the jobs this process queued that are due within `horizon_s` to be
        run by their workers (the bot's own, or `twin worker`s); never for later ones."""
        now = asyncio.get_running_loop().time()
        due = [(key, job) for key, (job, at) in self._queued.items() if at - now <= horizon_s]
        for key, job in due:
            with contextlib.suppress(Exception):  # its failure is the job's to report
                await asyncio.wait_for(job.result(poll_delay=0.05), timeout=horizon_s + 30)
            self._queued.pop(key, None)
