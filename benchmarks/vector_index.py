"""Qdrant Edge as the twin uses it: dense + BM25 sparse vectors with payload, at scale.

    .venv/bin/python benchmarks/vector_index.py [--points 100000] [--contacts 500]
        [--sparse bm25-words]

Synthetic messages (random unit vectors stand in for embeddings, which do not change
the engine's work; sparse vectors come from `Bm25Encoder` over chat-like text, or from
the encoder `--sparse` names, see `sparse_encoders.py`) are upserted in batches of
1,000, then queried before and after `optimize()`: dense, sparse, both in one round trip
(`query_hybrid`), engine-side fusion, each unscoped and scoped to one contact (the
queries recall does not make are in `index_queries.py`). Prints upsert throughput,
optimize and reload time, on-disk size and query latency p50/p95 in milliseconds.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from index_queries import query_dense, query_fused, query_sparse
from sparse_encoders import make_sparse_encoder

from twin_core.memory.index import (
    EdgeVectorIndex,
    IndexedMessage,
    IndexSpec,
    Scope,
)

COMMON = (
    "ok haha lol yes no maybe tonight tomorrow dinner lunch coffee movie trip flight hotel "
    "work meeting report deadline boss project dog cat puppy vet doctor dentist gym run "
    "marathon birthday party gift sister brother mom dad grandma kids school exam book "
    "concert tickets beach weekend holiday rain sun car train bus late sorry thanks love "
    "miss call text later soon now home office store groceries pizza sushi wine beer"
)


def vocabulary(size: int) -> tuple[list[str], np.ndarray]:
    """Chat words first, then made-up rarer ones, drawn with Zipf's law as real text is."""
    words = COMMON.split() + [f"word{i}" for i in range(size)]
    weights = 1.0 / np.arange(1, len(words) + 1)
    return words, weights / weights.sum()


def folder_size(path: Path) -> tuple[int, int]:
    """Bytes allocated on disk (what `du` shows) and apparent size (which counts the
    write-ahead log's and mmap files' preallocated, still empty space)."""
    files = [p.stat() for p in path.rglob("*") if p.is_file()]
    return sum(f.st_blocks * 512 for f in files), sum(f.st_size for f in files)


def latency(run: Callable[[int], object], count: int) -> tuple[float, float]:
    times = []
    for i in range(count):
        started = time.perf_counter()
        run(i)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--contacts", type=int, default=500)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--sparse",
        default="bm25-words",
        help="bm25-words (Bm25Encoder), or bm25 / bm25:LANGUAGE for Qdrant Edge's BM25",
    )
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    pick = random.Random(0)
    dimension = 384
    sparse = make_sparse_encoder(args.sparse)
    spec = IndexSpec("synthetic", dimension, sparse.name)
    n = args.points

    started = time.perf_counter()
    dense = rng.standard_normal((n, dimension), dtype=np.float32)
    dense /= np.linalg.norm(dense, axis=1, keepdims=True)
    words, weights = vocabulary(30_000)
    lengths = rng.integers(1, 15, size=n)
    drawn = rng.choice(len(words), size=int(lengths.sum()), p=weights)
    texts, at = [], 0
    for length in lengths:
        texts.append(" ".join(words[j] for j in drawn[at : at + length]))
        at += length
    sparse_vectors = sparse.encode_documents(texts)
    prepared = time.perf_counter() - started
    t0 = 1_600_000_000
    messages = [
        IndexedMessage(
            message_id=i + 1,
            dense=dense[i],
            sparse=sparse_vectors[i],
            conversation_id=i % (args.contacts * 2),
            channel=("telegram", "whatsapp", "slack")[i % 3],
            sent_at=t0 + i * 60,
            contact_id=i % args.contacts,
        )
        for i in range(n)
    ]
    print(f"{n} messages prepared in {prepared:.1f} s (sparse encoding {n / prepared:.0f}/s)")

    root = Path(tempfile.mkdtemp(prefix="twin-bench-"))
    try:
        index = EdgeVectorIndex.open(root / "vectors", spec, create=True)
        started = time.perf_counter()
        for start in range(0, n, 1000):
            index.upsert(messages[start : start + 1000])
        upsert = time.perf_counter() - started
        print(f"upsert: {upsert:.1f} s, {n / upsert:.0f} messages/s")

        queries = rng.standard_normal((args.queries, dimension), dtype=np.float32)
        queries /= np.linalg.norm(queries, axis=1, keepdims=True)
        terms = [
            sparse.encode_query(" ".join(words[j] for j in rng.choice(len(words), 3, p=weights)))
            for _ in queries
        ]
        contact = [Scope.contact(pick.randrange(args.contacts)) for _ in queries]

        def measure(label: str, count: int) -> None:
            cases: dict[str, Callable[[int], object]] = {
                "dense": lambda i: query_dense(index, queries[i], limit=10),
                "dense, one contact": lambda i: query_dense(
                    index, queries[i], scope=contact[i], limit=10
                ),
                "sparse": lambda i: query_sparse(index, terms[i], limit=10),
                "sparse, one contact": lambda i: query_sparse(
                    index, terms[i], scope=contact[i], limit=10
                ),
                "hybrid (both lists)": lambda i: index.query_hybrid(queries[i], terms[i], limit=20),
                "hybrid, one contact": lambda i: index.query_hybrid(
                    queries[i], terms[i], scope=contact[i], limit=20
                ),
                "fused rrf": lambda i: query_fused(index, queries[i], terms[i], limit=10),
                "fused rrf, one contact": lambda i: query_fused(
                    index, queries[i], terms[i], scope=contact[i], limit=10
                ),
            }
            print(f"queries {label} (p50 / p95 ms, top 10-20):")
            for name, run in cases.items():
                p50, p95 = latency(run, count)
                print(f"  {name:24} {p50:7.2f} / {p95:7.2f}")

        measure("before optimize", min(20, args.queries))
        started = time.perf_counter()
        index.optimize()
        print(f"optimize: {time.perf_counter() - started:.1f} s")
        measure("after optimize", args.queries)

        single = messages[:1]
        p50, p95 = latency(lambda i: index.upsert(single), 100)
        print(f"upsert of one message (live): {p50:.2f} / {p95:.2f} ms")
        index.close()
        allocated, apparent = folder_size(root)
        print(f"on disk: {allocated / 1e6:.0f} MB ({apparent / 1e6:.0f} MB apparent)")
        started = time.perf_counter()
        index = EdgeVectorIndex.open(root / "vectors", spec)
        print(f"reopen: {time.perf_counter() - started:.2f} s, count {index.count()}")
        index.close()
    finally:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
