from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.app import Twin
from bot.channels.fake import FakeChannel
from tests.support.cli import Cli, make_cli
from tests.support.harness import Harness
from tests.support.settings import POSTGRES_URL, make_settings
from twin_core.memory.embed import Embedder, OnnxEmbedder
from twin_core.memory.store import Store
from twin_core.settings import Settings


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


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The shipped embedding model, loaded once for the whole run."""
    return OnnxEmbedder()


TwinFactory = Callable[..., Awaitable[Harness]]


@pytest.fixture
async def make_twin(tmp_path: Path, embedder: Embedder) -> AsyncIterator[TwinFactory]:
    """Starts real Twins on fake channels: `await make_twin(auto_confidence=0.5)`;
    each is stopped after the test."""
    started: list[Twin] = []

    async def make(
        *, channel: FakeChannel | None = None, home: Path | None = None, **overrides: object
    ) -> Harness:
        fake = channel or FakeChannel("fake")
        settings = make_settings(home or tmp_path / f"twin{len(started)}", **overrides)
        twin = Twin(settings, [fake], embedder=embedder)
        await twin.start()
        started.append(twin)
        return Harness(twin, fake)

    yield make
    for twin in reversed(started):
        await twin.stop()


@pytest.fixture
async def h(make_twin: TwinFactory) -> Harness:
    return await make_twin()


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    """Runs `twin ...` in-process: `cli("--home", str(tmp_path), "stats", "--json")`."""
    return make_cli(monkeypatch, capsys)
