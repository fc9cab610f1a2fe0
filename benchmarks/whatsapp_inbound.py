"""WhatsApp: how fast events are normalized, and what the sending budget lets out.

    .venv/bin/python benchmarks/whatsapp_inbound.py [--events 20000] [--burst 100]

1. `parse_message` alone on a mix of WhatsApp messages (texts, quoted replies in groups,
   media with captions, reactions, edits): events per second.
2. The same events serialized and fed through neonize's own dispatcher
   (`client.event.execute`, the Go side's entry point, called from a thread as Go does)
   into `WhatsAppChannel.receive`, handed to a handler that only counts: events per
   second end to end through the adapter (no twin behind it).
3. The default sending budget on a fake clock: `--burst` approved replies to known
   chats at once, each retried as soon as it is held back: how many went out after
   1 minute, 10 minutes and 1 hour, and the typing and gap times they took.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from neonize.proto.waCommon.WACommon_pb2 import MessageKey
from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import (
    ContextInfo,
    ExtendedTextMessage,
    ImageMessage,
    ReactionMessage,
)
from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import Message as E2EMessage

from bot.channels.whatsapp import WhatsAppChannel, WhatsAppSettings
from bot.channels.whatsapp.budget import HeldBack
from bot.channels.whatsapp.normalize import Me, parse_message
from tests.support.whatsapp import (
    OWNER,
    OWNER_LID,
    FakeClock,
    WhatsAppClient,
    feed,
    message,
    text,
)
from twin_core.types import ChannelName, ChatId, InboundEvent, OutboundMessage

ME = Me(phone_jid=OWNER, lid=OWNER_LID, device=7)


def mixed_events(count: int) -> list[Any]:
    rng = random.Random(1)
    people = [f"3519{n:08d}@s.whatsapp.net" for n in range(50)]
    group = "120363025246125888@g.us"
    events: list[Any] = []
    for n in range(count):
        who = rng.choice(people)
        kind = n % 5
        if kind == 0:
            events.append(text("are we still on for friday? 🙂", chat=who, pushname="Ana"))
        elif kind == 1:
            content = E2EMessage(
                extendedTextMessage=ExtendedTextMessage(
                    text="@15550001111 who's in?",
                    contextInfo=ContextInfo(mentionedJID=[OWNER], stanzaID="3AQ"),
                )
            )
            events.append(message(content, chat=group, sender=who, group=True))
        elif kind == 2:
            content = E2EMessage(imageMessage=ImageMessage(caption="the view from here"))
            events.append(message(content, chat=who))
        elif kind == 3:
            key = MessageKey(ID="3AORIGINAL", remoteJID=who)
            events.append(
                message(E2EMessage(reactionMessage=ReactionMessage(key=key, text="❤")), chat=who)
            )
        else:
            events.append(text("on my way", chat=who, from_me=True))
    return events


def bench_parse(events: list[Any]) -> float:
    started = time.perf_counter()
    for event in events:
        parse_message(event, ME)
    return len(events) / (time.perf_counter() - started)


async def bench_dispatch(events: list[Any]) -> float:
    seen = 0
    done = asyncio.Event()

    async def count(event: InboundEvent) -> None:
        nonlocal seen
        seen += 1
        if seen == len(events):
            done.set()

    folder = Path(tempfile.mkdtemp())
    channel = WhatsAppChannel(
        WhatsAppSettings(),
        folder / "session.sqlite3",
        client_factory=WhatsAppClient,
        is_linked=lambda path: True,
    )
    await channel.start(count)
    started = time.perf_counter()
    for event in events:
        await feed(channel.client, event)
    await asyncio.wait_for(done.wait(), 120)
    rate = len(events) / (time.perf_counter() - started)
    await channel.stop()
    return rate


async def bench_budget(burst: int) -> dict[str, Any]:
    clock = FakeClock()
    folder = Path(tempfile.mkdtemp())
    channel = WhatsAppChannel(
        WhatsAppSettings(),
        folder / "session.sqlite3",
        client_factory=WhatsAppClient,
        is_linked=lambda path: True,
        clock=clock,
        rng=random.Random(2),
    )

    async def ignore(event: InboundEvent) -> None:
        return None

    await channel.start(ignore)
    chats = [f"3519{n:08d}@s.whatsapp.net" for n in range(burst)]
    channel.budget.known.add(chats)
    start = clock.now()
    sent_at: list[float] = []
    held = 0
    pending = list(chats)
    while pending:
        chat = pending[0]
        reply = "sounds good, see you there! " * 2
        try:
            await channel.send(OutboundMessage(ChannelName("whatsapp"), ChatId(chat), reply))
        except HeldBack:
            held += 1
            await clock.sleep(60)  # the owner approves it again a minute later
            continue
        sent_at.append(clock.now() - start)
        pending.pop(0)
    await channel.stop()
    return {
        "after 1 min": sum(t <= 60 for t in sent_at),
        "after 10 min": sum(t <= 600 for t in sent_at),
        "after 1 h": sum(t <= 3600 for t in sent_at),
        "all sent after": f"{sent_at[-1] / 60:.0f} min",
        "held back (retried)": held,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--burst", type=int, default=100)
    args = parser.parse_args()
    logging.getLogger("twin.whatsapp").setLevel(logging.ERROR)  # each hold is a warning
    events = mixed_events(args.events)
    print(f"parse_message: {bench_parse(events):,.0f} events/s ({args.events:,} events)")
    rate = asyncio.run(bench_dispatch(events))
    print(f"neonize dispatcher -> channel -> handler: {rate:,.0f} events/s")
    figures = asyncio.run(bench_budget(args.burst))
    defaults = WhatsAppSettings()
    print(
        f"budget (defaults: {defaults.per_minute}/min, {defaults.per_hour}/h, gap "
        f"{defaults.gap_s:.0f} s + jitter, typing {defaults.typing_min_s:.0f}-"
        f"{defaults.typing_max_s:.0f} s), {args.burst} replies approved at once:"
    )
    for key, value in figures.items():
        print(f"  {key}: {value}")


if __name__ == "__main__":
    main()
