"""The first contact message after a start, drafted as fast as the hundredth (issue 16).

    .venv/bin/python benchmarks/first_draft.py [--history 20000] [--contacts 100]
        [--messages 100] [--talkers 10] [--home FOLDER]

A history of `--history` messages with `--contacts` contacts (benchmarks/recall_scale.py's
generator) is stored with the importers' fast path and indexed and optimized, by a
child process with no Twin, as `twin import --index` leaves a home. Then two more child
processes, one after the other, each start a Twin on that home the way `twin run` does
(settings, the store, the shipped embedder, the offline responder, the embedded index,
a channel; the console channel is a `FakeChannel` here so that the benchmark holds the
other end), and `--messages` contact messages arrive one at a time, each once the
previous one's card has reached the control chat. The first process is the first
`twin run` after the import (its one-time work, people memory and the calibration fit,
runs meanwhile, and is let finish before it stops); the second is a restart on the
same home.

Message i comes from contact i % `--talkers`: the first `--talkers` messages are each a
contact's first since the start, the later ones come again from the same contacts. Each
repeats a message that contact sent in the history (the owner answered it), so the
offline responder has a good match and drafts: a made-up message of random words gets
"no good match" from it, and a benchmark that waits for a draft card then waits forever
(what the previous attempt saw). A "No draft" notice still counts as the message's card
and is reported as such.

Printed per run: from process start to ready (imports included) and `Twin.start()`
alone; message -> card for the 1st, 2nd, 3rd message, p50 / p95 of the first
`--talkers` (each contact's first) and of the rest, and the last; and the load average.
`--burst-window` is 0: a message is drafted for at once (`TWIN_BURST_WINDOW_S` would
add its wait to every figure alike).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

CARD_TIMEOUT_S = 300.0
SETTLE_S = 900.0


def settings_for(folder: Path) -> Any:
    from twin_core.settings import load_settings

    return load_settings(
        {},
        home=folder,
        owner_name="Sam",
        control_chat="fake:control",
        owner_handles={"fake": ["owner"]},
        burst_window_s=0.0,
        channels=[],
    )


def history(size: int, contacts: int, seed: int) -> list[Any]:
    from recall_scale import Chatter, events

    from twin_core.types import ChannelName

    return [
        dataclasses.replace(e, channel=ChannelName("fake"))
        for e in events(Chatter(seed), size, contacts)
    ]


def prepare(folder: Path, size: int, contacts: int, seed: int) -> None:
    """Store and index the history as `twin import --index` does (no Twin runs)."""
    from bot.app import open_memory

    settings = settings_for(folder)
    memory = open_memory(settings)
    try:
        past = history(size, contacts, seed)
        for start in range(0, len(past), 5000):
            memory.record_many(past[start : start + 5000])
        memory.index()
        memory.recall_index.optimize()
    finally:
        memory.close()
        memory.store.close()


def asked(size: int, contacts: int, seed: int, talkers: int, count: int) -> list[tuple[int, str]]:
    """`count` (contact, text) pairs: message i from contact i % talkers, repeating the
    contact's own past messages that the owner answered, newest first."""
    from recall_scale import SHORT

    past = history(size, contacts, seed)
    answered: dict[int, list[str]] = {}
    for message, reply in itertools.pairwise(past):
        if message.from_owner or not reply.from_owner or message.chat_id != reply.chat_id:
            continue
        if message.text in SHORT or len(message.text.split()) < 3:
            continue
        answered.setdefault(int(message.chat_id.removeprefix("chat-")), []).append(message.text)
    if len(answered) < talkers:
        raise SystemExit(f"only {len(answered)} contacts have a message to repeat")
    picks: list[tuple[int, str]] = []
    for number in range(count):
        who = number % talkers
        texts = answered[who]
        picks.append((who, texts[-1 - (number // talkers) % len(texts)]))
    return picks


class CardChannel:
    """A recording channel (`FakeChannel`) that notes when each control-chat card
    arrives: a draft card, or a notice that there is no draft."""

    def __init__(self) -> None:
        from bot.channels.fake import FakeChannel

        self.fake = FakeChannel("fake")
        self.name = self.fake.name
        self.cards: list[tuple[float, str]] = []
        self.arrived = asyncio.Event()

    async def start(self, on_event: Any) -> None:
        await self.fake.start(on_event)

    async def stop(self) -> None:
        await self.fake.stop()

    async def wait_closed(self) -> None:
        await self.fake.wait_closed()

    async def send(self, message: Any) -> Any:
        sent = await self.fake.send(message)
        if message.chat_id == "control":
            if message.data and message.data.get("event") == "draft":
                self.cards.append((time.perf_counter(), "draft"))
            elif "No draft" in message.text or "went wrong" in message.text:
                self.cards.append((time.perf_counter(), "no draft"))
            self.arrived.set()
        return sent

    async def card(self, number: int) -> tuple[float, str]:
        """The `number`th card (from 0): when it arrived and what it was."""
        async with asyncio.timeout(CARD_TIMEOUT_S):
            while len(self.cards) <= number:
                self.arrived.clear()
                await self.arrived.wait()
        return self.cards[number]


async def measure(folder: Path, spawned: float, args: argparse.Namespace) -> dict[str, Any]:
    from bot.app import Twin

    before = time.perf_counter()
    picks = asked(args.history, args.contacts, args.seed, args.talkers, args.messages)
    generating = time.perf_counter() - before  # the benchmark's own work, not counted
    channel = CardChannel()
    twin = Twin(settings_for(folder), [channel])  # type: ignore[list-item]
    began = time.perf_counter()
    await twin.start()
    start_s = time.perf_counter() - began
    ready = time.time() - spawned - generating
    latencies: list[float] = []
    kinds: list[str] = []
    tag = f"run{args.run}"
    for number, (who, text) in enumerate(picks):
        event = channel.fake.event(
            f"contact-{who}",
            text,
            chat=f"chat-{who}",
            name=f"Contact {who:04d}",
            external_id=f"{tag}-{number}",  # a new id: a seen one is dropped, rightly
        )
        pushed = time.perf_counter()
        await channel.fake.push(event)
        try:
            at, kind = await channel.card(number)
        except TimeoutError:
            await twin.stop()
            sent = [m.text[:120] for m in channel.fake.sent]
            raise SystemExit(
                f"no card for message {number} in {CARD_TIMEOUT_S:.0f} s: {sent}"
            ) from None
        latencies.append(at - pushed)
        kinds.append(kind)
    # A twin runs for hours: let the one-time work after an import finish (people
    # memory, the calibration fit) before stopping, so the restart finds it done.
    began = time.perf_counter()
    await twin.jobs.drain(horizon_s=SETTLE_S)  # the refit_calibration job among them
    settled_s = time.perf_counter() - began
    await twin.stop()
    return {
        "ready_s": ready,
        "start_s": start_s,
        "settled_s": settled_s,
        "latencies_ms": [round(1000 * s, 1) for s in latencies],
        "kinds": kinds,
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(name: str, figures: dict[str, Any], talkers: int) -> None:
    ms = figures["latencies_ms"]
    firsts, rest = ms[:talkers], ms[talkers:]
    drafts = figures["kinds"].count("draft")
    print(
        f"{name}: ready {figures['ready_s']:.1f} s after the process began "
        f"(Twin.start() {figures['start_s']:.1f} s); {drafts} of {len(ms)} cards are drafts; "
        f"background work done {figures['settled_s']:.1f} s after the last card"
    )
    print(
        f"  message -> card: 1st {ms[0]:.0f} ms, 2nd {ms[1]:.0f} ms, 3rd {ms[2]:.0f} ms; "
        f"each contact's first ({len(firsts)}): p50 {statistics.median(firsts):.0f} ms, "
        f"p95 {percentile(firsts, 0.95):.0f} ms; later ({len(rest)}): "
        f"p50 {statistics.median(rest):.0f} ms, p95 {percentile(rest, 0.95):.0f} ms; "
        f"last {ms[-1]:.0f} ms",
        flush=True,
    )


def child(args: argparse.Namespace, *more: str) -> str:
    command = [
        sys.executable,
        __file__,
        "--history",
        str(args.history),
        "--contacts",
        str(args.contacts),
        "--messages",
        str(args.messages),
        "--talkers",
        str(args.talkers),
        "--seed",
        str(args.seed),
        *more,
    ]
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True)
    if done.returncode != 0:  # its figures, if it printed them, still count
        print(f"  (the child process exited with {done.returncode})", flush=True)
    lines = done.stdout.strip().splitlines()
    if not lines:
        raise SystemExit(f"the child process printed nothing: {command}")
    return lines[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--history", type=int, default=20_000)
    parser.add_argument("--contacts", type=int, default=100)
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument("--talkers", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the TWIN_HOME folder")
    parser.add_argument(
        "--home", type=Path, help="TWIN_HOME to use (kept); prepared there unless it has one"
    )
    parser.add_argument("--prepare", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--spawned", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--run", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare is not None:
        prepare(args.prepare, args.history, args.contacts, args.seed)
        print("prepared")
        return
    if args.measure is not None:
        figures = asyncio.run(measure(args.measure, args.spawned, args))
        print(json.dumps(figures))
        return
    if args.messages <= args.talkers:
        parser.error("--messages must be more than --talkers")
    folder = args.home or Path(tempfile.mkdtemp(prefix="twin-first-draft-"))
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    if (folder / "twin.db").exists():
        print(f"history: {folder} as it is (the same --history, --contacts, --seed)")
    else:
        began = time.perf_counter()
        child(args, "--prepare", str(folder))
        print(
            f"history: {args.history:,} messages, {args.contacts} contacts, stored, indexed "
            f"and optimized in {time.perf_counter() - began:.1f} s",
            flush=True,
        )
    for run, name in ((1, "first `twin run` after the import"), (2, "restart")):
        line = child(
            args, "--measure", str(folder), "--spawned", str(time.time()), "--run", str(run)
        )
        report(name, json.loads(line), args.talkers)
        print(f"  load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    if not args.keep and args.home is None:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
