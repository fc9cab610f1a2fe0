"""The email channel against a real dovecot on this machine (as the tests start it).

    .venv/bin/python benchmarks/email_channel.py [--mails 300] [--rounds 20]

Two figures, measured in one run so their ratio holds on a noisy machine:

* catch-up: mails that arrived while the twin was down, read when it starts (UID
  SEARCH past the checkpoint, one FETCH each, the checkpoint saved after each);
* arrival: from a mail landing in the INBOX to its event, with IMAP IDLE and with
  polling every second (the fallback for servers without IDLE), beside the server's
  own delay in telling an IDLE client (a bare aioimaplib session). Mails land at random
  moments, so polling's figure is about half its interval plus the reading.
"""

from __future__ import annotations

import argparse
import asyncio
import imaplib
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.channels.email import EmailChannel, EmailSettings
from tests.bot.email.conftest import OWNER, mail
from tests.bot.email.servers import Mailbox, start_dovecot
from twin_core.types import InboundEvent


class Memory(dict[str, str]):
    def get(self, key: str, default: str = "") -> str:  # type: ignore[override]
        return super().get(key, default)

    def set(self, key: str, value: str) -> None:
        self[key] = value


def channel(port: int, user: str, state: Memory, poll_s: float) -> EmailChannel:
    config = EmailSettings(
        address=OWNER,
        imap_host="127.0.0.1",
        imap_port=port,
        smtp_host="127.0.0.1",
        smtp_port=25,
        username=user,
        password="secret",  # type: ignore[arg-type]
        security="none",
        poll_s=poll_s,
    )
    return EmailChannel(config, state, owner_name="Sam")


async def catch_up(port: int, user: str, mails: int) -> float:
    box = Mailbox(port, user)
    box.deliver(mail("setup@example.test", OWNER, "setup", "first"))
    state = Memory()
    seen: list[InboundEvent] = []
    done = asyncio.Event()

    async def on_event(event: InboundEvent) -> None:
        seen.append(event)
        if len(seen) >= mails:
            done.set()

    first = channel(port, user, state, 60)
    await first.start(on_event)
    await first.stop()
    for n in range(mails):
        box.deliver(mail(f"c{n}@example.test", OWNER, f"Hello {n}", f"message number {n}"))
    again = channel(port, user, state, 60)
    started = time.perf_counter()
    await again.start(on_event)
    await asyncio.wait_for(done.wait(), 600)
    elapsed = time.perf_counter() - started
    await again.stop()
    return mails / elapsed


async def arrival(port: int, user: str, rounds: int, idle: bool) -> list[float]:
    box = Mailbox(port, user)
    box.deliver(mail("setup@example.test", OWNER, "setup", "first"))
    arrived: asyncio.Queue[float] = asyncio.Queue()

    async def on_event(event: InboundEvent) -> None:
        arrived.put_nowait(time.perf_counter())

    # With IDLE the server tells of new mail at once (the 30 s are only its renewal);
    # without, the mailbox is looked at every second.
    reader = channel(port, user, Memory(), 30.0 if idle else 1.0)
    await reader.start(on_event)
    reader.idle_supported = idle
    await asyncio.sleep(0.5)
    # One client session delivers: the clock starts as the APPEND goes out.
    client = imaplib.IMAP4("127.0.0.1", port)
    client.login(user, "secret")
    delays = []
    for n in range(rounds):
        data = bytes(mail("a@example.test", OWNER, f"r{n}", "hi"))
        sent = time.perf_counter()
        await asyncio.to_thread(client.append, "INBOX", "", None, data)
        delays.append((await asyncio.wait_for(arrived.get(), 30)) - sent)
        await asyncio.sleep(random.uniform(0.1, 1.1))
    client.logout()
    await reader.stop()
    return delays


async def raw_idle(port: int, user: str, rounds: int) -> list[float]:
    """The server's own part: APPEND to the EXISTS push on a bare aioimaplib IDLE."""
    import aioimaplib

    client = imaplib.IMAP4("127.0.0.1", port)
    client.login(user, "secret")
    client.append("INBOX", "", None, bytes(mail("a@example.test", OWNER, "setup", "hi")))
    imap = aioimaplib.IMAP4("127.0.0.1", port)
    await imap.wait_hello_from_server()
    await imap.login(user, "secret")
    await imap.select("INBOX")
    delays = []
    for n in range(rounds):
        idle = await imap.idle_start(timeout=30)
        await asyncio.sleep(random.uniform(0.1, 1.1))
        data = bytes(mail("a@example.test", OWNER, f"r{n}", "hi"))
        sent = time.perf_counter()
        await asyncio.to_thread(client.append, "INBOX", "", None, data)
        await imap.wait_server_push(timeout=30)
        delays.append(time.perf_counter() - sent)
        imap.idle_done()
        await idle
    await imap.logout()
    client.logout()
    return delays


def show(label: str, delays: list[float]) -> None:
    ms = sorted(d * 1000 for d in delays)
    print(
        f"{label}: median {statistics.median(ms):,.0f} ms, "
        f"p90 {ms[int(len(ms) * 0.9) - 1]:,.0f} ms, max {ms[-1]:,.0f} ms over {len(ms)} mails"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mails", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    server = start_dovecot()
    try:
        rate = await catch_up(server.port, server.new_user(), args.mails)
        print(f"catch-up: {args.mails} mails read at {rate:,.0f} mails/s", flush=True)
        show(
            "server alone, APPEND to IDLE push (bare aioimaplib)",
            await raw_idle(server.port, server.new_user(), args.rounds),
        )
        for idle in (True, False):
            delays = await arrival(server.port, server.new_user(), args.rounds, idle)
            show(f"channel, APPEND to event, {'IDLE' if idle else 'polling every 1 s'}", delays)
    finally:
        server.stop()


if __name__ == "__main__":
    asyncio.run(main())
