"""Channels by name, one reconnect supervisor, and each channel's state in /status."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path

import pytest

from bot.channels.base import ChannelAuthError, ChannelState, EventHandler
from bot.channels.fake import FakeChannel
from bot.channels.registry import ChannelUnavailable, load_channel, load_channels
from bot.channels.supervisor import ChannelSupervisor, backoff
from tests.conftest import TwinFactory
from tests.support.cli import Cli
from tests.support.settings import make_settings
from twin_core.types import InboundEvent


class FlakyChannel(FakeChannel):
    """Fails to connect `failures` times, then connects; `drop()` loses the connection."""

    def __init__(self, failures: int = 0, *, auth_error: bool = False) -> None:
        super().__init__("flaky")
        self.failures = failures
        self.auth_error = auth_error
        self.starts = 0
        self._lost: asyncio.Future[None] | None = None

    async def start(self, on_event: EventHandler) -> None:
        self.starts += 1
        if self.auth_error:
            raise ChannelAuthError("401 Unauthorized: the token was revoked")
        if self.failures:
            self.failures -= 1
            raise ConnectionError("connection refused")
        self._lost = asyncio.get_running_loop().create_future()
        await super().start(on_event)

    async def wait_closed(self) -> None:
        assert self._lost is not None
        closed = asyncio.ensure_future(super().wait_closed())
        done, _ = await asyncio.wait({closed, self._lost}, return_when=asyncio.FIRST_COMPLETED)
        closed.cancel()
        if self._lost in done:
            self._lost.result()

    def drop(self) -> None:
        assert self._lost is not None
        self._lost.set_exception(ConnectionResetError("the platform hung up"))


async def nothing(event: InboundEvent) -> None:
    return None


def test_backoff_grows_with_full_jitter_and_a_ceiling() -> None:
    rng = random.Random(7)
    waits = [backoff(attempt, rng) for attempt in range(1, 15)]
    assert all(0 <= w <= min(300, 2 ** (a - 1)) for a, w in enumerate(waits, start=1))
    assert len(set(waits)) == len(waits)  # jittered: no two alike
    assert max(backoff(50, random.Random(s)) for s in range(50)) <= 300


async def test_a_channel_that_fails_to_connect_is_retried_until_it_connects(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("bot.channels.supervisor.BACKOFF_BASE_S", 0.01)
    told: list[str] = []

    async def tell(text: str) -> None:
        told.append(text)

    channel = FlakyChannel(failures=3)
    supervisor = ChannelSupervisor([channel], nothing, notify=tell)
    await supervisor.start()
    health = supervisor.health["flaky"]
    for _ in range(200):
        if health.state is ChannelState.CONNECTED:
            break
        await asyncio.sleep(0.01)
    assert health.state is ChannelState.CONNECTED and channel.starts == 4
    assert "connection refused" in health.last_error  # kept for /status
    assert told == ["flaky is connected again."]

    channel.drop()  # lost after it was up: reconnecting, the owner is told
    for _ in range(200):
        if channel.starts == 5 and health.state is ChannelState.CONNECTED:
            break
        await asyncio.sleep(0.01)
    assert channel.starts == 5
    assert any("lost its connection (ConnectionResetError" in t for t in told)
    await supervisor.stop()
    assert health.state is ChannelState.STOPPED


async def test_refused_credentials_fail_for_good_and_say_why() -> None:
    told: list[str] = []

    async def tell(text: str) -> None:
        told.append(text)

    channel = FlakyChannel(auth_error=True)
    supervisor = ChannelSupervisor([channel], nothing, notify=tell)
    await supervisor.start()
    await asyncio.wait_for(supervisor.wait_ended(), 2)
    health = supervisor.health["flaky"]
    assert health.state is ChannelState.FAILED and channel.starts == 1
    assert health.describe() == "flaky: failed, last error: 401 Unauthorized: the token was revoked"
    assert told == ["flaky failed and will not retry: 401 Unauthorized: the token was revoked"]
    await supervisor.stop()


async def test_status_shows_each_channels_state(make_twin: TwinFactory) -> None:
    h = await make_twin()
    [status] = await h.command("/status")
    assert "fake: connected" in status


def test_the_registry_loads_channels_by_name_and_says_what_is_missing(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    assert load_channel("console", settings).name == "console"
    with pytest.raises(ChannelUnavailable, match="'icq', which is not a channel"):
        load_channel("icq", settings)
    with pytest.raises(ChannelUnavailable) as missing:
        load_channels(make_settings(tmp_path, channels=["console", "telegram", "slack"]))
    # Both problems at once, each naming its fix.
    assert "telegram" in str(missing.value) and "slack" in str(missing.value)
    # Each names its fix: the missing extra, or (installed) the missing settings.
    assert "twin[telegram]" in str(missing.value) or "TWIN_TELEGRAM_TOKEN" in str(missing.value)
    assert "twin[slack]" in str(missing.value) or "TWIN_SLACK_BOT_TOKEN" in str(missing.value)


def test_a_console_twin_imports_no_platform_library(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys, asyncio\n"
        "from bot.app import Twin\n"
        "from bot.channels.registry import load_channels\n"
        "from tests.support.settings import make_settings\n"
        "from pathlib import Path\n"
        f"load_channels(make_settings(Path({str(tmp_path)!r}), channels=['console']))\n"
        "bad = [m for m in ('telegram', 'slack_bolt', 'discord', 'neonize', 'aioimaplib')"
        " if m in sys.modules]\n"
        "print(bad)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_doctor_checks_each_configured_channel(cli: Cli, tmp_path: Path) -> None:
    fine = cli("doctor", "--json", env={"TWIN_HOME": str(tmp_path)})
    assert fine.exit_code == 0 and json.loads(fine.stdout) == {
        "console": {"ok": True, "problems": []}
    }
    env = {"TWIN_HOME": str(tmp_path), "TWIN_CHANNELS": '["console", "icq"]'}
    bad = cli("doctor", env=env)
    assert bad.exit_code == 1
    assert "console: ok" in bad.stdout and "icq: TWIN_CHANNELS names 'icq'" in bad.stdout


def test_pair_says_when_a_channel_needs_none(cli: Cli, tmp_path: Path) -> None:
    result = cli("pair", "console", env={"TWIN_HOME": str(tmp_path)})
    assert result.exit_code == 2 and "console needs no pairing" in result.stderr


async def test_status_says_an_index_built_the_earlier_way_can_be_rebuilt(
    make_twin: TwinFactory, tmp_path: Path
) -> None:
    from bot.app import open_store
    from twin_core.memory.recall import Tuning
    from twin_core.memory.service import Memory

    home = tmp_path / "home"
    first = await make_twin(home=home)
    [status] = await first.command("/status")
    assert "earlier version" not in status
    await first.twin.stop()
    settings = first.twin.settings
    # The index as a version that embedded "speaker: text" built it.
    earlier = Memory.open(
        open_store(settings),
        settings.index_location,
        embedder=first.twin.memory.recall_index.embedder,
        tuning=Tuning(speaker_weight=None),
    )
    earlier.recall_index.rebuild()
    earlier.close()
    earlier.store.close()

    again = await make_twin(home=home)
    [status] = await again.command("/status")
    assert "built by an earlier version; `twin reindex` rebuilds it" in status
