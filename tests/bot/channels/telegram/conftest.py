from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import Twin
from tests.support.fake_telegram import OWNER_ID, FakeBotApi
from twin_core.memory.embed import Embedder
from twin_core.settings import Settings, load_settings
from twin_core.types import ChannelName, ChatId, ExternalId, HandleId, InboundEvent


def telegram_environ(api: FakeBotApi, home: Path, **more: str) -> dict[str, str]:
    """Everything `twin run` needs for Telegram against `api`, as environment variables."""
    return {
        "TWIN_HOME": str(home),
        "TWIN_CHANNELS": '["telegram"]',
        "TWIN_TELEGRAM_TOKEN": api.token,
        "TWIN_TELEGRAM_API_URL": api.url,
        "TWIN_TELEGRAM_POLL_TIMEOUT_S": "1",
        "TWIN_OWNER_NAME": "Sam",
        "TWIN_OWNER_HANDLES": f'{{"telegram": ["{OWNER_ID}"]}}',
        "TWIN_CONTROL_CHAT": f"telegram:{OWNER_ID}",
        "TWIN_BURST_WINDOW_S": "0",
        "TWIN_INDEX_GATHER_S": "0",
        "TWIN_AUTO_SEND_DELAY_S": "0",
        "TWIN_JOB_POLL_S": "0.2",
        **more,
    }


def telegram_settings(api: FakeBotApi, home: Path, **more: str) -> Settings:
    return load_settings(telegram_environ(api, home, **more))


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    fake = await FakeBotApi().start()
    yield fake
    await fake.stop()


@pytest.fixture
def api_thread() -> Iterator[FakeBotApi]:
    """The fake Bot API on a loop of its own, for commands run synchronously (the CLI)."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    fake = FakeBotApi()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(fake.start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    ready.wait(10)
    yield fake
    asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


TelegramTwin = Callable[..., Awaitable[Twin]]


@pytest.fixture
async def telegram_twin(
    api: FakeBotApi, tmp_path: Path, embedder: Embedder
) -> AsyncIterator[TelegramTwin]:
    """Starts real Twins on the Telegram channel against the fake Bot API, from
    settings alone; each is stopped after the test (or by the test)."""
    started: list[Twin] = []

    async def make(home: Path | None = None, **more: Any) -> Twin:
        twin = Twin(telegram_settings(api, home or tmp_path / "home", **more), embedder=embedder)
        await twin.start()
        started.append(twin)
        if twin.store.stats()["messages"] == 0:
            seed_history(twin)
        return twin

    yield make
    for twin in reversed(started):
        await twin.stop()


HISTORY = [
    # The owner's own answers to the kinds of message the tests send, so the offline
    # responder has a good match for each (below its floor it offers no draft at all).
    ("alice", "are you around later?"),
    ("me", "yes! call me after 6"),
    ("alice", "free for dinner this week?"),
    ("me", "sure, friday works for me"),
    ("alice", "are you free tonight?"),
    ("me", "yes! after 7"),
    ("alice", "lunch tomorrow?"),
    ("me", "sure, 1pm?"),
    ("alice", "coffee later?"),
    ("me", "yes! the usual place"),
    ("alice", "are we still on?"),
    ("me", "yes, see you there"),
    ("alice", "see you at 8?"),
    ("me", "8 works"),
    ("alice", "movie tonight?"),
    ("me", "sure, you pick"),
    ("alice", "quick question?"),
    ("me", "sure, go ahead"),
]


def seed_history(twin: Twin) -> None:
    """An earlier exchange with Alice (user 200) in the owner's own chat, so the twin
    has the owner's words to answer her with."""
    t0 = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
    events = [
        InboundEvent(
            channel=ChannelName("telegram"),
            external_id=ExternalId(f"business:200:{number}"),
            chat_id=ChatId("business:200"),
            sender_id=HandleId("100" if who == "me" else "200"),
            sender_name="Sam" if who == "me" else "Alice",
            text=text,
            sent_at=t0 + timedelta(minutes=number),
            from_owner=who == "me",
        )
        for number, (who, text) in enumerate(HISTORY, start=1)
    ]
    twin.memory.record_many(events)
    twin.memory.index()
