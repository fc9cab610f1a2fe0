"""The draft-confidence refit as a job (`refit_calibration`): it fits and stores the
owner's table, the bot queues it once per history when the history has grown, and a
stop while it runs leaves nothing written after the store is closed."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from bot.app import install_id
from tests.conftest import TwinFactory
from tests.support.calibration import record_thanks
from tests.support.history import HISTORY
from tests.support.settings import REDIS_URL
from tests.workers.test_queue import redis_or_skip
from twin_core.memory.embed import Embedder, Vectors
from twin_core.memory.models import JobStatus, ScheduledJob
from twin_core.memory.store import Store
from twin_core.style import calibration
from twin_core.style.calibration import Calibrations, OwnerCalibration
from workers.jobs import JOBS, JobContext, JobUnavailable, refit_calibration
from workers.queue import LocalJobQueue, queue_names
from workers.settings import arq_function, make_worker


def refit_jobs(store: Store) -> list[ScheduledJob]:
    with Session(store.engine) as session:
        query = select(ScheduledJob).where(ScheduledJob.name == "refit_calibration")
        return list(session.exec(query.order_by(col(ScheduledJob.id))))


def stored(store: Store) -> OwnerCalibration | None:
    text = store.state.get(calibration.STATE_KEY)
    return OwnerCalibration.from_json(text) if text else None


@pytest.fixture
def refit_early(monkeypatch: pytest.MonkeyPatch) -> None:
    """A refit due after 4 new messages, and the bot looking at every message."""
    monkeypatch.setattr(calibration, "REFIT_MIN_NEW", 4)
    monkeypatch.setattr(calibration, "CHECK_EVERY_S", 0.0)


def test_the_refit_is_a_retried_channel_free_job() -> None:
    spec = JOBS["refit_calibration"]
    assert spec.queue == "work" and spec.max_tries > 1
    assert arq_function(spec).timeout_s == spec.timeout_s == 1800  # not arq's 300 s


async def test_the_job_fits_and_stores_the_table_once_per_history(
    store: Store, embedder: Embedder, refit_early: None
) -> None:
    record_thanks(store, 4)
    calibrations = Calibrations(store, embedder)
    ctx = {"twin": JobContext(calibrations=calibrations)}
    result = await refit_calibration(ctx)
    assert result.startswith("style calibration: the global table (only 2 of your past replies")
    fitted = stored(store)
    assert fitted is not None and fitted.messages == store.messages.highest_id() == 8
    assert calibrations.current() == fitted  # the long-lived instance has it at once
    again = await refit_calibration(ctx)  # queued twice: the stored fit covers it
    assert again.startswith("style calibration: the stored fit covers the history already")
    assert stored(store) == fitted
    with pytest.raises(JobUnavailable, match="needs the embedder"):
        await refit_calibration({"twin": JobContext()})


async def test_the_bot_queues_a_refit_only_when_the_history_has_grown(
    make_twin: TwinFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(calibration, "CHECK_EVERY_S", 0.0)
    h = await make_twin()
    h.seed(HISTORY)
    store = h.twin.store
    await h.says("bob", "running late for the 1:1")
    assert refit_jobs(store) == []  # a few dozen messages: far from the 200 a refit needs
    assert stored(store) is None

    monkeypatch.setattr(calibration, "REFIT_MIN_NEW", 4)
    await h.says("bob", "are we still on?")
    [job] = refit_jobs(store)
    await h.twin.jobs.drain()
    fitted = stored(store)
    assert fitted is not None and fitted.messages == store.messages.highest_id()
    assert h.twin.inbound.calibrations.current() == fitted  # what the next draft uses
    finished = store.jobs.get(job.key)
    assert finished is not None and finished.status == JobStatus.DONE
    await h.says("bob", "hello?")  # one more message: not grown enough since the fit
    assert len(refit_jobs(store)) == 1


async def test_a_second_look_at_the_same_history_queues_nothing(
    make_twin: TwinFactory, refit_early: None
) -> None:
    h = await make_twin()
    h.seed(HISTORY)
    store = h.twin.store
    inbound = h.twin.inbound
    await asyncio.gather(inbound.queue_refit_when_due(), inbound.queue_refit_when_due())
    [job] = refit_jobs(store)
    highest = store.messages.highest_id()
    assert job.key == h.twin.services.job_key("refit-calibration", highest)
    assert not await h.twin.jobs.enqueue("refit_calibration", key=job.key)
    await h.twin.jobs.drain()
    await inbound.queue_refit_when_due()  # fitted now: nothing to queue
    assert len(refit_jobs(store)) == 1


class GatedEmbedder:
    """The shipped embedder, held at its first call until the test opens the gate."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.entered = threading.Event()
        self.gate = threading.Event()
        self.returned = threading.Event()

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed(self, texts: Sequence[str]) -> Vectors:
        self.entered.set()
        self.gate.wait(30)
        try:
            return self.inner.embed(texts)
        finally:
            self.returned.set()

    async def aembed(self, texts: Sequence[str]) -> Vectors:
        return await asyncio.to_thread(self.embed, texts)


