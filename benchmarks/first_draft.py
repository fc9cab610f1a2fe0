"""The first contact message after a start, drafted as fast as the hundredth (issue 16).

    .venv/bin/python benchmarks/first_draft.py [--history 20000] [--messages 100]

A history of `--history` messages (benchmarks/recall_scale.py's generator) is stored,
indexed and optimized by a Twin in a child process, which then exits. A fresh process
then starts a Twin on that folder as `twin run` does (open the store, warm the embedder
and the language model, open the index), and `--messages` contact messages arrive one
at a time, each once the previous one's draft card has reached the control chat.
Printed: how long the start took, and the time from the channel handing a message over
to its draft card for the first message, the second, the median and the last.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from pipeline_latency import TimedChannel  # noqa: E402
from recall_scale import SHORT, Chatter, events  # noqa: E402

from bot.app import Twin  # noqa: E402
from twin_core.settings import Settings, load_settings  # noqa: E402
from twin_core.types import ChannelName, ExternalId, OutboundMessage  # noqa: E402

CARD_TIMEOUT_S = 300.0


class CardChannel(TimedChannel):
    """A `TimedChannel` that also signals each message it sends, so the benchmark wakes
    as a draft card arrives."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived = asyncio.Event()

    async def send(self, message: OutboundMessage) -> ExternalId:
        sent = await super().send(message)
        self.arrived.set()
        return sent

    async def card(self, number: int) -> float:
        """When the `number`th draft card (from 0) arrived, waiting for it if need be."""
        async with asyncio.timeout(CARD_TIMEOUT_S):
            while len(self.cards) <= number:
                self.arrived.clear()
                await self.arrived.wait()
        return self.cards[number][0]


def settings_for(folder: Path) -> Settings:
    return load_settings(
        {},
        home=folder,
        owner_name="Sam",
        control_chat="fake:control",
        owner_handles={"fake": ["owner"]},
        burst_window_s=0.0,
        channels=[],
    )


async def prepare(folder: Path, history: int, contacts: int, seed: int) -> None:
    """Store, index and optimize the history, then stop (run in a child process)."""
    twin = Twin(settings_for(folder), [TimedChannel()])
    await twin.start()
    past = [
        dataclasses.replace(e, channel=ChannelName("fake"))
        for e in events(Chatter(seed), history, contacts)
    ]
    for start in range(0, len(past), 5000):
        twin.memory.record_many(past[start : start + 5000])
    await asyncio.to_thread(twin.memory.index)
    await asyncio.to_thread(twin.memory.recall_index.optimize)
    await twin.stop()


async def measure(folder: Path, messages: int, contacts: int, seed: int) -> None:
    channel = CardChannel()
    began = time.perf_counter()
    twin = Twin(settings_for(folder), [channel])
    await twin.start()
    print(f"start (store, warm models, open the index): {time.perf_counter() - began:.1f} s")
    chatter = Chatter(seed + 1)
    latencies: list[float] = []
    for number in range(messages):
        who = number % contacts
        text = chatter.message()
        while text in SHORT:  # a bare "ok" may get no draft at all
            text = chatter.message()
        event = channel.event(
            f"contact-{who}", text, chat=f"chat-{who}", external_id=f"live-{number}"
        )
        pushed = time.perf_counter()
        await channel.push(event)
        latencies.append(await channel.card(number) - pushed)
    await twin.stop()
    ms = [1000 * s for s in latencies]
    print(
        f"message -> draft card: first {ms[0]:.0f} ms, second {ms[1]:.0f} ms, "
        f"median {statistics.median(ms):.0f} ms, last ({len(ms)}th) {ms[-1]:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--history", type=int, default=20_000)
    parser.add_argument("--contacts", type=int, default=100)
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--prepare", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare is not None:
        asyncio.run(prepare(args.prepare, args.history, args.contacts, args.seed))
        return
    if args.messages < 2:
        parser.error("--messages must be at least 2")
    folder = Path(tempfile.mkdtemp(prefix="twin-first-draft-"))
    print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    subprocess.run(
        [
            sys.executable,
            __file__,
            "--prepare",
            str(folder),
            "--history",
            str(args.history),
            "--contacts",
            str(args.contacts),
            "--seed",
            str(args.seed),
        ],
        check=True,
    )
    asyncio.run(measure(folder, args.messages, args.contacts, args.seed))
    print(f"load average after:  {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
