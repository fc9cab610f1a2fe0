"""arq workers for the twin's jobs: the bot's own (the `bot` queue, inside `twin run`)
and `twin worker` (the `work` queue). Resources are built in `on_startup` and closed in
`on_shutdown`; each job function carries its own tries (`workers.jobs.JOBS`)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from arq import Retry, Worker
from arq.connections import RedisSettings
from arq.worker import Function, func

from workers.jobs import JOBS, JobContext, JobSpec, JobUnavailable

log = logging.getLogger("twin.jobs")

Startup = Callable[[dict[str, Any]], Awaitable[None]]


def arq_function(spec: JobSpec) -> Function:
    """`spec` as an arq function: retried with backoff up to its `max_tries`."""

    async def run(ctx: dict[str, Any], *args: Any) -> Any:
        try:
            return await spec.function(ctx, *args)
        except JobUnavailable:
            raise
        except Exception as exc:
            tries = int(ctx.get("job_try", 1))
            if tries < spec.max_tries:
                log.warning(
                    "job %s failed (try %d of %d): %s", spec.name, tries, spec.max_tries, exc
                )
                raise Retry(defer=spec.backoff(tries)) from exc
            raise

    run.__qualname__ = run.__name__ = spec.name
    return func(run, name=spec.name, max_tries=spec.max_tries, timeout=spec.timeout_s)


def make_worker(
    redis_url: str,
    queue_name: str,
    *,
    jobs: Iterable[str],
    on_startup: Startup,
    on_shutdown: Startup | None = None,
    burst: bool = False,
    specs: Mapping[str, JobSpec] = JOBS,
) -> Worker:
    # arq types its hooks over dict[Any, Any]; ours take the same dict.
    return Worker(
        queue_name=queue_name,
        functions=[arq_function(specs[name]) for name in jobs],  # type: ignore[arg-type]
        redis_settings=RedisSettings.from_dsn(redis_url),
        on_startup=on_startup,  # type: ignore[arg-type]
        on_shutdown=on_shutdown,  # type: ignore[arg-type]
        burst=burst,
        handle_signals=not burst,
        poll_delay=0.2,
    )


def context_startup(context: JobContext) -> Startup:
    """An `on_startup` for a worker whose resources exist already (the bot's own)."""

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["twin"] = context

    return startup
