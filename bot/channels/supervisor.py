"""One reconnect loop for every channel (errbot's `serve_forever`, once).

Each channel is started; while it runs, the supervisor waits for it to end. A channel
that ends for good (the console's input ran out) or is stopped is left alone; one whose
connection was lost is started again after a backoff with full jitter (1 s, 2 s, 4 s,
... up to 5 minutes, each a random fraction of that); one whose credentials are refused
(`ChannelAuthError`) is marked failed and not retried. Each channel's state and last
error are kept for `/status`, and the owner is told when a channel fails or comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from bot.channels.base import Channel, ChannelAuthError, ChannelState, EventHandler
from twin_core.aio import TaskGroup

log = logging.getLogger("twin.channels")

BACKOFF_BASE_S = 1.0
BACKOFF_MAX_S = 300.0

Notify = Callable[[str], Awaitable[None]]


@dataclass(slots=True)
class ChannelHealth:
    """What the owner sees of one channel in `/status`."""

    name: str
    state: ChannelState = ChannelState.CONNECTING
    last_error: str = ""
    since: float = field(default_factory=time.time)
    attempts: int = 0
    """Connection attempts since it was last connected."""

    def describe(self) -> str:
        text = f"{self.name}: {self.state.value}"
        if self.state is ChannelState.RECONNECTING:
            text += f" (attempt {self.attempts})"
        if self.last_error and self.state is not ChannelState.CONNECTED:
            text += f", last error: {self.last_error}"
        return text


def backoff(attempt: int, rng: random.Random | None = None) -> float:
    """Seconds to wait before attempt `attempt` + 1: full jitter over an exponential."""
    ceiling = min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** max(0, attempt - 1))
    return (rng or random).uniform(0, ceiling)


class ChannelSupervisor:
    def __init__(
        self,
        channels: Sequence[Channel],
        on_event: EventHandler,
        *,
        notify: Notify | None = None,
        first_connect_timeout_s: float = 30.0,
    ) -> None:
        self.channels: dict[str, Channel] = {str(c.name): c for c in channels}
        self.on_event = on_event
        self.notify = notify
        self.health = {name: ChannelHealth(name) for name in self.channels}
        self._first_connect_timeout_s = first_connect_timeout_s
        self._tasks = TaskGroup()
        self._stopping = asyncio.Event()
        self._first_try: dict[str, asyncio.Event] = {n: asyncio.Event() for n in self.channels}
        self._ended: dict[str, asyncio.Event] = {n: asyncio.Event() for n in self.channels}

    async def start(self) -> None:
        """Start every channel; returns once each has connected, failed, or had its
        first try (it keeps trying in the background)."""
        for name, channel in self.channels.items():
            self._tasks.spawn(self._serve(name, channel), name=f"channel:{name}")
        if self.channels:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    asyncio.gather(*(e.wait() for e in self._first_try.values())),
                    self._first_connect_timeout_s,
                )

    async def wait_ended(self) -> None:
        """Until every channel has ended for good (or failed)."""
        await asyncio.gather(*(e.wait() for e in self._ended.values()))

    async def stop(self) -> None:
        self._stopping.set()
        for name, channel in self.channels.items():
            try:
                await channel.stop()
            except Exception:
                log.exception("stopping %s failed", name)
            self.health[name].state = ChannelState.STOPPED
        await self._tasks.cancel()

    async def _serve(self, name: str, channel: Channel) -> None:
        health = self.health[name]
        try:
            while not self._stopping.is_set():
                health.attempts += 1
                try:
                    await channel.start(self.on_event)
                    was_down = health.state is ChannelState.RECONNECTING
                    health.state, health.attempts = ChannelState.CONNECTED, 0
                    health.since = time.time()
                    self._first_try[name].set()
                    log.info("%s connected", name)
                    if was_down:
                        await self._tell(f"{name} is connected again.")
                    await channel.wait_closed()
                    return  # ended for good (or stopped)
                except ChannelAuthError as exc:
                    health.state, health.last_error = ChannelState.FAILED, str(exc)
                    log.error("%s failed: %s", name, exc)
                    await self._tell(f"{name} failed and will not retry: {exc}")
                    return
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    if self._stopping.is_set():
                        return
                    health.last_error = f"{type(exc).__name__}: {exc}"
                    first_loss = health.state is ChannelState.CONNECTED
                    health.state = ChannelState.RECONNECTING
                    health.since = time.time()
                    self._first_try[name].set()
                    delay = backoff(health.attempts)
                    log.warning(
                        "%s: %s; connecting again in %.1f s", name, health.last_error, delay
                    )
                    if first_loss:
                        await self._tell(
                            f"{name} lost its connection ({health.last_error}); reconnecting."
                        )
                    with contextlib.suppress(Exception):
                        await channel.stop()  # let go of what the lost connection held
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), delay)
        finally:
            self._first_try[name].set()
            self._ended[name].set()

    async def _tell(self, text: str) -> None:
        if self.notify is None:
            return
        try:
            await self.notify(text)
        except Exception:
            log.exception("could not tell the owner: %s", text)
