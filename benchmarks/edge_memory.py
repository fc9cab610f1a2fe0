"""Where Qdrant Edge's memory and disk go, by configuration, without any embedding.

    .venv/bin/python benchmarks/edge_memory.py VARIANT POINTS [OPTIMIZE_EVERY]

VARIANT is a name made of flags: `base` (the index as `EdgeVectorIndex` built it
before issue 16), `nowal` (no write-ahead log: durable at `flush()`), `colddense` /
`coldsparse` (original vectors / sparse index placed `Memory.Cold`), `mapped` (nothing
of the immutable segments on the heap: int8 copies, sparse index and HNSW graph
`Memory.Cached`, original vectors, payload, payload indexes and id tracker
`Memory.Cold`), `nopayhnsw` (no per-value HNSW links for the payload indexes but
`contact_id`'s), `seg` (segments capped at `SEGKB` kilobytes, default 200000), `noopt`
(stop before the final optimize). With OPTIMIZE_EVERY, `optimize()` runs after every
that many points (an index kept optimized as it grows, instead of once at the end).
Points are random unit 384-d vectors with 25 random sparse terms and the payload recall
writes. Printed per phase: seconds, resident memory (anonymous / file-backed) at its end
and its peak; then query p50 and p95 (unscoped, and scoped to one of 500 contacts) and
the disk used (allocated blocks, not apparent sizes: the WAL's and storage's files are
preallocated).
"""

from __future__ import annotations

import collections
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import qdrant_edge as q


def memory() -> dict[str, int]:
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile"):
            out[key] = int(value.split()[0]) // 1024
    return out


def main() -> int:
    variant, points = sys.argv[1], int(sys.argv[2])
    every = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    peak = {"VmRSS": 0, "RssAnon": 0}
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.1):
            now = memory()
            for key in peak:
                peak[key] = max(peak[key], now[key])

    threading.Thread(target=sample, daemon=True).start()
    folder = Path(tempfile.mkdtemp())
    dense: dict[str, Any] = {
        "size": 384,
        "distance": q.Distance.Cosine,
        "datatype": q.VectorStorageDatatype.Float16,
    }
    quantization: dict[str, Any] = {"type": q.ScalarType.Int8, "always_ram": True}
    sparse: dict[str, Any] = {"modifier": q.Modifier.Idf}
    config: dict[str, Any] = {}
    field_memory: dict[str, Any] = {}
    if "mapped" in variant:
        dense["memory"] = q.Memory.Cold
        quantization = {"type": q.ScalarType.Int8, "memory": q.Memory.Cached}
        sparse["memory"] = q.Memory.Cached
        config["hnsw_config"] = q.HnswIndexConfig(
            m=16, ef_construct=100, full_scan_threshold=10_000, memory=q.Memory.Cached
        )
        config["payload_memory"] = q.Memory.Cold
        config["id_tracker_memory"] = q.Memory.Cold
        field_memory["memory"] = q.Memory.Cold
    graph = "nopayhnsw" not in variant
    if "colddense" in variant:
        dense["memory"] = q.Memory.Cold
    if "coldsparse" in variant:
        sparse["memory"] = q.Memory.Cold
    if "nowal" in variant:
        config["wal_enabled"] = False
    if "seg" in variant:
        size = int(os.environ.get("SEGKB", "200000"))
        config["optimizers"] = q.EdgeOptimizersConfig(max_segment_size=size)
    dense["quantization_config"] = q.ScalarQuantizationConfig(**quantization)
    shard = q.EdgeShard.create(
        str(folder / "shard"),
        q.EdgeConfig(
            vectors={"dense": q.EdgeVectorParams(**dense)},
            sparse_vectors={"sparse": q.EdgeSparseVectorParams(**sparse)},
            **config,
        ),
    )
    for field, schema in (
        ("contact_id", q.IntegerIndexParams(lookup=True, range=False, **field_memory)),
        (
            "conversation_id",
            q.IntegerIndexParams(lookup=True, range=False, enable_hnsw=graph, **field_memory),
        ),
        (
            "sent_at",
            q.IntegerIndexParams(
                lookup=False, range=True, is_principal=True, enable_hnsw=graph, **field_memory
            ),
        ),
        ("channel", q.KeywordIndexParams(enable_hnsw=graph, **field_memory)),
    ):
        shard.update(q.UpdateOperation.create_field_index(field, schema))
    rng = np.random.default_rng(1)
    started = time.time()
    batch = 5000
    for start in range(0, points, batch):
        vectors = rng.standard_normal((batch, 384)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        chunk = []
        for i in range(batch):
            pid = start + i + 1
            terms = sorted(set(rng.integers(0, 30000, 25).tolist()))
            chunk.append(
                q.Point(
                    pid,
                    {
                        "dense": vectors[i].tolist(),
                        "sparse": q.SparseVector(terms, [1.0] * len(terms)),
                    },
                    {
                        "conversation_id": pid % 500,
                        "channel": "synthetic",
                        "sent_at": 1_600_000_000 + pid,
                        "contact_id": pid % 500,
                    },
                )
            )
        shard.update(q.UpdateOperation.upsert_points(chunk))
        if every and (start + batch) % every == 0:
            shard.optimize()
    upserted = time.time()
    print(variant, "upsert", round(upserted - started, 1), "s", memory(), "peak", peak)
    peak.update(VmRSS=0, RssAnon=0)
    if "noopt" not in variant:
        shard.optimize()
        print(variant, "optimize", round(time.time() - upserted, 1), "s", memory(), "peak", peak)
        query = rng.standard_normal(384).astype(np.float32).tolist()
        scoped = q.Filter(must=[q.FieldCondition(key="contact_id", match=q.MatchAny([7]))])
        for name, flt in (("unscoped", None), ("scoped", scoped)):
            times = []
            for _ in range(100):
                began = time.perf_counter()
                shard.query(
                    q.QueryRequest(
                        limit=10,
                        query=q.Query.Nearest(query, "dense"),
                        filter=flt,
                        with_payload=False,
                        with_vector=False,
                    )
                )
                times.append(time.perf_counter() - began)
            times.sort()
            p50, p95 = 1000 * times[50], 1000 * times[95]
            print(variant, name, f"query p50 {p50:.2f} ms, p95 {p95:.2f} ms")
    done.set()
    sizes: collections.Counter[str] = collections.Counter()
    for path in folder.rglob("*"):
        if path.is_file():
            parts = path.relative_to(folder).parts
            key = "/".join(parts[:2] + parts[3:4]) if len(parts) > 3 else "/".join(parts)
            sizes[key] += path.stat().st_blocks * 512
    print(variant, "disk MB", sum(sizes.values()) // 2**20)
    for key, size in sizes.most_common(8):
        print(f"   {key} {size // 2**20} MB")
    shard.close()
    shutil.rmtree(folder)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