async def test_a_stop_during_a_refit_waits_for_it_and_nothing_is_written_after(
    tmp_path: Path, embedder: Embedder, refit_early: None
) -> None:
    store = Store.open(f"sqlite:///{tmp_path}/t.db")
    record_thanks(store, 4)
    gated = GatedEmbedder(embedder)
    queue = LocalJobQueue(store, JobContext(calibrations=Calibrations(store, gated)))
    await queue.run()
    assert await queue.enqueue("refit_calibration", key="refit")
    assert await asyncio.to_thread(gated.entered.wait, 30)  # drafting has begun

    stopping = asyncio.create_task(queue.stop())
    await asyncio.sleep(0.2)
    assert not stopping.done()  # the stop waits for the fit's thread...
    gated.gate.set()
    await asyncio.wait_for(stopping, 30)
    assert gated.returned.is_set()  # ...which has ended by the time the stop returns
    store.close()

    reopened = Store.open(f"sqlite:///{tmp_path}/t.db")
    try:
        assert stored(reopened) is None  # stopped before its write, and none came after
        [job] = reopened.jobs.pending()  # still owed: the next start runs it
        assert job.key == "refit" and job.attempts == 0
    finally:
        reopened.close()


async def test_on_redis_a_worker_refits_and_the_bot_reads_it_at_its_next_look(
    make_twin: TwinFactory, tmp_path: Path, embedder: Embedder, refit_early: None
) -> None:
    """With Redis the refit goes to the `work` queue: a `twin worker` (its own store
    and embedder) fits and stores; the bot re-reads the table when it next looks."""
    redis_or_skip()
    h = await make_twin(home=tmp_path / "bot", redis_url=REDIS_URL)
    h.seed(HISTORY)
    await h.says("bob", "running late for the 1:1")  # queues the refit, on Redis
    assert h.twin.inbound.calibrations.current() is calibration.GLOBAL
    worker_store = Store.open(h.twin.settings.sqlalchemy_url)
    try:

        async def startup(ctx: dict[str, object]) -> None:
            ctx["twin"] = JobContext(calibrations=Calibrations(worker_store, embedder))

        worker = make_worker(
            REDIS_URL,
            queue_names(f"twin:{install_id(worker_store)}")["work"],
            jobs=["refit_calibration"],
            on_startup=startup,
            burst=True,
        )
        await worker.async_run()  # runs what is queued, then returns
        await worker.close()
        assert worker.jobs_complete == 1 and worker.jobs_failed == 0
        fitted = stored(worker_store)
    finally:
        worker_store.close()
    assert fitted is not None
    await h.says("bob", "are we still on?")  # one message on: the bot looks, reads it
    assert h.twin.inbound.calibrations.current() == fitted


async def test_stopping_the_twin_during_a_refit_leaves_no_write_after_close(
    make_twin: TwinFactory, refit_early: None
) -> None:
    """The whole twin: a contact's message queues the refit, the refit is held in its
    embedding, the twin is stopped. The stop waits for the refit's thread, which stops
    before its write; the store is closed after; the job is still owed."""
    h = await make_twin()
    h.seed(HISTORY)
    gated = GatedEmbedder(h.twin.calibrations.embedder)
    h.twin.calibrations.embedder = gated  # only the refit embeds through it
    await h.says("bob", "running late for the 1:1")
    assert await asyncio.to_thread(gated.entered.wait, 30)
    settings = h.twin.settings

    stopping = asyncio.create_task(h.twin.stop())
    await asyncio.sleep(0.2)
    assert not stopping.done()
    gated.gate.set()
    await asyncio.wait_for(stopping, 30)
    assert gated.returned.is_set()

    reopened = Store.open(settings.sqlalchemy_url)
    try:
        assert stored(reopened) is None
        # Nothing comes later either: a refit left running (a plain `to_thread`) would
        # finish this small history and store it well within this.
        await asyncio.sleep(0.5)
        assert stored(reopened) is None
        [job] = refit_jobs(reopened)
        assert job.status == JobStatus.PENDING and job.attempts == 0
    finally:
        reopened.close()
