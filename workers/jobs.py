"""Job functions and their settings. Each is a plain `async def job(ctx, ...)`, a thin
shim over a twin_core service found in the typed `JobContext`, so the same function
runs in the bot's process or in an arq worker.

Two queues. `bot` runs in the process that holds the channels (`twin run`): sends, and
anything that must touch what only that process has open (an embedded vector index).
`work` is for channel-free jobs, run by `twin worker`s beside the bot when Redis is
configured (and by the bot itself otherwise).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from twin_core.aio import Stopped, to_thread_stoppable
from twin_core.memory.people import Derived, PeopleMemory
from twin_core.memory.service import Memory
from twin_core.style.calibration import Calibrations, OwnerCalibration

log = logging.getLogger("twin.jobs")

Queue = Literal["bot", "work"]
QUEUES: tuple[Queue, ...] = ("bot", "work")


@dataclass(frozen=True, slots=True)
class JobContext:
    """What jobs may use, built once when their runner starts (arq's `on_startup`)."""

    memory: Memory | None = None
    """For indexing; None where the index cannot be opened (a worker beside an
    embedded index)."""
    deliver_draft: Callable[[int], Awaitable[str]] | None = None
    """Sends an approved draft; only the bot process has one."""
    tell_owner: Callable[[str], Awaitable[None]] | None = None
    """Says something in the control chat; never raises."""
    people: PeopleMemory | None = None
    """People memory (facts, promises, relationship figures), for `extract_people`."""
    calibrations: Calibrations | None = None
    """The owner's draft-confidence calibration, for `refit_calibration`; in the bot,
    the inbound processor's own instance, so a refit there is used at once."""


class JobUnavailable(RuntimeError):
    """This process cannot run the job (it lacks what the job needs); the message says
    where the job belongs."""


def twin_context(ctx: Mapping[str, Any]) -> JobContext:
    twin = ctx.get("twin")
    if not isinstance(twin, JobContext):
        raise JobUnavailable("the job context has no JobContext; start workers with `twin worker`")
    return twin


def _logged_progress(what: str, unit: str) -> Callable[[int, int], None]:
    """A `progress(done, total)` that logs "WHAT: done / total UNIT (rate)" at most every
    5 s, and at the end."""
    started = time.perf_counter()
    last_report = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last_report[0] >= 5 or done >= total:
            last_report[0] = now
            rate = done / max(now - started, 1e-9)
            log.info("%s: %s / %s %s (%.0f msg/s)", what, f"{done:,}", f"{total:,}", unit, rate)

    return progress


def _until_stopped(
    progress: Callable[[int, int], None], stop: threading.Event
) -> Callable[[int, int], None]:
    """`progress`, raising `Stopped` once `stop` is set: work that reports after each
    durable batch then ends between two batches."""

    def report(done: int, total: int) -> None:
        progress(done, total)
        if stop.is_set():
            raise Stopped

    return report


async def send_draft(ctx: Mapping[str, Any], draft_id: int) -> str:
    """Send an approved draft. At most once: delivery claims the draft first, and the
    job is never retried (`max_tries=1`)."""
    twin = twin_context(ctx)
    if twin.deliver_draft is None:
        raise JobUnavailable("send_draft runs only in the bot process (`twin run`)")
    try:
        return await twin.deliver_draft(draft_id)
    except Exception as exc:
        # Delivery reports its own failures; this is one it could not (a database gone
        # away mid-send). The owner hears of it either way.
        if twin.tell_owner is not None:
            await twin.tell_owner(
                f"Draft {draft_id} could not be sent: {type(exc).__name__}: {exc}"
            )
        raise


async def index_backlog(ctx: Mapping[str, Any]) -> str:
    """Index every stored message recall's index does not hold yet (after an import, or
    a start after a long pause), logging progress as it goes."""
    twin = twin_context(ctx)
    if twin.memory is None:
        raise JobUnavailable("index_backlog needs the vector index, which is not open here")
    memory = twin.memory
    started = time.perf_counter()
    progress = _logged_progress("indexing for recall", "messages")
    # A stop (the twin shutting down) ends the job between two batches, never while
    # one is written; the next start resumes after the last batch recorded.
    done = await to_thread_stoppable(lambda stop: memory.index(_until_stopped(progress, stop)))
    return f"indexed {done:,} messages in {time.perf_counter() - started:.1f} s"


async def extract_people(ctx: Mapping[str, Any]) -> str:
    """Read what is stored and not yet read for people memory (after an import): facts,
    promises and relationship figures, logging progress as it goes. Resumable: it reads
    on from a watermark that moves with what it wrote."""
    twin = twin_context(ctx)
    if twin.people is None:
        raise JobUnavailable("extract_people needs people memory, which is not open here")
    people = twin.people
    started = time.perf_counter()
    progress = _logged_progress("people memory", "messages read")
    # Stopped between two batches, as `index_backlog`; the watermark has moved past
    # every batch reported.
    derived: Derived = await to_thread_stoppable(
        lambda stop: people.catch_up(_until_stopped(progress, stop))
    )
    return (
        f"read {derived.messages:,} messages for people memory in "
        f"{time.perf_counter() - started:.1f} s: {derived.commitments:,} promises, "
        f"{derived.facts:,} facts, {derived.closed:,} promises kept"
    )


async def refit_calibration(ctx: Mapping[str, Any]) -> str:
    """Fit the offline responder's confidence on the owner's own history again
    (`twin_core.style.calibration`), when the history has grown enough since the stored
    fit; queued by the bot when it sees that. Stopping the runner stops the fit at its
    next checkpoint and waits for it, so nothing is written after the store is closed."""
    twin = twin_context(ctx)
    if twin.calibrations is None:
        raise JobUnavailable("refit_calibration needs the embedder, which is not open here")
    calibrations = twin.calibrations
    started = time.perf_counter()
    last_report = [started]

    def progress(phase: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last_report[0] >= 5:
            last_report[0] = now
            what = "texts of your past replies" if phase == "embedding" else "held-out drafts"
            log.info("style calibration: %s %s / %s %s", phase, f"{done:,}", f"{total:,}", what)

    def refit(stop: threading.Event) -> OwnerCalibration | None:
        return calibrations.refit_if_due(progress, stop)

    fitted = await to_thread_stoppable(refit)
    elapsed = time.perf_counter() - started
    if fitted is None:
        return f"style calibration: the stored fit covers the history already ({elapsed:.1f} s)"
    return f"style calibration: {fitted.describe()} in {elapsed:.1f} s"


@dataclass(frozen=True, slots=True)
class JobSpec:
    """How one job is run: on which queue, how many tries, how long between them."""

    function: Callable[..., Awaitable[Any]]
    queue: Queue
    max_tries: int
    backoff_s: float = 5.0
    """The wait before try n+1 is `backoff_s * 2**(n-1)`, capped at `MAX_BACKOFF_S`."""
    timeout_s: float | None = None
    """How long one try may run on arq (None: arq's default, 300 s); arq fails a job
    whose try was cut short, without retrying it. In the bot's own process tries are
    not timed."""

    @property
    def name(self) -> str:
        return self.function.__name__

    def backoff(self, tries: int) -> float:
        return float(min(MAX_BACKOFF_S, self.backoff_s * 2.0 ** max(0, tries - 1)))


MAX_BACKOFF_S = 600.0
BACKLOG_TIMEOUT_S = 6 * 3600.0

JOBS: dict[str, JobSpec] = {
    spec.name: spec
    for spec in (
        JobSpec(send_draft, "bot", max_tries=1),
        # A backlog is as long as the history imported: a million messages take 10-20
        # minutes to index on two cores, far past arq's 300 s (both resume from where
        # they stopped, so a try cut short loses at most a batch).
        JobSpec(index_backlog, "work", max_tries=5, backoff_s=10.0, timeout_s=BACKLOG_TIMEOUT_S),
        JobSpec(extract_people, "work", max_tries=5, backoff_s=10.0, timeout_s=BACKLOG_TIMEOUT_S),
        # About a minute for 40,000 messages of 100 contacts, most of it embedding
        # (docs/BENCHMARKS.md); a large owner on a busy machine needs more than 300 s.
        JobSpec(refit_calibration, "work", max_tries=3, backoff_s=60.0, timeout_s=1800.0),
    )
}
