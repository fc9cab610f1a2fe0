"""Inbound -> draft latency, and the event loop's lag, on a real Twin under load.

    .venv/bin/python benchmarks/pipeline_latency.py [--history 100000] [--contacts 200]
        [--messages 1000] [--conversations 50] [--rate 10] [--burst-window 0]

A real Twin (SQLite, Qdrant Edge, the shipped embedder, the offline responder) on a
recording channel, over a synthetic history of `--history` messages with `--contacts`
contacts (benchmarks/recall_scale.py's generator), indexed and optimized first. Then
`--messages` contact messages arrive across `--conversations` conversations, as a
Poisson stream of `--rate` messages a second, a third of them in bursts of two or three
from one contact. Printed: for each draft, the time from the channel handing over its
last message to the draft card reaching the control chat (p50 / p95 / max); how long
the channel's callback took (it only records); and the event loop's worst lag, measured
by a task that sleeps 5 ms at a time and notes how late it wakes. `--burst-window`
sets `TWIN_BURST_WINDOW_S` (default 0 here, so the figures are the pipeline's own; with
a window, a draft also waits that long for the burst to end).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from recall_scale import Chatter, events  # noqa: E402

from bot.app import Twin  # noqa: E402
from bot.channels.fake import FakeChannel  # noqa: E402
from twin_core.memory.embed import make_embedder  # noqa: E402
from twin_core.settings import load_settings  # noqa: E402
from twin_core.types import ChannelName, ExternalId, OutboundMessage  # noqa: E402


class TimedChannel(FakeChannel):
    """Notes when each draft card reaches the control chat, and which messages it answers."""

    def __init__(self) -> None:
        super().__init__("fake")
        self.cards: list[tuple[float, list[int]]] = []

    async def send(self, message: OutboundMessage) -> ExternalId:
        if message.chat_id == "control" and message.data and message.data.get("event") == "draft":
            self.cards.append((time.perf_counter(), list(message.data["answers"])))
        return await super().send(message)


async def monitor(lags: list[float], stop: asyncio.Event, step: float = 0.005) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        before = loop.time()
        await asyncio.sleep(step)
        lags.append(loop.time() - before - step)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    settings = load_settings(
        {},
        home=folder,
        owner_name="Sam",
        control_chat="fake:control",
        owner_handles={"fake": ["owner"]},
        burst_window_s=args.burst_window,
        channels=[],
    )
    channel = TimedChannel()
    embedder = make_embedder(settings.embedder)
    twin = Twin(settings, [channel], embedder=embedder)
    await twin.start()
    chatter = Chatter(args.seed)
    started = time.perf_counter()
    past = [
        dataclasses.replace(e, channel=ChannelName("fake"))
        for e in events(chatter, args.history, args.contacts)
    ]
    for start in range(0, len(past), 5000):
        twin.memory.record_many(past[start : start + 5000])
    stored_s = time.perf_counter() - started
    started = time.perf_counter()
    await asyncio.to_thread(twin.memory.index)
    await asyncio.to_thread(twin.memory.recall_index.optimize)
    indexed_s = time.perf_counter() - started
    print(
        f"history: {args.history:,} messages, {args.contacts} contacts; stored in "
        f"{stored_s:.1f} s, indexed and optimized in {indexed_s:.1f} s",
        flush=True,
    )

    rng = random.Random(args.seed)
    contacts = sorted({e.chat_id for e in past})[: args.conversations]
    del past  # the bot holds no history in memory; neither does its benchmark
    arrivals: list[tuple[str, str]] = []
    while len(arrivals) < args.messages:
        who = rng.choice(contacts)
        size = rng.choice((1, 1, 1, 1, 2, 3))
        arrivals += [(who, chatter.message()) for _ in range(size)]
    arrivals = arrivals[: args.messages]

    lags: list[float] = []
    stop = asyncio.Event()
    watcher = asyncio.create_task(monitor(lags, stop))
    pushed_at: dict[str, float] = {}
    callback_s: list[float] = []
    cpu_before = time.process_time()
    began = time.perf_counter()
    for number, (who, text) in enumerate(arrivals):
        event = channel.event(
            who.replace("chat-", "contact-"), text, chat=who, external_id=f"live-{number}"
        )
        before = time.perf_counter()
        pushed_at[event.external_id] = before
        await channel.push(event)
        callback_s.append(time.perf_counter() - before)
        # Poisson arrivals; a burst's next message follows within half a second.
        following = number + 1 < len(arrivals) and arrivals[number + 1][0] == who
        gap = rng.uniform(0.05, 0.5) if following else rng.expovariate(args.rate)
        await asyncio.sleep(gap)
    await twin.idle()
    elapsed = time.perf_counter() - began
    cpu = time.process_time() - cpu_before
    stop.set()
    await watcher

    external = await asyncio.to_thread(_external_ids, twin)
    counts = await asyncio.to_thread(twin.store.drafts.counts)
    latencies = []
    for at, answers in channel.cards:
        last = max(
            (pushed_at[external[m]] for m in answers if external.get(m) in pushed_at), default=None
        )
        if last is not None:
            latencies.append(at - last)
    await twin.stop()
    return {
        "messages": len(arrivals),
        "drafts": len(latencies),
        "superseded": counts["superseded"],
        "seconds": elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * percentile(latencies, 0.95),
        "max_ms": 1000 * max(latencies),
        "callback_p95_ms": 1000 * percentile(callback_s, 0.95),
        "cpu_per_message_ms": 1000 * cpu / len(arrivals),
        "lag_max_ms": 1000 * max(lags),
        "lag_p99_ms": 1000 * percentile(lags, 0.99),
    }


def _external_ids(twin: Twin) -> dict[int, str]:
    from sqlmodel import col, select

    from twin_core.memory.models import Message

    with twin.store.database.session() as session:
        rows = session.exec(
            select(Message.id, Message.external_id).where(
                col(Message.external_id).startswith("live-")
            )
        ).all()
    return {message_id: external for message_id, external in rows if message_id is not None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--history", type=int, default=100_000)
    parser.add_argument("--contacts", type=int, default=200)
    parser.add_argument("--messages", type=int, default=1_000)
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--rate", type=float, default=10.0, help="messages per second")
    parser.add_argument("--burst-window", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--folder", type=Path, default=None)
    args = parser.parse_args()
    folder = args.folder or Path(tempfile.mkdtemp(prefix="twin-pipeline-"))
    print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    figures = asyncio.run(run(args, folder))
    print(f"load average after:  {os.getloadavg()[0]:.2f}")
    print(
        f"{figures['messages']:,} messages in {figures['seconds']:.1f} s -> "
        f"{figures['drafts']:,} drafts ({figures['superseded']:,} of them superseded when the "
        "contact wrote again)\n"
        f"inbound -> draft: p50 {figures['p50_ms']:.0f} ms, p95 {figures['p95_ms']:.0f} ms, "
        f"max {figures['max_ms']:.0f} ms\n"
        f"channel callback (record and return): p95 {figures['callback_p95_ms']:.1f} ms\n"
        f"CPU per message (recording, indexing, drafting; all threads): "
        f"{figures['cpu_per_message_ms']:.0f} ms\n"
        f"event loop lag: worst {figures['lag_max_ms']:.1f} ms, p99 {figures['lag_p99_ms']:.1f} ms"
    )


if __name__ == "__main__":
    main()
