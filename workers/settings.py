"""How `twin worker` builds an arq worker: the job functions and the twin's services in
its context, so jobs run in a separate process exactly as they do in the bot's."""

from __future__ import annotations

from arq import Worker
from arq.connections import RedisSettings

from workers.jobs import JOBS, JobContext

MAX_TRIES = 3


def make_worker(
    redis_url: str, twin: JobContext, *, burst: bool = False, queue_name: str = "twin:queue"
) -> Worker:
    return Worker(
        queue_name=queue_name,
        functions=list(JOBS.values()),  # type: ignore[arg-type]
        redis_settings=RedisSettings.from_dsn(redis_url),
        ctx={"twin": twin},
        max_tries=MAX_TRIES,
        burst=burst,
        handle_signals=not burst,
    )
