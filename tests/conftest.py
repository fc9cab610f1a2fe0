from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.app import Twin
from bot.channels.fake import FakeChannel
from twin_core.memory.embed import Embedder, OnnxEmbedder
from twin_core.memory.store import Store
from twin_core.settings import Settings, load_settings
from twin_core.types import InboundEvent, OutboundMessage

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
POSTGRES_URL = os.environ.get(
    "TWIN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def make_settings(home: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "home": home,
        "owner_name": "Sam",
        "control_chat": "fake:control",
        "owner_handles": {"fake": ["owner"]},
        "auto_send_delay_s": 0.0,
        **overrides,
    }
    # An empty environment: whatever TWIN_* the machine has must not leak into tests.
    return load_settings({}, **values)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


def postgres_available() -> str | None:
    try:
        engine = sa.create_engine(POSTGRES_URL)
        with engine.connect():
            pass
        engine.dispose()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL to a fresh, empty PostgreSQL schema, dropped after the test."""
    problem = postgres_available()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI and unreachable: {problem}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {problem}")
    schema = f"twin_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'twin.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = Store.open(store_url)
    yield opened
    opened.close()


T0 = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


@dataclass
class Harness:
    """Drives a real Twin through a recording fake channel."""

    twin: Twin
    channel: FakeChannel

    async def says(self, who: str, text: str, **kwargs: object) -> InboundEvent:
        event = self.channel.event(who, text, **kwargs)  # type: ignore[arg-type]
        await self.channel.push(event)
        return event

    async def owner_writes(self, to: str, text: str) -> None:
        await self.channel.push(self.channel.event("owner", text, chat=to, from_owner=True))

    async def command(self, text: str, *, sender: str = "owner") -> list[str]:
        """Run a control-chat message; returns only what the twin answered to it."""
        self.control()
        await self.channel.push(self.channel.event(sender, text, chat="control"))
        return self.control()

    def control(self) -> list[str]:
        """What the twin told the owner since the last call."""
        said = [m.text for m in self.channel.sent if m.chat_id == "control"]
        new, self._seen = said[getattr(self, "_seen", 0) :], len(said)
        return new

    def control_data(self) -> list[dict[str, object]]:
        return [dict(m.data) for m in self.channel.sent if m.chat_id == "control" and m.data]

    def sent_to(self, chat: str) -> list[str]:
        return [m.text for m in self.channel.sent if m.chat_id == chat]

    def messages(self) -> list[OutboundMessage]:
        return list(self.channel.sent)

    def seed(self, conversations: dict[str, list[tuple[str, str]]]) -> None:
        """Record past exchanges: {"alice": [("alice", "hi"), ("me", "hello")]}."""
        events = []
        for chat, turns in conversations.items():
            for number, (who, text) in enumerate(turns):
                mine = who == "me"
                events.append(
                    self.channel.event(
                        "owner" if mine else who,
                        text,
                        chat=chat,
                        from_owner=mine,
                        external_id=f"seed-{chat}-{number}",
                        sent_at=T0 + timedelta(days=len(events), minutes=number),
                    )
                )
        self.twin.memory.record_many(events)


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The shipped embedding model, loaded once for the whole run."""
    return OnnxEmbedder()


@pytest.fixture
async def h(settings: Settings, embedder: Embedder) -> AsyncIterator[Harness]:
    channel = FakeChannel("fake")
    twin = Twin(settings, [channel], embedder=embedder)
    async with twin:
        yield Harness(twin, channel)
    twin.store.close()
