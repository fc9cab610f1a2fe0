"""Embedding throughput of the shipped ONNX model (or any `make_embedder` spec).

    .venv/bin/python benchmarks/embed_throughput.py [--spec onnx] [--threads N]

Three workloads: short distinct chat messages, a chat with repeats (two thirds of the
messages are repeats like "ok" and "haha"), and longer turns (LoCoMo's, when
`../shared/data/locomo/locomo10.json` is there, else made-up sentences). Prints texts
per second for each, and the BM25 sparse encoder's rate for comparison.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from twin_core.memory.embed import Embedder, OnnxEmbedder, make_embedder
from twin_core.memory.index import Bm25Encoder

LOCOMO = Path(__file__).resolve().parents[2] / "shared" / "data" / "locomo" / "locomo10.json"
CHAT = (
    "ok",
    "haha",
    "lol ok see you at 7",
    "did you get the tickets?",
    "I'm running late, sorry!!",
    "sure thing",
    "what time is dinner tomorrow?",
    "love you",
    "can you send me the address",
    "omg yes",
)


def long_turns(count: int) -> list[str]:
    if LOCOMO.is_file():
        data = json.loads(LOCOMO.read_text())
        turns = [
            turn["text"]
            for sample in data
            for key, session in sample["conversation"].items()
            if key.startswith("session_") and isinstance(session, list)
            for turn in session
        ]
        return turns[:count]
    return [
        f"Yesterday {i} we talked for an hour about the trip to Lisbon and the new job offer"
        for i in range(count)
    ]


def rate(run: Callable[[Sequence[str]], object], texts: list[str]) -> float:
    started = time.perf_counter()
    run(texts)
    return len(texts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spec", default="onnx")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--count", type=int, default=4000)
    args = parser.parse_args()

    def fresh() -> Embedder:
        if args.spec == "onnx":
            return OnnxEmbedder(threads=args.threads, cache_size=0)
        return make_embedder(args.spec)

    embedder = fresh()
    print(f"{embedder.name}, threads {getattr(embedder, 'threads', '-')}")
    distinct = [f"{CHAT[i % len(CHAT)]} {i}" for i in range(args.count)]
    # Two thirds repeats ("ok", "haha"), one third distinct, as in a lively chat.
    real = [CHAT[i % len(CHAT)] if i % 3 else distinct[i] for i in range(args.count)]
    turns = long_turns(min(args.count, 2000))
    embedder.embed(distinct[:200])  # warm up
    print(f"short distinct messages: {rate(embedder.embed, distinct):7.0f} /s")
    print(f"chat with repeats:       {rate(fresh().embed, real):7.0f} /s")
    print(f"longer turns:            {rate(embedder.embed, turns):7.0f} /s ({len(turns)} turns)")
    sparse = Bm25Encoder()
    print(f"BM25 sparse encoding:    {rate(sparse.encode_documents, turns):7.0f} /s")


if __name__ == "__main__":
    main()
