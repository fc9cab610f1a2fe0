"""Recall at scale: synthetic chat history across many contacts, indexed and queried.

    .venv/bin/python benchmarks/recall_scale.py [--messages 1000000] [--contacts 500]

Messages are made up from the shipped tokenizer's English vocabulary: Zipf-distributed
words, 2 plus an exponential of mean 6 words per message (at most 40), a quarter of
them short replies ("ok", "haha", "see you"); in sittings of a few minutes spread over
five years; one conversation per contact, owner and contact taking turns. They are
stored with the importers' fast path (`MessageRepository.record_many`), conversation by
conversation as an import does, then indexed by `Recall.catch_up()` with the default
embedder, then the index is optimized. Printed: for each phase (sql, index, optimize,
query) its wall time, its peak resident and peak anonymous memory (sampled every 100 ms)
and the anonymous / file-backed split at its end; SQL insert and indexing throughput,
sizes on disk, and p50/p95 of `recall()` (limit 10, context 1)
scoped to a random contact, unscoped, and unscoped naming a day ("... on 14 March 2022":
recall then also searches that day's messages on their own).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from twin_core.memory.embed import DEFAULT_MODEL_DIR, make_embedder  # noqa: E402
from twin_core.memory.recall import Recall  # noqa: E402
from twin_core.memory.store import Store  # noqa: E402
from twin_core.types import ChannelName, ChatId, ExternalId, HandleId, InboundEvent  # noqa: E402

SHORT = (  # noqa: SIM905
    "ok|okay|haha|lol|yes|no|sure|thanks|thank you|see you soon|on my way|good night|"
    "sounds good|love you|omg|wow|nice|cool|great|yep|nope|maybe later|call me"
).split("|")
START = datetime(2020, 1, 1, tzinfo=UTC)


def vocabulary() -> list[str]:
    tokenizer = json.loads((DEFAULT_MODEL_DIR / "tokenizer.json").read_text())
    words = [w for w in tokenizer["model"]["vocab"] if w.isascii() and w.isalpha() and len(w) > 2]
    return words[:20_000]


class Chatter:
    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.words = vocabulary()
        ranks = np.arange(1, len(self.words) + 1)
        weights = 1.0 / ranks**1.05
        self.cumulative = np.cumsum(weights / weights.sum())

    def sample_words(self, n: int) -> list[str]:
        picks = np.searchsorted(self.cumulative, [self.random.random() for _ in range(n)])
        return [self.words[min(int(i), len(self.words) - 1)] for i in picks]

    def message(self) -> str:
        if self.random.random() < 0.25:
            return self.random.choice(SHORT)
        # Chat messages are short: mostly a handful of words, a few long ones.
        length = min(40, 2 + int(self.random.expovariate(1 / 6)))
        return " ".join(self.sample_words(length))

    def query(self) -> str:
        return " ".join(self.sample_words(self.random.randint(2, 5)))


def events(chatter: Chatter, messages: int, contacts: int) -> Iterator[InboundEvent]:
    per_contact = messages // contacts
    rnd = chatter.random
    for c in range(contacts):
        name = f"Contact {c:04d}"
        when = START + timedelta(minutes=rnd.randint(0, 60 * 24 * 30))
        count = per_contact + (1 if c < messages % contacts else 0)
        for k in range(count):
            # Sittings: a few minutes between turns, days between sittings.
            when += timedelta(
                days=rnd.expovariate(1 / 3) if rnd.random() < 0.1 else 0,
                minutes=rnd.expovariate(1 / 2),
            )
            mine = k % 2 == 1
            yield InboundEvent(
                channel=ChannelName("synthetic"),
                external_id=ExternalId(f"{c}:{k}"),
                chat_id=ChatId(f"chat-{c}"),
                sender_id=HandleId("owner" if mine else f"contact-{c}"),
                sender_name="Owner" if mine else name,
                text=chatter.message(),
                sent_at=when,
                from_owner=mine,
            )


def memory_now() -> dict[str, int]:
    """This process's resident memory in bytes: all of it, anonymous (heap, the engine's
    in-RAM structures) and file-backed (memory-mapped files the kernel can drop)."""
    fields = {"VmRSS": "rss", "RssAnon": "anon", "RssFile": "file", "RssShmem": "shmem"}
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in fields:
            out[fields[key]] = int(value.split()[0]) * 1024
    return out


class Phase:
    """Wall time and memory of one phase: the peak of resident and of anonymous memory
    while it ran (sampled every 100 ms), and the split at its end."""

    def __init__(self, name: str, out: dict[str, Any]) -> None:
        self.name, self.out = name, out
        self.peak = {"rss": 0, "anon": 0}
        self._done = threading.Event()

    def _sample(self) -> None:
        while not self._done.wait(0.1):
            now = memory_now()
            for key in self.peak:
                self.peak[key] = max(self.peak[key], now.get(key, 0))

    def __enter__(self) -> Phase:
        self.started = time.perf_counter()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()
        seconds = time.perf_counter() - self.started
        end = memory_now()
        for key in self.peak:
            self.peak[key] = max(self.peak[key], end.get(key, 0))
        mb = 1024 * 1024
        self.out.setdefault("phases", {})[self.name] = {
            "seconds": seconds,
            "peak_rss_mb": self.peak["rss"] / mb,
            "peak_anon_mb": self.peak["anon"] / mb,
            "end_anon_mb": end.get("anon", 0) / mb,
            "end_file_mb": end.get("file", 0) / mb,
        }
        print(
            f"  [{self.name}] {seconds:.1f} s; peak resident {self.peak['rss'] / mb:,.0f} MB "
            f"(anonymous {self.peak['anon'] / mb:,.0f} MB); at the end anonymous "
            f"{end.get('anon', 0) / mb:,.0f} MB, file-backed {end.get('file', 0) / mb:,.0f} MB",
            flush=True,
        )


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def percentiles(values: list[float]) -> tuple[float, float]:
    ms = np.array(values) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 95))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--contacts", type=int, default=500)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--embedder", default="onnx")
    parser.add_argument("--folder", type=Path, help="keep the data here (default: a temp dir)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    folder = args.folder or Path(tempfile.mkdtemp(prefix="recall-scale-"))
    folder.mkdir(parents=True, exist_ok=True)
    chatter = Chatter(args.seed)
    store = Store.open(f"sqlite:///{folder / 'twin.db'}")
    embedder = make_embedder(args.embedder)
    out: dict[str, Any] = {"messages": args.messages, "contacts": args.contacts}
    print(f"{args.messages:,} messages, {args.contacts} contacts, embedder {embedder.name}")

    started = time.perf_counter()
    batch: list[InboundEvent] = []
    with Phase("sql", out):
        for event in events(chatter, args.messages, args.contacts):
            batch.append(event)
            if len(batch) == 5000:
                store.messages.record_many(batch)
                batch = []
        if batch:
            store.messages.record_many(batch)
    seconds = time.perf_counter() - started
    out["sql_insert_per_s"] = args.messages / seconds
    print(f"stored in SQL: {seconds:.1f} s ({args.messages / seconds:,.0f} msg/s)")

    recall = Recall.open(store, folder / "index", embedder, owner_name="Owner")
    started = time.perf_counter()
    last = [started]

    def progress(done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last[0] > 30:
            last[0] = now
            rate = done / (now - started)
            print(f"  indexed {done:,}/{total:,} ({rate:,.0f} msg/s)", flush=True)

    with Phase("index", out):
        indexed = recall.catch_up(progress, batch=5000)
    seconds = time.perf_counter() - started
    out["index_per_s"] = indexed / seconds
    print(f"indexed: {seconds:.1f} s ({indexed / seconds:,.0f} msg/s)")
    assert recall.index is not None
    started = time.perf_counter()
    with Phase("optimize", out):
        recall.index.optimize()
    out["optimize_s"] = time.perf_counter() - started
    print(f"optimized: {out['optimize_s']:.1f} s")

    contact_ids = [c.id for c in store.contacts.all() if c.id is not None]
    timings: dict[str, list[float]] = {"scoped": [], "unscoped": [], "dated": []}
    with store.engine.connect() as connection:
        last = connection.execute(sa.text("SELECT MAX(sent_at) FROM message")).scalar()
    span_days = max(1, (datetime.fromisoformat(str(last)) - START.replace(tzinfo=None)).days)
    for _ in range(5):  # warm up
        recall.recall(chatter.query(), limit=10)
    query_phase = Phase("query", out).__enter__()
    for _ in range(args.queries):
        query = chatter.query()
        began = time.perf_counter()
        recall.recall(query, contact_id=chatter.random.choice(contact_ids), limit=10)
        timings["scoped"].append(time.perf_counter() - began)
        began = time.perf_counter()
        recall.recall(query, limit=10)
        timings["unscoped"].append(time.perf_counter() - began)
        day = START + timedelta(days=chatter.random.randint(0, span_days))
        began = time.perf_counter()
        recall.recall(f"{query} on {day:%d %B %Y}", limit=10)
        timings["dated"].append(time.perf_counter() - began)
    query_phase.__exit__()
    for kind, values in timings.items():
        p50, p95 = percentiles(values)
        out[f"{kind}_p50_ms"], out[f"{kind}_p95_ms"] = p50, p95
        print(f"{kind} query: p50 {p50:.1f} ms, p95 {p95:.1f} ms ({len(values)} queries)")
    recall.close()
    store.close()
    out["index_bytes"] = folder_size(folder / "index")
    out["sql_bytes"] = (folder / "twin.db").stat().st_size
    out["peak_rss_mb"] = max(p["peak_rss_mb"] for p in out["phases"].values())
    print(
        f"on disk: index {out['index_bytes'] / 1e6:,.0f} MB, "
        f"SQLite {out['sql_bytes'] / 1e6:,.0f} MB; "
        f"peak resident memory {out['peak_rss_mb']:,.0f} MB"
    )
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    if args.folder is None:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
