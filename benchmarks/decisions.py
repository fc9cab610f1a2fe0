"""Deciding like the owner, measured: reply-or-not, delays and the safety gate.

    .venv/bin/python benchmarks/decisions.py [--days 120] [--seed 7] [--no-shared]

With a time-ordered split (learn on the first 70% of the time span, predict the rest
as it arrives), prints reply-or-not accuracy, ROC AUC and Brier score next to two
baselines (always reply; the contact's past reply rate) and the median absolute error
of the predicted delay next to the owner's global median, for:

* a synthetic owner (`tests/decide/synthetic.py`: eight contacts with their own reply
  rates, delays and hours, 3% noise, with ground truth);
* every export in ../shared/data/exports (per-message timestamps; the participant who
  wrote most stands in for the owner, as nothing in a test export says who it is);
* LoCoMo (../shared/data/locomo/locomo10.json; speaker_a is the owner; turns are 30 s
  apart within a session, as in benchmarks/locomo_recall.py);

then the safety gate on the corpus in tests/decide/data: how many of the sensitive and
adversarial messages it stopped, and how many ordinary ones it stopped by mistake.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.locomo_recall import DEFAULT_DATA as LOCOMO  # noqa: E402
from benchmarks.locomo_recall import load as load_locomo  # noqa: E402
from tests.decide.corpus import ordinary, sensitive  # noqa: E402
from tests.decide.synthetic import OWNER, generate  # noqa: E402
from twin_core.decide.evaluate import Evaluation, Scores, evaluate  # noqa: E402
from twin_core.decide.history import Seen  # noqa: E402
from twin_core.decide.safety import check  # noqa: E402
from twin_core.memory.importers.common import NotThisFormat  # noqa: E402
from twin_core.memory.importers.run import ExportFormat, open_export  # noqa: E402
from twin_core.types import InboundEvent, MessageKind  # noqa: E402

EXPORTS = REPO.parent / "shared" / "data" / "exports"


def exports(root: Path) -> list[tuple[ExportFormat, Path]]:
    found: list[tuple[ExportFormat, Path]] = []
    for path in sorted((root / "whatsapp").glob("*.txt")):
        found.append((ExportFormat.WHATSAPP, path))
    for path in sorted((root / "telegram").glob("*.json")):
        found.append((ExportFormat.TELEGRAM, path))
    for path in sorted((root / "discord").glob("*.json")):
        found.append((ExportFormat.DISCORD, path))
    for path in sorted(p for p in (root / "slack").glob("*") if p.is_dir()):
        found.append((ExportFormat.SLACK, path))
    for path in sorted((root / "mbox").glob("*")):
        found.append((ExportFormat.MBOX, path))
    return found


def as_seen(events: Iterable[InboundEvent], owner: str | None = None) -> list[Seen]:
    """Events as the decider sees them. `owner`: the sender id that is the owner (the
    one who wrote most when None)."""
    wanted = [e for e in events if e.kind is not MessageKind.SYSTEM and e.sender_id]
    if owner is None:
        counts = Counter(e.sender_id for e in wanted if not e.from_owner)
        owner = counts.most_common(1)[0][0] if counts else ""
    chats: dict[str, int] = {}
    people: dict[str, int] = {}
    seen: list[Seen] = []
    for number, event in enumerate(wanted, start=1):
        mine = event.from_owner or event.sender_id == owner
        seen.append(
            Seen(
                id=number,
                conversation=chats.setdefault(event.chat_id, len(chats) + 1),
                contact=None if mine else people.setdefault(event.sender_id, len(people) + 1),
                from_owner=mine,
                is_group=event.is_group,
                text=event.text,
                kind=event.kind.value,
                at=event.sent_at,
            )
        )
    return seen


def _f(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _scores(scores: Scores) -> str:
    return f"acc {scores.accuracy:.3f}  auc {_f(scores.auc)}  brier {scores.brier:.3f}"


def report(name: str, result: Evaluation | None, seconds: float) -> None:
    if result is None:
        print(f"{name}: too few incoming messages to split in time")
        return
    print(
        f"{name}: train {result.train} / test {result.test} incoming messages, "
        f"{result.replied_share:.0%} answered ({seconds:.1f}s)"
    )
    print(f"  model          {_scores(result.model)}")
    print(f"  always reply   {_scores(result.always_reply)}")
    print(f"  contact's rate {_scores(result.contact_rate)}")
    if result.delays_tested:
        print(
            f"  delay: median abs error {_f(result.delay_mae_s, 0)}s vs "
            f"{_f(result.delay_baseline_mae_s, 0)}s for your global median "
            f"({result.delays_tested} answered messages)"
        )


def run_synthetic(days: int, seed: int) -> None:
    started = time.perf_counter()
    owner = generate(days, seed=seed)
    result = evaluate(owner.messages, owner_name=OWNER, truth=lambda s: owner.truth[s.message_id])
    report(f"synthetic owner ({days} days, seed {seed})", result, time.perf_counter() - started)


def run_exports(root: Path) -> None:
    for export_format, path in exports(root):
        started = time.perf_counter()
        try:
            events = [i for i in open_export(export_format, path) if isinstance(i, InboundEvent)]
        except NotThisFormat as exc:
            print(f"{export_format.value}:{path.name}: not read ({exc})")
            continue
        seen = as_seen(events)
        result = evaluate(seen)
        report(
            f"{export_format.value}:{path.name} ({len(seen)} messages)",
            result,
            time.perf_counter() - started,
        )


def run_locomo(path: Path) -> None:
    if not path.is_file():
        print(f"LoCoMo: no file at {path}")
        return
    started = time.perf_counter()
    seen: list[Seen] = []
    offset = 0
    for conversation in load_locomo(path):
        part = as_seen(conversation.events, owner="owner")
        # Each sample is its own conversation and its own contact.
        seen += [
            Seen(
                s.id + offset,
                s.conversation + offset,
                None if s.contact is None else s.contact + offset,
                s.from_owner,
                s.is_group,
                s.text,
                s.kind,
                s.at,
            )
            for s in part
        ]
        offset += len(part) + 1
    # The ten samples span different years: each one is split in time on its own.
    results = []
    for sample in sorted({s.conversation for s in seen}):
        one = [s for s in seen if s.conversation == sample]
        results.append(evaluate(one))
    kept = [r for r in results if r is not None]
    total = sum(r.test for r in kept)
    if not kept:
        print("LoCoMo: nothing to test")
        return

    def mean(pick: Sequence[float | None]) -> float | None:
        values = [(v, r.test) for v, r in zip(pick, kept, strict=True) if v is not None]
        return sum(v * n for v, n in values) / sum(n for _, n in values) if values else None

    print(
        f"LoCoMo ({len(kept)} conversations, each split in time; test {total} incoming "
        f"messages; {time.perf_counter() - started:.1f}s), test-weighted means:"
    )
    for label, get in (
        ("model         ", lambda r: r.model),
        ("always reply  ", lambda r: r.always_reply),
        ("contact's rate", lambda r: r.contact_rate),
    ):
        print(
            f"  {label} acc {_f(mean([get(r).accuracy for r in kept]))}  "
            f"auc {_f(mean([get(r).auc for r in kept]))}  "
            f"brier {_f(mean([get(r).brier for r in kept]))}"
        )
    print(
        f"  delay: median abs error {_f(mean([r.delay_mae_s for r in kept]), 0)}s vs "
        f"{_f(mean([r.delay_baseline_mae_s for r in kept]), 0)}s for the global median"
    )


def run_gate() -> None:
    stopped = sensitive()
    passed = ordinary()
    started = time.perf_counter()
    missed = [(lang, c, t) for lang, c, t in stopped if check(t).safe]
    wrong_reason = [(lang, c, t) for lang, c, t in stopped if c not in check(t).concerns]
    false = [(lang, t) for lang, t in passed if not check(t).safe]
    seconds = time.perf_counter() - started
    languages = sorted({lang for lang, _, _ in stopped} | {lang for lang, _ in passed})
    print(
        f"safety gate ({len(stopped) + len(passed)} messages in {', '.join(languages)}; "
        f"{seconds * 1000 / (len(stopped) + len(passed)):.2f} ms each):"
    )
    print(
        f"  sensitive/adversarial stopped: {len(stopped) - len(missed)}/{len(stopped)} "
        f"({len(stopped) - len(wrong_reason)} for the right reason)"
    )
    by_concern = Counter(c for _, c, _ in stopped)
    print("  by concern: " + ", ".join(f"{c} {n}" for c, n in sorted(by_concern.items())))
    print(
        f"  ordinary stopped by mistake: {len(false)}/{len(passed)} "
        f"({len(false) / len(passed):.1%})"
    )
    for lang, concern, text in missed:
        print(f"    missed [{lang} {concern}] {text}")
    for lang, text in false:
        print(f"    stopped [{lang}] {text}: {check(text).describe()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--no-shared", action="store_true", help="skip ../shared (exports and LoCoMo)"
    )
    args = parser.parse_args()
    run_synthetic(args.days, args.seed)
    if not args.no_shared:
        if EXPORTS.is_dir():
            run_exports(EXPORTS)
        else:
            print(f"exports: no folder at {EXPORTS}")
        run_locomo(LOCOMO)
    run_gate()


if __name__ == "__main__":
    main()
