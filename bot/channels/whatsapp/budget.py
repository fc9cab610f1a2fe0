"""Ban protection: how fast, and to whom, the twin may send on the owner's number.

WhatsApp bans numbers that message like machines: many messages a minute, at regular
intervals, to many people who never wrote first. So every message to a contact takes a
turn in one `SendingBudget`, which

* lets at most `per_minute` messages out in any 60 seconds and `per_hour` in any hour
  (sliding windows), and keeps a randomly lengthened gap between two sends;
* lets at most `new_chats_per_day` messages a day go to chats that are new (that never
  wrote to this number and were never written to by the twin): the twin answers, it does
  not start conversations in bulk;
* makes a message wait for its turn when the wait is short (`max_wait_s`), and holds it
  back (`HeldBack`, a `SendLater` saying why and when the budget frees up; the outbox
  keeps the draft approved and sends it then) when it is not, so no sender blocks for
  an hour;
* counts what it held back, for `/status`.

Messages to the owner's own chat (the control chat) are not budgeted: they reach no
one else. Time comes from a `Clock`, so tests run the budget on a fake one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import tempfile
import time
from collections import deque
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bot.channels.base import SendLater

log = logging.getLogger("twin.whatsapp")

MINUTE = 60.0
HOUR = 3600.0
DAY = 86_400.0


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class HeldBack(SendLater):
    """The sending budget did not let this message out now; the text says why and
    when, `retry_after_s` when it may."""


@dataclass(frozen=True, slots=True)
class BudgetLimits:
    per_minute: int = 6
    per_hour: int = 60
    new_chats_per_day: int = 3
    max_wait_s: float = 120.0
    gap_s: float = 3.0
    jitter: float = 1.0


class KnownChats:
    """The chats this number already talks with (they wrote, or the twin wrote to
    them), and when the twin last wrote to a new one; kept in a small JSON file beside
    the session so a restart does not make every chat new again."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.chats: set[str] = set()
        self.new_chat_sends: deque[float] = deque()
        if path is not None and path.exists():
            try:
                data = json.loads(path.read_text())
                self.chats = set(data.get("chats", []))
                self.new_chat_sends = deque(float(t) for t in data.get("new_chat_sends", []))
            except (OSError, ValueError, TypeError) as exc:
                # A damaged file makes every chat new: stricter, never looser.
                log.warning("ignoring %s (%s)", path, exc)

    def __contains__(self, chat: str) -> bool:
        return chat in self.chats

    def add(self, chats: Iterable[str]) -> None:
        fresh = set(chats) - self.chats
        if fresh:
            self.chats |= fresh
            self.save()

    def save(self) -> None:
        if self.path is None:
            return
        data = {"chats": sorted(self.chats), "new_chat_sends": list(self.new_chat_sends)}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".known-chats-")
        try:
            with os.fdopen(fd, "w") as out:
                json.dump(data, out)
            os.replace(tmp, self.path)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            log.exception("could not save %s", self.path)


class SendingBudget:
    def __init__(
        self,
        limits: BudgetLimits,
        *,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        known: KnownChats | None = None,
    ) -> None:
        self.limits = limits
        self.clock: Clock = clock or SystemClock()
        self.rng = rng or random.Random()
        self.known = known or KnownChats(None)
        self._sends: deque[float] = deque()
        self._next_at = 0.0
        self._lock = asyncio.Lock()
        self.waited = 0
        """Messages that waited for their turn."""
        self.waited_s = 0.0
        self.refused = 0
        """Messages not let out when asked (held back for later)."""
        self.last_refusal = ""

    def _prune(self, now: float) -> None:
        while self._sends and self._sends[0] <= now - HOUR:
            self._sends.popleft()
        news = self.known.new_chat_sends
        while news and news[0] <= now - DAY:
            news.popleft()

    def _in_last(self, seconds: float, now: float) -> int:
        return sum(1 for t in self._sends if t > now - seconds)

    def _free_at(self, now: float) -> float:
        """The earliest time the per-minute and per-hour windows and the gap allow."""
        at = self._next_at
        for window, limit in ((MINUTE, self.limits.per_minute), (HOUR, self.limits.per_hour)):
            recent = [t for t in self._sends if t > now - window]
            if len(recent) >= limit:
                at = max(at, recent[len(recent) - limit] + window)
        return at

    def _refuse(self, why: str, retry_after_s: float) -> HeldBack:
        self.refused += 1
        self.last_refusal = why
        log.warning("held back a message: %s", why)
        return HeldBack(f"held back by the WhatsApp sending budget: {why}", retry_after_s)

    @contextlib.asynccontextmanager
    async def turn(self, chat: str) -> AsyncIterator[None]:
        """Wait for `chat`'s turn to send (raising `HeldBack` when it would be too long
        or would start one new chat too many); the send happens inside the block, one
        at a time, so typing and sending are never interleaved between chats."""
        async with self._lock:
            now = self.clock.now()
            self._prune(now)
            new_chat = chat not in self.known
            if new_chat:
                news = self.known.new_chat_sends
                if len(news) >= self.limits.new_chats_per_day:
                    again = news[0] + DAY - now if news else DAY
                    raise self._refuse(
                        f"this chat never wrote to you, and the twin starts at most "
                        f"{self.limits.new_chats_per_day} new chats a day "
                        f"(next possible in {_span(again)})",
                        again,
                    )
            wait = self._free_at(now) - now
            if wait > self.limits.max_wait_s:
                raise self._refuse(
                    f"{self._in_last(MINUTE, now)} messages in the last minute and "
                    f"{self._in_last(HOUR, now)} in the last hour (limits "
                    f"{self.limits.per_minute}/minute, {self.limits.per_hour}/hour); "
                    f"it frees up in {_span(wait)}",
                    wait,
                )
            if wait > 0:
                self.waited += 1
                self.waited_s += wait
                await self.clock.sleep(wait)
            sent_at = self.clock.now()
            self._sends.append(sent_at)
            if new_chat:
                self.known.new_chat_sends.append(sent_at)
            self.known.chats.add(chat)
            if new_chat:
                self.known.save()
            try:
                yield
            finally:
                done = self.clock.now()
                gap = self.limits.gap_s * (1.0 + self.rng.uniform(0.0, self.limits.jitter))
                self._next_at = done + gap

    def describe(self) -> list[str]:
        """The budget as `/status` shows it."""
        now = self.clock.now()
        self._prune(now)
        lines = [
            f"whatsapp budget: {self._in_last(MINUTE, now)}/{self.limits.per_minute} this "
            f"minute, {self._in_last(HOUR, now)}/{self.limits.per_hour} this hour, "
            f"{len(self.known.new_chat_sends)}/{self.limits.new_chats_per_day} new chats "
            "in 24 h"
        ]
        if self.waited or self.refused:
            text = (
                f"whatsapp held back: {self.waited} message(s) waited their turn "
                f"({self.waited_s:.0f} s in all), {self.refused} held for later"
            )
            if self.refused:
                text += f" (last: {self.last_refusal})"
            lines.append(text)
        return lines


def _span(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
