"""How fast `twin import` stores a big export, and whether its memory stays flat.

Generates a WhatsApp export of 1,000,000 messages and an mbox of 200,000 in a
temporary folder, then imports each into a fresh SQLite database in a child process
(so each figure's peak memory is its own), end to end: parse, owner check, contacts,
conversations, SQL. A run at a tenth of the size shows whether memory grows with the
file. Prints messages per second (parse alone, and end to end) and peak RSS.

    .venv/bin/python benchmarks/import_speed.py [--whatsapp N] [--mbox N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

OWNER = "Sam Owner"
OWNER_ADDRESS = "sam@example.com"
WORDS = [
    "ok",
    "sure",
    "see",
    "you",
    "tomorrow",
    "lol",
    "what",
    "time",
    "is",
    "it",
    "the",
    "dinner",
    "was",
    "great",
    "thanks",
    "so",
    "much",
    "running",
    "late",
    "be",
    "there",
    "in",
    "ten",
    "did",
    "you",
    "see",
    "the",
    "game",
    "call",
    "me",
    "when",
    "you",
    "can",
    "love",
    "it",
    "haha",
    "no",
    "way",
    "really",
    "I",
    "think",
    "so",
    "maybe",
    "next",
    "week",
    "sounds",
    "good",
]


def _sentence(rng: random.Random) -> str:
    return " ".join(rng.choices(WORDS, k=rng.randint(2, 16)))


def whatsapp_lines(count: int, seed: int = 1) -> Iterator[str]:
    """An Android group export: 24h dd/mm/yyyy, multi-line messages, media, deletions."""
    rng = random.Random(seed)
    people = [OWNER, "Alice Martin", "Bo", "+44 7700 900123", "Kai"]
    moment = datetime(2016, 1, 1, 8, 0)
    yield f"{moment:%d/%m/%Y, %H:%M} - Messages and calls are end-to-end encrypted.\n"
    yield f'{moment:%d/%m/%Y, %H:%M} - Alice Martin created group "Benchmark"\n'
    for number in range(count):
        moment += timedelta(seconds=rng.randint(3, 400))
        who = people[0] if rng.random() < 0.4 else rng.choice(people[1:])
        head = f"{moment:%d/%m/%Y, %H:%M} - {who}: "
        roll = number % 50
        if roll == 7:
            yield head + "<Media omitted>\n"
        elif roll == 23:
            yield head + "This message was deleted\n"
        elif roll % 10 == 3:
            yield head + _sentence(rng) + "\n" + _sentence(rng) + "\n"
        else:
            yield head + _sentence(rng) + "\n"


def mbox_messages(count: int, seed: int = 2) -> Iterator[bytes]:
    """A Takeout-like mbox: threads of five, quoted replies, signatures, some HTML."""
    rng = random.Random(seed)
    people = [OWNER_ADDRESS, "alice@example.org", "bo@example.net", "kai@example.com"]
    moment = datetime(2016, 1, 1, 8, 0, tzinfo=UTC)
    for number in range(count):
        moment += timedelta(seconds=rng.randint(60, 3000))
        sender, recipient = rng.sample(people, 2)
        thread = number // 5
        threading = (
            f"In-Reply-To: <m{number - 1}@bench.example>\n"
            f"References: <m{thread * 5}@bench.example> <m{number - 1}@bench.example>\n"
            if number % 5
            else ""
        )
        body = "\n".join(_sentence(rng) for _ in range(rng.randint(1, 6)))
        if number % 5:
            body += "\n\nOn some day, someone wrote:\n> " + _sentence(rng) + "\n> " + _sentence(rng)
        body += "\n\n-- \n" + sender.split("@")[0] + "\n"
        if number % 17 == 0:
            content_type = "text/html; charset=utf-8"
            body = "<div>" + body.replace("\n", "<br>") + "</div>"
        else:
            content_type = "text/plain; charset=utf-8"
        subject = ("Re: " if number % 5 else "") + f"topic {thread}"
        yield (
            f"From {sender} {moment:%a %b %d %H:%M:%S %Y}\n"
            f"Message-ID: <m{number}@bench.example>\n{threading}"
            f"Date: {format_datetime(moment)}\n"
            f"From: {sender.split('@')[0].title()} <{sender}>\nTo: {recipient}\n"
            f"Subject: {subject}\nContent-Type: {content_type}\n\n{body}\n\n"
        ).encode()


def write_whatsapp(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.writelines(whatsapp_lines(count))


def write_mbox(path: Path, count: int) -> None:
    with path.open("wb") as out:
        out.writelines(mbox_messages(count))


def child(export_format: str, path: Path, database: Path) -> dict[str, float]:
    """Runs in a fresh process: parse alone, then import end to end; reports figures."""
    from twin_core.memory.importers.run import ExportFormat, ImportService, open_export
    from twin_core.memory.store import Store

    fmt = ExportFormat(export_format)
    started = time.perf_counter()
    parsed = sum(1 for _ in open_export(fmt, path, tz=UTC))
    parse_seconds = time.perf_counter() - started

    store = Store.open(f"sqlite:///{database}")
    me = OWNER if fmt is ExportFormat.WHATSAPP else OWNER_ADDRESS
    started = time.perf_counter()
    summary = ImportService(store).run(fmt, path, me=[me], tz=UTC)
    seconds = time.perf_counter() - started
    store.close()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "messages": summary.read,
        "new": summary.new,
        "problems": summary.problems,
        "parsed_items": parsed,
        "parse_per_second": parsed / parse_seconds,
        "seconds": seconds,
        "per_second": summary.read / seconds,
        "peak_rss_mib": peak_kib / 1024,
    }


def measure(export_format: str, path: Path, database: Path) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, __file__, "--child", export_format, str(path), str(database)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    figures: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--whatsapp", type=int, default=1_000_000, help="messages")
    parser.add_argument("--mbox", type=int, default=200_000, help="messages")
    parser.add_argument("--keep", type=Path, help="write the files here and keep them")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        export_format, path, database = args.child
        print(json.dumps(child(export_format, Path(path), Path(database))))
        return

    with tempfile.TemporaryDirectory(prefix="twin-bench-") as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        runs = [
            ("whatsapp", args.whatsapp // 10, "txt", write_whatsapp),
            ("whatsapp", args.whatsapp, "txt", write_whatsapp),
            ("mbox", args.mbox // 10, "mbox", write_mbox),
            ("mbox", args.mbox, "mbox", write_mbox),
        ]
        print(
            f"{'importer':<10}{'messages':>11}{'file MiB':>10}{'parse msg/s':>13}"
            f"{'import msg/s':>14}{'seconds':>9}{'peak RSS MiB':>14}"
        )
        for export_format, count, suffix, write in runs:
            path = folder / f"{export_format}-{count}.{suffix}"
            write(path, count)
            database = folder / f"{export_format}-{count}.db"
            database.unlink(missing_ok=True)
            figures = measure(export_format, path, database)
            print(
                f"{export_format:<10}{int(figures['messages']):>11,}"
                f"{path.stat().st_size / 2**20:>10.0f}{figures['parse_per_second']:>13,.0f}"
                f"{figures['per_second']:>14,.0f}{figures['seconds']:>9.1f}"
                f"{figures['peak_rss_mib']:>14.0f}",
                flush=True,
            )
            if args.keep is None:
                path.unlink()
                database.unlink()


if __name__ == "__main__":
    main()
