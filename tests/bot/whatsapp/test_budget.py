"""The sending budget on a fake clock: limits, gaps with jitter, new chats, held back."""

from __future__ import annotations

import asyncio
import itertools
import random
from pathlib import Path

import pytest

from bot.channels.whatsapp.budget import (
    BudgetLimits,
    HeldBack,
    KnownChats,
    SendingBudget,
)
from tests.support.whatsapp import FakeClock


def budget(clock: FakeClock, known: set[str] | None = None, **limits: float) -> SendingBudget:
    chats = KnownChats(None)
    chats.chats = set(known if known is not None else {"alice", "bob"})
    values: dict[str, float] = {"gap_s": 0.0, "jitter": 0.0, **limits}
    return SendingBudget(
        BudgetLimits(**values),  # type: ignore[arg-type]
        clock=clock,
        rng=random.Random(7),
        known=chats,
    )


async def send(b: SendingBudget, clock: FakeClock, chat: str) -> float:
    """One send through the budget; when it went out."""
    async with b.turn(chat):
        return clock.now()


async def test_per_minute_sends_wait_for_the_window_to_slide() -> None:
    clock = FakeClock()
    b = budget(clock, per_minute=3, per_hour=100)
    start = clock.now()
    times = [await send(b, clock, "alice") - start for _ in range(7)]
    # Three at once, then each waits until the oldest of the last three is a minute old.
    assert times == [0, 0, 0, 60, 60, 60, 120]
    assert b.waited == 2 and b.refused == 0  # the 4th and the 7th waited
    assert b.waited_s == pytest.approx(120)


async def test_per_hour_limit_and_a_wait_too_long_is_refused_saying_when() -> None:
    clock = FakeClock()
    b = budget(clock, per_minute=10, per_hour=12, max_wait_s=120)
    for _ in range(12):
        await send(b, clock, "alice")
    with pytest.raises(HeldBack, match=r"12 in the last hour .*frees up in 5\d min") as held:
        await send(b, clock, "bob")
    assert 3000 < held.value.retry_after_s <= 3600
    assert b.refused == 1
    lines = b.describe()
    assert lines[0].startswith("whatsapp budget: ")
    assert "/12 this hour" in lines[0]
    assert "1 held for later" in lines[1] and "frees up" in lines[1]
    clock.t += 3600
    await send(b, clock, "bob")  # an hour later the window is empty again


async def test_gaps_between_sends_are_jittered_not_machine_regular() -> None:
    clock = FakeClock()
    b = budget(clock, per_minute=60, per_hour=1000, gap_s=4.0, jitter=1.0)
    times = [await send(b, clock, "alice") for _ in range(8)]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert all(4.0 <= gap <= 8.0 for gap in gaps)
    assert len({round(gap, 3) for gap in gaps}) == len(gaps)  # no two alike


async def test_the_twin_never_starts_chats_in_bulk() -> None:
    clock = FakeClock()
    b = budget(clock, known=set(), new_chats_per_day=2)
    await send(b, clock, "new-1")
    await send(b, clock, "new-2")
    with pytest.raises(HeldBack, match="starts at most 2 new chats a day"):
        await send(b, clock, "new-3")
    # A chat written to once is no longer new.
    await send(b, clock, "new-1")
    clock.t += 86_400
    await send(b, clock, "new-3")
    nobody = budget(clock, known=set(), new_chats_per_day=0)
    with pytest.raises(HeldBack):
        await send(nobody, clock, "stranger")


async def test_sends_take_turns_one_at_a_time() -> None:
    clock = FakeClock()
    b = budget(clock, per_minute=60, per_hour=1000, gap_s=2.0, jitter=0.0)
    order: list[str] = []

    async def one(chat: str) -> None:
        async with b.turn(chat):
            order.append(f"{chat}:start")
            await clock.sleep(1.5)  # typing
            order.append(f"{chat}:sent")

    await asyncio.gather(one("alice"), one("bob"))
    assert order == ["alice:start", "alice:sent", "bob:start", "bob:sent"]
    assert clock.sleeps == [1.5, 2.0, 1.5]


def test_known_chats_survive_a_restart_and_a_damaged_file_is_stricter(tmp_path: Path) -> None:
    path = tmp_path / "known_chats.json"
    known = KnownChats(path)
    known.add(["alice"])
    known.new_chat_sends.append(5.0)
    known.save()
    again = KnownChats(path)
    assert "alice" in again and list(again.new_chat_sends) == [5.0]
    path.write_text("{not json")
    assert "alice" not in KnownChats(path)
