"""How long the `refit_calibration` job takes on a large history, and where the time goes.

    .venv/bin/python benchmarks/calibration_refit.py [--contacts N] [--exchanges N]

A synthetic owner on SQLite: `--contacts` one-to-one conversations of `--exchanges`
exchanges each (the contact writes, the owner answers a minute later, one exchange an
hour); every text distinct (6-14 words drawn from a fixed vocabulary), so the embedder
sees as many texts as a real owner of that size would. The job runs through its
function, as a runner would; the phases are timed by running the service's parts
(`owner_pairs`, the embedding, the held-out drafts) once more on their own.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from twin_core.memory.embed import OnnxEmbedder
from twin_core.memory.store import Store
from twin_core.style import calibration
from twin_core.style.calibration import Calibrations
from twin_core.types import ChannelName, ChatId, ExternalId, HandleId, InboundEvent
from workers.jobs import JobContext, refit_calibration

VOCABULARY = (
    "the a we you they it this that dinner friday train late early coffee tomorrow "
    "tonight meeting project budget garden movie weekend sister brother mother "
    "father school work office beach mountain lake dog cat bike car bus flight "
    "hotel ticket book song game party birthday wedding doctor lunch breakfast rain "
    "sun cold warm happy tired busy free sorry thanks sure maybe never always soon "
    "later call text send bring buy cook clean fix move visit plan start finish "
    "forget remember"
)
WORDS = VOCABULARY.split()
T0 = datetime(2025, 1, 1, 8, 0, tzinfo=UTC)


def sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 14)))


def history(contacts: int, exchanges: int, seed: int = 7) -> list[InboundEvent]:
    rng = random.Random(seed)
    events: list[InboundEvent] = []
    for c in range(contacts):
        who = f"contact{c}"
        for e in range(exchanges):
            at = T0 + timedelta(hours=e * contacts + c)
            for n, (sender, mine) in enumerate(((who, False), ("owner", True))):
                events.append(
                    InboundEvent(
                        channel=ChannelName("telegram"),
                        external_id=ExternalId(f"{c}-{e}-{n}"),
                        chat_id=ChatId(who),
                        sender_id=HandleId(sender),
                        sender_name=sender.title(),
                        text=sentence(rng),
                        sent_at=at + timedelta(minutes=n),
                        from_owner=mine,
                    )
                )
    return events


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=50)
    parser.add_argument("--exchanges", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(f"sqlite:///{folder}/twin.db")
        events = history(args.contacts, args.exchanges)
        for i in range(0, len(events), 5000):
            store.messages.record_many(events[i : i + 5000])
        embedder = OnnxEmbedder()
        embedder.embed(["warming up"])
        calibrations = Calibrations(store, embedder)
        started = time.perf_counter()
        cpu = time.process_time()
        result = asyncio.run(refit_calibration({"twin": JobContext(calibrations=calibrations)}))
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        print(f"{len(events):,} messages, {args.contacts} contacts: {result}")
        print(f"job: {wall:.1f} s wall, {cpu:.1f} s CPU")

        # The phases, once more: a fresh embedder (no cache), and the held-out drafts
        # given the vectors already made.
        fresh = Calibrations(store, OnnxEmbedder())
        t = time.perf_counter()
        pairs = calibration.owner_pairs(store)
        t_pairs = time.perf_counter() - t
        texts = sorted({x for p in pairs for x in (p.their_text, p.reply)})
        t = time.perf_counter()
        step = calibration.EMBED_BATCH
        vectors = [fresh.embedder.embed(texts[i : i + step]) for i in range(0, len(texts), step)]
        made = dict(zip(texts, np.concatenate(vectors), strict=True))
        t_embed = time.perf_counter() - t

        def embed(some: list[str]) -> NDArray[np.float32]:
            return np.stack([made[x] for x in some])

        t = time.perf_counter()
        samples = calibration.held_out(embed, pairs)
        t_held = time.perf_counter() - t
        print(
            f"phases: reading {len(pairs):,} pairs {t_pairs:.1f} s; embedding "
            f"{len(texts):,} texts {t_embed:.1f} s; {len(samples):,} held-out drafts "
            f"{t_held:.1f} s (besides embedding)"
        )
        store.close()


if __name__ == "__main__":
    main()
