"""The Twin's lifecycle: no I/O on construction, open and connect on start, drain and
close in order on stop."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from bot.app import Twin
from bot.channels.fake import FakeChannel
from tests.support.harness import Harness
from tests.support.history import HISTORY
from tests.support.settings import make_settings
from twin_core.memory.embed import Embedder
from twin_core.memory.models import JobStatus, ScheduledJob


def test_constructing_a_twin_does_no_io(tmp_path: Path) -> None:
    home = tmp_path / "not-yet"
    Twin(make_settings(home), [FakeChannel()])
    assert not home.exists()  # no database, no index, no folder


async def test_start_opens_everything_and_stop_closes_it(
    tmp_path: Path, embedder: Embedder
) -> None:
    channel = FakeChannel()
    twin = Twin(make_settings(tmp_path), [channel], embedder=embedder)
    await twin.start()
    assert (tmp_path / "twin.db").exists() and (tmp_path / "index" / "manifest.json").exists()
    assert twin.supervisor.health["fake"].state == "connected"
    await twin.stop()
    assert twin.supervisor.health["fake"].state == "stopped"
    await twin.stop()  # twice is harmless


async def test_stop_finishes_what_was_received(tmp_path: Path, embedder: Embedder) -> None:
    """A message received just before stopping is still drafted: stop drains first."""
    channel = FakeChannel()
    twin = Twin(make_settings(tmp_path, burst_window_s=0.3), [channel], embedder=embedder)
    await twin.start()
    h = Harness(twin, channel)
    h.seed(HISTORY)
    await channel.push(channel.event("alice", "dinner friday?"))
    assert h.drafts() == []
    await twin.stop()
    reopened = Twin(make_settings(tmp_path), [FakeChannel()], embedder=embedder)
    await reopened.start()
    try:
        [draft] = reopened.store.drafts.with_status()
        assert draft.text == "yes! 7pm at Luigi's, I booked a table"
    finally:
        await reopened.stop()


async def test_a_backlog_is_indexed_by_a_job_not_by_a_message(
    tmp_path: Path, embedder: Embedder
) -> None:
    """A large import waiting for the index is a job with progress; a live message
    meanwhile is drafted without waiting for it."""
    channel = FakeChannel()
    settings = make_settings(tmp_path)
    twin = Twin(settings, [channel], embedder=embedder)
    await twin.start()
    try:
        twin.indexer.live_limit = 10
        events = [
            channel.event("bulk", f"old message {n} about gardening", external_id=f"old-{n}")
            for n in range(40)
        ]
        twin.memory.record_many(events)
        twin.indexer.wake()
        await twin.idle()
        await twin.jobs.drain(5)
        with twin.store.database.session() as session:
            jobs = session.exec(select(ScheduledJob)).all()
        assert [(j.name, j.queue, j.status) for j in jobs] == [
            ("index_backlog", "bot", JobStatus.DONE)  # an embedded index: the bot's job
        ]
        assert twin.memory.pending() == 0
    finally:
        await twin.stop()
