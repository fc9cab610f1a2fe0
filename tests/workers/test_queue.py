"""Deferred jobs: in-process with SQL persistence, and arq on a real Redis."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import Twin
from bot.channels.fake import FakeChannel
from tests.bot.test_pipeline import HISTORY, drafts
from tests.conftest import Harness, make_settings
from twin_core.memory.models import DraftStatus, JobStatus
from twin_core.memory.store import Store
from twin_core.types import utcnow
from workers.jobs import JobContext
from workers.queue import ArqJobQueue, LocalJobQueue
from workers.settings import make_worker

REDIS_URL = os.environ.get("TWIN_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


async def bob_on_auto_writes(h: Harness) -> None:
    """Bob is on auto and writes something Sam has answered before: an auto-reply waits."""
    h.seed(HISTORY)
    await h.command("/auto bob on")
    await h.says("bob", "running late for the 1:1")


async def test_a_waiting_auto_reply_survives_a_restart_and_goes_out_once(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, auto_send_delay_s=3600.0)
    channel = FakeChannel("fake")
    async with Twin(settings, [channel]) as twin:
        h = Harness(twin, channel)
        await bob_on_auto_writes(h)
        assert "Auto-replying to Bob in 3600s" in h.control()[-1]
    assert h.sent_to("bob") == []

    # restart: the job is still pending in SQL; make it due and start again
    store = Store.open(settings.sqlalchemy_url)
    [job] = store.pending_jobs()
    with store._session() as session:
        job.run_at = utcnow()
        session.add(job)
        session.commit()
    channel = FakeChannel("fake")
    async with Twin(settings, [channel], store=store) as twin:
        await twin.services.queue.drain()
        assert [m.text for m in channel.sent if m.chat_id == "bob"] == ["no worries, see you soon"]
        assert drafts(Harness(twin, channel))[0].status == DraftStatus.SENT
        assert store.pending_jobs() == []
    store.close()


async def test_a_rejected_auto_reply_never_goes_out(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, auto_send_delay_s=0.2)
    channel = FakeChannel("fake")
    async with Twin(settings, [channel]) as twin:
        h = Harness(twin, channel)
        await bob_on_auto_writes(h)
        assert await h.command("/reject 1") == ["Draft 1 rejected."]
        await twin.services.queue.drain()
        assert h.sent_to("bob") == []


async def test_local_queue_runs_a_key_once(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path}/t.db")
    ran: list[int] = []

    async def job(ctx: dict[str, Any], n: int) -> str:
        ran.append(n)
        return "ok"

    queue = LocalJobQueue(store, {}, {"job": job})
    await queue.start()
    assert await queue.enqueue("job", 1, key="k1")
    assert not await queue.enqueue("job", 1, key="k1")
    await queue.drain()
    await queue.stop()
    assert ran == [1]
    with pytest.raises(ValueError, match="unknown job"):
        await queue.enqueue("nope", key="k2")
    store.close()


async def test_a_failing_job_is_kept_as_failed(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path}/t.db")

    async def job(ctx: dict[str, Any]) -> None:
        raise RuntimeError("boom")

    queue = LocalJobQueue(store, {}, {"job": job})
    await queue.start()
    await queue.enqueue("job", key="k")
    await queue.drain()
    await queue.stop()
    from sqlmodel import Session, select

    from twin_core.memory.models import ScheduledJob

    with Session(store.engine) as session:
        [row] = session.exec(select(ScheduledJob)).all()
    assert row.status == JobStatus.FAILED and "boom" in row.last_error
    store.close()


@pytest.fixture
async def redis_queue() -> AsyncIterator[ArqJobQueue]:
    queue = ArqJobQueue(REDIS_URL, queue_name=f"twin:test:{uuid.uuid4().hex}")
    try:
        await queue.start()
    except Exception as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Redis is required in CI and unreachable: {exc}")
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    yield queue
    # Each test has its own queue name and job ids, so nothing is shared; arq expires
    # its own result keys.
    await queue.stop()


async def test_arq_runs_the_same_job_function_once_per_key(redis_queue: ArqJobQueue) -> None:
    delivered: list[int] = []

    async def deliver(draft_id: int) -> str:
        delivered.append(draft_id)
        return "sent"

    key = f"send-draft-{uuid.uuid4().hex}"
    assert await redis_queue.enqueue("send_draft", 7, key=key)
    assert not await redis_queue.enqueue("send_draft", 7, key=key)
    worker = make_worker(
        REDIS_URL,
        JobContext(deliver_draft=deliver),
        burst=True,
        queue_name=redis_queue.queue_name,
    )
    await worker.main()
    await worker.close()
    assert delivered == [7]


async def test_drain_waits_for_due_jobs_only(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path}/t.db")
    ran: list[str] = []

    async def job(ctx: dict[str, Any], name: str) -> None:
        ran.append(name)

    queue = LocalJobQueue(store, {}, {"job": job})
    await queue.start()
    await queue.enqueue("job", "later", key="later", defer_s=3600)
    await queue.enqueue("job", "now", key="now")
    await asyncio.wait_for(queue.drain(horizon_s=1.0), timeout=5)
    assert ran == ["now"]
    [waiting] = store.pending_jobs()
    assert waiting.key == "later"
    await queue.stop()
    store.close()
