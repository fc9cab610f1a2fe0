"""A stop while the backlog is indexed ends the job between two batches: the stop
waits for the batch under way (nothing is written after the twin closes its store),
and the next run resumes after the last batch recorded."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from tests.memory.test_recall import HashEmbedder
from tests.support.events import T0, event
from twin_core.memory.embed import Vectors
from twin_core.memory.service import Memory
from twin_core.memory.store import Store
from workers.jobs import JOBS, JobContext, index_backlog


class GatedEmbedder(HashEmbedder):
    """Blocks its first call until let through, and counts the calls."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.gate = threading.Event()
        self.calls = 0

    def embed(self, texts: Sequence[str]) -> Vectors:
        self.calls += 1
        self.started.set()
        self.gate.wait(timeout=30)
        return super().embed(texts)


async def test_a_stopped_backlog_job_ends_between_batches_and_resumes(tmp_path: Path) -> None:
    embedder = GatedEmbedder()
    memory = Memory.open(
        Store.open(f"sqlite:///{tmp_path}/b.db"), tmp_path / "index", embedder=embedder
    )
    try:
        memory.record_many(
            [event(f"m{i}", f"note {i}", at=T0 + timedelta(minutes=i)) for i in range(2_500)]
        )
        ctx = {"twin": JobContext(memory=memory)}
        job = asyncio.create_task(index_backlog(ctx))
        assert await asyncio.to_thread(embedder.started.wait, 30)
        job.cancel()  # the twin stops while the first batch is being embedded
        await asyncio.sleep(0.05)
        assert not job.done()  # still waiting for the batch under way
        embedder.gate.set()
        with contextlib.suppress(asyncio.CancelledError):
            await job
        calls = embedder.calls
        await asyncio.sleep(0.2)
        assert embedder.calls == calls  # nothing runs on after the job ended
        assert memory.pending() == 500  # the first batch is in, the second never began

        assert (await index_backlog(ctx)).startswith("indexed 500 messages")
        assert memory.pending() == 0
    finally:
        memory.close()
        memory.store.close()


def test_backlog_jobs_may_run_longer_than_arqs_default() -> None:
    # arq cuts a try at 300 s and does not retry it; an imported million takes longer.
    for name in ("index_backlog", "extract_people"):
        timeout = JOBS[name].timeout_s
        assert timeout is not None and timeout >= 3600
