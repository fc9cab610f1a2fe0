"""The Twin's lifecycle: no I/O on construction, open and connect on start, drain and
close in order on stop."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.app import Twin
from bot.channels.fake import FakeChannel
from tests.support.harness import Harness
from tests.support.history import HISTORY
from tests.support.settings import make_settings
from twin_core.memory.embed import Embedder
from twin_core.memory.models import JobStatus, ScheduledJob
from twin_core.memory.store import Store
from twin_core.style import calibration


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


async def test_a_start_trains_on_the_history_before_the_first_message(
    tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 16: the reply-or-not model reads the stored history and is trained while
    the twin starts (it was the first message after a start that paid for it, seconds
    where the hundredth takes a tenth), so the first message finds it ready; a
    calibration refit the history is due for is queued then too."""
    monkeypatch.setattr(calibration, "REFIT_MIN_NEW", 4)  # 120 messages make it due
    settings = make_settings(tmp_path)
    channel = FakeChannel()
    start = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
    history = []
    for day in range(40):  # an import: Alice asks, Sam answers; the newsletter never
        at = start + timedelta(days=day)
        history += [
            channel.event("alice", f"lunch at {day % 3 + 12}?", external_id=f"a{day}", sent_at=at),
            channel.event(
                "owner",
                "sure!",
                chat="alice",
                from_owner=True,
                external_id=f"o{day}",
                sent_at=at + timedelta(minutes=4),
            ),
            channel.event("news", f"Issue {day}: gardening", external_id=f"n{day}", sent_at=at),
        ]
    store = Store.open(settings.sqlalchemy_url)
    store.messages.record_many(history)
    highest = store.messages.highest_id()
    store.close()
    twin = Twin(settings, [channel], embedder=embedder)
    await twin.start()
    try:
        decider = twin.inbound.decider
        assert decider.history.last_id == highest  # all of it read, no message yet
        assert decider.model.ready and decider.model.trained_on > 0
        with twin.store.database.session() as session:
            jobs = session.exec(select(ScheduledJob.name)).all()
        assert "refit_calibration" in jobs
        assert channel.sent == []
        await channel.push(channel.event("alice", "lunch at 13?"))
        await twin.idle()
        assert decider.model.ready
        assert [m.data["event"] for m in channel.sent if m.data] == ["draft"]
    finally:
        await twin.stop()


async def test_after_a_restart_the_first_message_gets_its_card_at_once(
    tmp_path: Path, embedder: Embedder
) -> None:
    """A restarted twin answers a message that arrives right after the start: a draft
    card when the history has a good match, and a notice with no draft (not silence)
    when it has none. A benchmark that waited only for draft cards took the second for
    'no card after a restart'."""
    first = Twin(make_settings(tmp_path), [FakeChannel()], embedder=embedder)
    await first.start()
    Harness(first, FakeChannel()).seed(HISTORY)
    await first.stop()
    channel = FakeChannel()
    twin = Twin(make_settings(tmp_path), [channel], embedder=embedder)
    await twin.start()
    try:
        await channel.push(channel.event("alice", "are we still on for dinner on friday?"))
        await twin.idle()
        [card] = channel.take()
        assert card.chat_id == "control" and card.data and card.data["event"] == "draft"
        assert "yes! 7pm at Luigi's, I booked a table" in card.text
        await channel.push(channel.event("bob", "was send the for the that"))
        await twin.idle()
        [notice] = channel.take()
        assert notice.chat_id == "control" and not notice.data
        assert "No draft: no good match" in notice.text
    finally:
        await twin.stop()
