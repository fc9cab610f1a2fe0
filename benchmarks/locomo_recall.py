"""Evidence recall on LoCoMo (or any file in its layout), through the twin's real path.

    .venv/bin/python benchmarks/locomo_recall.py [--data FILE] [--embedder SPEC]

Each conversation goes into a fresh data folder (SQLite store and vector index) as
`InboundEvent`s recorded by `Memory.record_many` and indexed by `Memory.index`,
speaker_a as the owner, each turn
timed at its session's date plus 30 seconds per turn. An image a turn shares is kept as
"[shared a photo: CAPTION]" after its text (`--no-captions` drops it). Every question
of categories 1-4 (category 5 is adversarial: its answers are not in the conversation)
is asked through `Recall.recall()`, unscoped, three ways: hybrid (what the twin uses),
BM25 alone and dense alone.

recall@k of a question = (its evidence turns among the first k messages returned) /
(its evidence turns); the figure is the mean over questions. Only the returned
message counts, not the neighbouring turns shown with it (the column R@10+ctx counts
those too, for the first 10 hits). Evidence references are
read leniently: `D8:6; D9:17` and `D9:1 D4:4` are several turns, `D:11:26` is D11:26,
`D30:05` is D30:5; a reference to a turn that does not exist is dropped, and a question
left with no evidence is not asked (both are counted in the output).

Latency is the wall time of one `recall()` call (embedding the question, both index
queries, fusion, fetching the hits and their context from SQL), limit 20, context 1.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import json
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from twin_core.memory.embed import Embedder, make_embedder  # noqa: E402
from twin_core.memory.recall import Mode, Tuning  # noqa: E402
from twin_core.memory.service import Memory  # noqa: E402
from twin_core.memory.store import Store  # noqa: E402
from twin_core.types import ChannelName, ChatId, ExternalId, HandleId, InboundEvent  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data" / "locomo" / "locomo10.json"
KS = (1, 5, 10, 20)
CONTEXT_KEY = 0
"""Where `Result.found` keeps recall@10 counting the turns shown around each hit."""
MODES: tuple[Mode, ...] = ("hybrid", "words", "meaning")
LABELS = {"hybrid": "hybrid", "words": "BM25 alone", "meaning": "dense alone"}
CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}
SESSION_KEY = re.compile(r"session_(\d+)")
EVIDENCE = re.compile(r"D:?(\d+):0*(\d+)")


@dataclass
class Question:
    text: str
    category: int
    evidence: list[str]


@dataclass
class Conversation:
    number: int
    sample_id: str
    owner: str
    events: list[InboundEvent]
    questions: list[Question]
    dropped_refs: int = 0
    repaired_refs: int = 0
    dropped_questions: int = 0
    undated_sessions: int = 0


@dataclass
class Result:
    conversation: int
    category: int
    mode: str
    found: dict[int, float]
    seconds: float


@dataclass
class Tally:
    results: list[Result] = field(default_factory=list)


DATE_LAYOUTS = (
    "%I:%M %p on %d %B %Y",
    "%I:%M%p on %d %B %Y",
    "%H:%M on %d %B %Y",
    "%I:%M %p on %B %d %Y",
    "%d %B %Y %I:%M %p",
    "%B %d %Y %I:%M %p",
    "%d %B %Y",
    "%B %d %Y",
    "%d %b %Y",
    "%b %d %Y",
)


def parse_when(raw: str) -> datetime | None:
    """A session's date_time, read as UTC: LoCoMo's '1:56 pm on 8 May, 2023', a few
    other spellings of it, or ISO 8601. None when it cannot be read."""
    text = " ".join(str(raw).replace(",", " ").split())
    for layout in DATE_LAYOUTS:
        try:
            return datetime.strptime(text, layout).replace(tzinfo=UTC)
        except ValueError:
            continue
    try:
        moment = datetime.fromisoformat(str(raw).strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def load(path: Path, *, captions: bool = True) -> list[Conversation]:
    raw: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    conversations = []
    for number, sample in enumerate(raw, start=1):
        talk = sample["conversation"]
        owner, other = talk["speaker_a"], talk["speaker_b"]
        sample_id = str(sample.get("sample_id", number))
        sessions = sorted(
            (int(match.group(1)), key)
            for key in talk
            if (match := SESSION_KEY.fullmatch(key)) and isinstance(talk[key], list)
        )
        events: list[InboundEvent] = []
        turn_ids: set[str] = set()
        undated = 0
        previous = datetime(2000, 1, 1, tzinfo=UTC)
        for session, key in sessions:
            found = parse_when(talk.get(f"session_{session}_date_time", ""))
            if found is None:
                # Unreadable or missing: a day after the session before, so turns keep
                # their order; counted in the output.
                undated += 1
                found = previous + timedelta(days=1)
            start = previous = found
            for k, turn in enumerate(talk[key]):
                text = str(turn.get("text") or "")
                if captions and turn.get("blip_caption"):
                    text = f"{text} [shared a photo: {turn['blip_caption']}]"
                mine = turn["speaker"] == owner
                turn_id = str(turn["dia_id"])
                turn_ids.add(turn_id)
                events.append(
                    InboundEvent(
                        channel=ChannelName("locomo"),
                        external_id=ExternalId(f"{sample_id}:{turn_id}"),
                        chat_id=ChatId(sample_id),
                        sender_id=HandleId("owner" if mine else turn["speaker"]),
                        sender_name=turn["speaker"],
                        text=text,
                        sent_at=start + timedelta(seconds=30 * k),
                        from_owner=mine,
                        chat_title=f"{owner} and {other}",
                    )
                )
        conversation = Conversation(number, sample_id, owner, events, [])
        conversation.undated_sessions = undated
        for qa in sample.get("qa", []):
            try:
                category = int(qa.get("category", 0))
            except (TypeError, ValueError):
                continue
            if category not in CATEGORIES:
                continue
            evidence: list[str] = []
            refs = qa.get("evidence") or []
            for ref in [refs] if isinstance(refs, str) else refs:
                parts = [p for p in re.split(r"[;,\s]+", str(ref)) if p]
                if len(parts) > 1:
                    conversation.repaired_refs += 1
                for part in parts:
                    match = EVIDENCE.fullmatch(part)
                    turn_id = f"D{int(match.group(1))}:{int(match.group(2))}" if match else ""
                    if turn_id in turn_ids:
                        if turn_id != part:
                            conversation.repaired_refs += 1
                        evidence.append(turn_id)
                    else:
                        conversation.dropped_refs += 1
            evidence = list(dict.fromkeys(evidence))
            if evidence:
                conversation.questions.append(Question(str(qa["question"]), category, evidence))
            else:
                conversation.dropped_questions += 1
        conversations.append(conversation)
    return conversations


def run_conversation(
    conversation: Conversation,
    embedder: Embedder,
    folder: Path,
    modes: Sequence[Mode],
    tuning: Tuning,
) -> tuple[list[Result], float]:
    store = Store.open(f"sqlite:///{folder / 'twin.db'}")
    memory = Memory.open(
        store, folder / "index", embedder=embedder, owner_name=conversation.owner, tuning=tuning
    )
    started = time.perf_counter()
    memory.record_many(conversation.events)
    memory.index()
    indexing = time.perf_counter() - started
    prefix = f"{conversation.sample_id}:"
    results = []
    for question in conversation.questions:
        wanted = set(question.evidence)
        for mode in modes:
            began = time.perf_counter()
            hits = memory.recall_index.recall(question.text, limit=max(KS), context=1, mode=mode)
            seconds = time.perf_counter() - began
            returned = [h.message.external_id.removeprefix(prefix) for h in hits]
            found = {k: len(wanted & set(returned[:k])) / len(wanted) for k in KS}
            shown = {m.external_id.removeprefix(prefix) for h in hits[:10] for m in h.context}
            found[CONTEXT_KEY] = len(wanted & shown) / len(wanted)
            results.append(Result(conversation.number, question.category, mode, found, seconds))
    memory.close()
    store.close()
    return results, indexing


def figures(results: list[Result]) -> dict[str, Any]:
    out: dict[str, Any] = {"questions": len(results)}
    if not results:
        return out
    for k in KS:
        out[f"recall@{k}"] = statistics.fmean(r.found[k] for r in results)
    out["recall@10 with context"] = statistics.fmean(r.found[CONTEXT_KEY] for r in results)
    for category, name in CATEGORIES.items():
        chosen = [r for r in results if r.category == category]
        if chosen:
            out[f"recall@10 {name}"] = statistics.fmean(r.found[10] for r in chosen)
    times = np.array([r.seconds for r in results]) * 1000
    out["p50 ms"] = float(np.percentile(times, 50))
    out["p95 ms"] = float(np.percentile(times, 95))
    return out


def report(title: str, results: list[Result], modes: Sequence[Mode]) -> dict[str, Any]:
    print(f"\n== {title} ==")
    header = f"{'':12} {'n':>5} " + " ".join(f"{'R@' + str(k):>6}" for k in KS)
    header += " " + " ".join(f"{name[:11]:>11}" for name in CATEGORIES.values())
    header += f" {'R@10+ctx':>8} {'p50 ms':>7} {'p95 ms':>7}"
    print(header)
    section = {}
    for mode in modes:
        chosen = [r for r in results if r.mode == mode]
        row = figures(chosen)
        section[mode] = row
        if not chosen:
            continue
        line = f"{LABELS[mode]:12} {row['questions']:>5} " + " ".join(
            f"{row[f'recall@{k}']:>6.3f}" for k in KS
        )
        line += " " + " ".join(
            f"{row.get(f'recall@10 {name}', float('nan')):>11.3f}" for name in CATEGORIES.values()
        )
        line += f" {row['recall@10 with context']:>8.3f}"
        line += f" {row['p50 ms']:>7.1f} {row['p95 ms']:>7.1f}"
        print(line)
    return section


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--embedder", default="onnx", help="make_embedder spec (default onnx)")
    parser.add_argument("--no-captions", action="store_true", help="drop shared-photo captions")
    parser.add_argument("--only", default="", help="conversation numbers, e.g. 1-5 or 1,3")
    parser.add_argument("--modes", default="hybrid,words,meaning")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override a recall Tuning field, e.g. --set sparse_weight=0.6",
    )
    args = parser.parse_args(argv)
    overrides = {}
    for item in args.set:
        key, _, value = item.partition("=")
        overrides[key] = ast.literal_eval(value)
    tuning = dataclasses.replace(Tuning(), **overrides)
    if not args.data.is_file():
        print(f"no LoCoMo file at {args.data}; pass --data FILE", file=sys.stderr)
        return 2
    modes: list[Mode] = [m for m in MODES if m in args.modes.split(",")]
    try:
        conversations = load(args.data, captions=not args.no_captions)
    except (KeyError, TypeError, AttributeError, json.JSONDecodeError) as exc:
        print(
            f"{args.data} is not in LoCoMo's layout (a list of samples, each with a "
            f"'conversation' of speaker_a, speaker_b, session_N lists of turns with "
            f"speaker, dia_id and text, and a 'qa' list): {exc!r}",
            file=sys.stderr,
        )
        return 2
    if args.only:
        wanted: set[int] = set()
        for part in args.only.split(","):
            low, _, high = part.partition("-")
            wanted.update(range(int(low), int(high or low) + 1))
        conversations = [c for c in conversations if c.number in wanted]
    embedder = make_embedder(args.embedder)
    print(f"data {args.data} ({len(conversations)} conversations), embedder {embedder.name}")
    if overrides:
        print(f"tuning overrides: {overrides}")
    print(
        "recall@k = mean over questions of (evidence turns among the first k messages "
        "returned) / (evidence turns); categories 1-4; unscoped recall() per conversation.\n"
        "R@10+ctx also counts the turn before and after each of the first 10 hits, "
        "which recall shows with it"
    )
    all_results: list[Result] = []
    turns = questions = 0
    indexing = 0.0
    with tempfile.TemporaryDirectory(prefix="locomo-") as tmp:
        for conversation in conversations:
            folder = Path(tmp) / f"c{conversation.number}"
            folder.mkdir()
            results, seconds = run_conversation(conversation, embedder, folder, modes, tuning)
            all_results.extend(results)
            indexing += seconds
            turns += len(conversation.events)
            questions += len(conversation.questions)
            hybrid = [r for r in results if r.mode == "hybrid"]
            if hybrid:
                print(
                    f"  conversation {conversation.number} ({conversation.sample_id}): "
                    f"{len(conversation.events)} turns, {len(conversation.questions)} questions, "
                    f"hybrid recall@10 {statistics.fmean(r.found[10] for r in hybrid):.3f}",
                    flush=True,
                )
    repaired = sum(c.repaired_refs for c in conversations)
    dropped = sum(c.dropped_refs for c in conversations)
    unasked = sum(c.dropped_questions for c in conversations)
    undated = sum(c.undated_sessions for c in conversations)
    print(
        f"{turns} turns recorded and indexed in {indexing:.1f} s ({turns / indexing:.0f}/s); "
        f"{questions} questions; evidence refs repaired {repaired}, dropped {dropped}; "
        f"questions without usable evidence {unasked}"
        + (f"; sessions with an unreadable date {undated}" if undated else "")
    )
    output: dict[str, Any] = {
        "data": str(args.data),
        "embedder": embedder.name,
        "captions": not args.no_captions,
        "turns": turns,
        "questions": questions,
        "indexing_per_s": turns / indexing if indexing else 0.0,
        "sections": {},
    }
    numbers = sorted({c.number for c in conversations})
    sections = [("all conversations", numbers)]
    tuning = [n for n in numbers if n <= 5]
    held = [n for n in numbers if n > 5]
    if tuning and held:
        sections += [("conversations 1-5 (tuning)", tuning), ("conversations 6+ (held out)", held)]
    by_conversation: dict[int, list[Result]] = defaultdict(list)
    for result in all_results:
        by_conversation[result.conversation].append(result)
    for title, chosen in sections:
        results = [r for n in chosen for r in by_conversation[n]]
        output["sections"][title] = report(title, results, modes)
    if args.json:
        args.json.write_text(json.dumps(output, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
