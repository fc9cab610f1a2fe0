"""Deferred jobs: in the bot's process with SQL persistence, and arq on a real Redis.

Sends run where the channels are (the bot process, on its own queue); `twin worker`
runs only channel-free jobs. A send is at most once; other jobs retry with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from bot.app import Twin, install_id
from bot.channels.fake import FakeChannel
from tests.conftest import TwinFactory
from tests.support.harness import Harness
from tests.support.history import HISTORY
from tests.support.settings import REDIS_URL, make_settings
from twin_core.memory.embed import Embedder
from twin_core.memory.models import DraftStatus, JobStatus, ScheduledJob
from twin_core.memory.store import Store
from twin_core.types import utcnow
from workers.jobs import JOBS, JobContext, JobSpec
from workers.queue import ArqJobQueue, LocalJobQueue, queue_names
from workers.settings import make_worker

AUTO = 0.3
"""The auto threshold here: the offline responder's calibrated confidence stays below
the default 0.8 (docs/BENCHMARKS.md), and these tests are about what an auto-reply does."""


async def bob_on_auto_writes(h: Harness) -> None:
    """Bob is on auto and writes something Sam has answered before: an auto-reply waits."""
    h.seed(HISTORY)
    await h.command("/auto bob on")
    await h.says("bob", "running late for the 1:1")


def redis_or_skip() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Redis is required in CI and unreachable: {exc}")
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")


# -- in the bot's process ---------------------------------------------------------------


async def test_a_waiting_auto_reply_survives_a_restart_and_goes_out_once(
    tmp_path: Path, embedder: Embedder
) -> None:
    settings = make_settings(tmp_path, auto_send_delay_s=3600.0, auto_confidence=AUTO)
    channel = FakeChannel("fake")
    async with Twin(settings, [channel], embedder=embedder) as twin:
        h = Harness(twin, channel)
        await bob_on_auto_writes(h)
        assert "Goes out on its own in 3600s" in h.control()[-1]
    assert h.sent_to("bob") == []

    # restart: the job is still pending in SQL; make it due and start again
    store = Store.open(settings.sqlalchemy_url)
    [job] = store.jobs.pending()
    with store.database.session() as session:
        job.run_at = utcnow()
        session.add(job)
        session.commit()
    channel = FakeChannel("fake")
    async with Twin(settings, [channel], store=store, embedder=embedder) as twin:
        await twin.jobs.drain()
        assert [m.text for m in channel.sent if m.chat_id == "bob"] == ["no worries, see you soon"]
        assert Harness(twin, channel).drafts()[0].status == DraftStatus.SENT
        assert store.jobs.pending() == []
    store.close()


async def test_a_rejected_auto_reply_never_goes_out(make_twin: TwinFactory) -> None:
    h = await make_twin(auto_send_delay_s=0.3, auto_confidence=AUTO)
    await bob_on_auto_writes(h)
    assert await h.command("/reject 1") == ["Draft 1 rejected."]
    await h.twin.jobs.drain()
    assert h.sent_to("bob") == []


async def test_an_approval_from_another_process_is_sent_by_the_bot(
    make_twin: TwinFactory, tmp_path: Path
) -> None:
    """`twin approve` (no channels) queues the send in SQL; the running bot, which
    looks there every `job_poll_s`, sends it."""
    h = await make_twin(home=tmp_path / "bot")
    h.seed(HISTORY)
    await h.says("alice", "dinner friday?")
    other = Store.open(h.twin.settings.sqlalchemy_url)  # the CLI's own connection
    try:
        assert other.drafts.move(1, [DraftStatus.PENDING], DraftStatus.APPROVED)
        queue = LocalJobQueue(other, JobContext())
        assert await queue.enqueue("send_draft", 1, key=f"{install_id(other)}:send-draft:1")
        for _ in range(100):
            if h.sent_to("alice"):
                break
            await asyncio.sleep(0.05)
    finally:
        other.close()
    assert h.sent_to("alice") == ["yes! 7pm at Luigi's, I booked a table"]


async def test_local_queue_runs_a_key_once(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path}/t.db")
    ran: list[int] = []

    async def job(ctx: dict[str, Any], n: int) -> str:
        ran.append(n)
        return "ok"

    queue = LocalJobQueue(store, JobContext(), jobs={"job": JobSpec(job, "bot", 1)})
    await queue.run()
    assert await queue.enqueue("job", 1, key="k1")
    assert not await queue.enqueue("job", 1, key="k1")
    await queue.drain()
    await queue.stop()
    assert ran == [1]
    with pytest.raises(ValueError, match="unknown job"):
        await queue.enqueue("nope", key="k2")
    store.close()


async def test_a_send_is_tried_once_and_other_jobs_retry_with_backoff(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path}/t.db")
    tries: dict[str, int] = {"send": 0, "work": 0}

    async def send(ctx: dict[str, Any]) -> None:
        tries["send"] += 1
        raise RuntimeError("platform down")

    async def work(ctx: dict[str, Any]) -> str:
        tries["work"] += 1
        if tries["work"] < 3:
            raise RuntimeError("not yet")
        return "done"

    specs = {
        "send": JobSpec(send, "bot", max_tries=1),
        "work": JobSpec(work, "work", max_tries=5, backoff_s=0.05),
    }
    queue = LocalJobQueue(store, JobContext(), jobs=specs, poll_s=0.05)
    await queue.run()
    await queue.enqueue("send", key="s")
    await queue.enqueue("work", key="w")
    for _ in range(100):
        if not store.jobs.pending():
            break
        await asyncio.sleep(0.05)
    await queue.stop()
    with Session(store.engine) as session:
        rows = {row.key: row for row in session.exec(select(ScheduledJob)).all()}
    assert tries == {"send": 1, "work": 3}
    assert rows["s"].status == JobStatus.FAILED and "platform down" in rows["s"].last_error
    assert rows["w"].status == JobStatus.DONE and rows["w"].attempts == 3
    store.close()


async def test_drain_waits_for_due_jobs_only(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path}/t.db")
    ran: list[str] = []

    async def job(ctx: dict[str, Any], name: str) -> None:
        ran.append(name)

    queue = LocalJobQueue(store, JobContext(), jobs={"job": JobSpec(job, "bot", 1)})
    await queue.run()
    await queue.enqueue("job", "later", key="later", defer_s=3600)
    await queue.enqueue("job", "now", key="now")
    await asyncio.wait_for(queue.drain(horizon_s=1.0), timeout=5)
    assert ran == ["now"]
    [waiting] = store.jobs.pending()
    assert waiting.key == "later"
    await queue.stop()
    store.close()


def test_job_settings_a_send_at_most_once() -> None:
    assert JOBS["send_draft"].queue == "bot" and JOBS["send_draft"].max_tries == 1
    assert JOBS["index_backlog"].queue == "work" and JOBS["index_backlog"].max_tries > 1


# -- on Redis ---------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def twin_worker(settings_home: Path, redis_url: str) -> AsyncIterator[None]:
    """A `twin worker` beside the bot: the `work` queue, channel-free jobs only."""
    store = Store.open(f"sqlite:///{settings_home / 'twin.db'}")
    names = queue_names(f"twin:{install_id(store)}")

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["twin"] = JobContext(memory=None)

    worker = make_worker(
        redis_url,
        names["work"],
        jobs=[n for n, s in JOBS.items() if s.queue == "work"],
        on_startup=startup,
    )
    task = asyncio.create_task(worker.main())
    try:
        yield
    finally:
        await worker.close()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        store.close()


async def test_with_redis_and_a_worker_beside_it_an_auto_reply_goes_out_once(
    make_twin: TwinFactory, tmp_path: Path
) -> None:
    """The docker-compose layout: the bot sends on its own arq queue, the worker beside
    it never sees a send (it has no channels)."""
    redis_or_skip()
    home = tmp_path / "bot"
    h = await make_twin(home=home, redis_url=REDIS_URL, auto_send_delay_s=0.2, auto_confidence=AUTO)
    async with twin_worker(home, REDIS_URL):
        await bob_on_auto_writes(h)
        for _ in range(100):
            if h.sent_to("bob"):
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # time for a second delivery, were there one
    assert h.sent_to("bob") == ["no worries, see you soon"]
    [draft] = h.drafts()
    assert draft.status == DraftStatus.SENT
    assert not any("not sent" in line for line in h.control())


async def test_with_redis_a_failed_auto_reply_is_told_to_the_owner(
    make_twin: TwinFactory, tmp_path: Path
) -> None:
    redis_or_skip()
    channel = FakeChannel("fake")
    channel.refuse_chats.add("bob")
    h = await make_twin(
        channel=channel,
        home=tmp_path / "bot",
        redis_url=REDIS_URL,
        auto_send_delay_s=0.1,
        auto_confidence=AUTO,
    )
    await bob_on_auto_writes(h)
    told: list[str] = []
    for _ in range(100):
        told += h.control()
        if any("was not sent" in line for line in told):
            break
        await asyncio.sleep(0.05)
    assert any(line.startswith("Draft 1 to Bob was not sent: SendError") for line in told)
    assert h.drafts()[0].status == DraftStatus.FAILED


async def test_arq_runs_a_job_once_per_key(tmp_path: Path) -> None:
    redis_or_skip()
    names = queue_names(f"twin:test-{uuid.uuid4().hex[:8]}")
    queue = ArqJobQueue(REDIS_URL, names)
    await queue.start()
    delivered: list[int] = []

    async def deliver(draft_id: int) -> str:
        delivered.append(draft_id)
        return "sent"

    key = f"{uuid.uuid4().hex}:send-draft:7"
    assert await queue.enqueue("send_draft", 7, key=key)
    assert not await queue.enqueue("send_draft", 7, key=key)
    await queue.stop()

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["twin"] = JobContext(deliver_draft=deliver)

    worker = make_worker(
        REDIS_URL, names["bot"], jobs=["send_draft"], on_startup=startup, burst=True
    )
    await worker.main()
    await worker.close()
    assert delivered == [7]


async def test_arq_send_is_never_retried_and_work_is(tmp_path: Path) -> None:
    redis_or_skip()
    names = queue_names(f"twin:test-{uuid.uuid4().hex[:8]}")
    tries: dict[str, int] = {"send": 0, "index": 0}

    async def failing_send(draft_id: int) -> str:
        tries["send"] += 1
        raise RuntimeError("lost connection mid-send")

    class FlakyMemory:
        def index(self, progress: object = None, *, wait: bool = True) -> int:
            tries["index"] += 1
            if tries["index"] < 2:
                raise RuntimeError("index busy")
            return 3

    told: list[str] = []

    async def tell(text: str) -> None:
        told.append(text)

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["twin"] = JobContext(
            memory=FlakyMemory(),  # type: ignore[arg-type]
            deliver_draft=failing_send,
            tell_owner=tell,
        )

    queue = ArqJobQueue(REDIS_URL, names)
    await queue.start()
    await queue.enqueue("send_draft", 1, key=f"{names['bot']}:s")
    await queue.enqueue("index_backlog", key=f"{names['bot']}:i", queue="bot")
    await queue.stop()
    specs = {**JOBS, "index_backlog": JobSpec(JOBS["index_backlog"].function, "work", 5, 0.01)}
    worker = make_worker(
        REDIS_URL,
        names["bot"],
        jobs=["send_draft", "index_backlog"],
        on_startup=startup,
        burst=True,
        specs=specs,
    )
    await worker.main()
    await worker.close()
    assert tries == {"send": 1, "index": 2}
    assert told == ["Draft 1 could not be sent: RuntimeError: lost connection mid-send"]


async def test_a_stale_look_at_sql_never_runs_a_try_twice(tmp_path: Path) -> None:
    """A look at SQL can read a job just before its running try records a retry; the task
    spawned from that old row must not run the job again (seen under load: 4 tries of 3)."""
    store = Store.open(f"sqlite:///{tmp_path}/t.db")
    tries = 0

    async def work(ctx: dict[str, Any]) -> None:
        nonlocal tries
        tries += 1
        raise RuntimeError("not yet")

    specs = {"work": JobSpec(work, "work", max_tries=5, backoff_s=3600)}
    queue = LocalJobQueue(store, JobContext(), jobs=specs, poll_s=3600)
    await queue.enqueue("work", key="w")
    stale = store.jobs.get("w")
    assert stale is not None and stale.attempts == 0
    await queue._run(stale)  # the first try: fails, a retry is due in an hour
    assert tries == 1
    await queue._run(stale)  # the same old row again, as a stale look would spawn it
    assert tries == 1
    row = store.jobs.get("w")
    assert row is not None and row.attempts == 1 and row.status == JobStatus.PENDING
    store.close()
