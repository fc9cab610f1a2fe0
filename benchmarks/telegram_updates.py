"""How fast the Telegram channel takes updates: python-telegram-bot long polling a fake
Bot API on 127.0.0.1, each update handled in order and its id written down (fsync)
before the next.

    .venv/bin/python benchmarks/telegram_updates.py [--updates 2000]

Two runs over the same updates (messages in the owner's Business chats): the channel
alone (a handler that does nothing), and the channel recording each message in a
SQLite store as the dispatcher does. Prints updates per second and the time per update.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.channels.telegram import TelegramChannel
from bot.channels.telegram.settings import TelegramSettings
from tests.support.fake_telegram import FakeBotApi
from twin_core.memory.store import Store
from twin_core.types import InboundEvent


async def run(count: int, record: bool) -> float:
    api = await FakeBotApi().start()
    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(f"sqlite:///{folder}/twin.db") if record else None
        done = asyncio.Event()
        seen = 0

        async def handle(event: InboundEvent) -> None:
            nonlocal seen
            if store is not None:
                await asyncio.to_thread(store.messages.record, event)
            seen += 1
            if seen == count:
                done.set()

        api.connect_business()
        for number in range(count - 1):
            api.business_message(200 + number % 50, "Contact", f"message {number}")
        config = TelegramSettings(token=api.token, api_url=api.url, poll_timeout_s=1)
        channel = TelegramChannel(config, Path(folder) / "telegram-state.json")
        started = time.perf_counter()
        await channel.start(handle)
        api.connect_business("biz-2")  # the last update: a connection, no event
        api.business_message(200, "Contact", "last", connection_id="biz-2")
        await asyncio.wait_for(done.wait(), 600)
        elapsed = time.perf_counter() - started
        await channel.stop()
        if store is not None:
            store.close()
    await api.stop()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--updates", type=int, default=2000)
    args = parser.parse_args()
    for label, record in (("channel alone", False), ("channel + recording", True)):
        elapsed = asyncio.run(run(args.updates, record))
        print(
            f"{label:<22} {args.updates} updates in {elapsed:.2f} s: "
            f"{args.updates / elapsed:,.0f} updates/s, {1000 * elapsed / args.updates:.2f} ms each"
        )


if __name__ == "__main__":
    main()
