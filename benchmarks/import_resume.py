"""What `twin import` costs when it is run again: after it finished, after it was
interrupted half way, and on a later, longer export of the same chat.

Generates a WhatsApp group export or an mbox (`--format`; the generators of
`import_speed.py`) and, in a child process each (so every figure is its own), imports
it into a fresh SQLite database, then runs the same import again; interrupts another
import half way (an exception from its progress callback, as Ctrl-C would) and runs it
again; finally imports an export with a tenth more messages on top of the first.
Prints each run's seconds, messages read, new, skipped by the checkpoint ("resumed
at", and "after s": the seconds before it went on storing), and the rows in the
database afterwards.

    .venv/bin/python benchmarks/import_resume.py [--format whatsapp|mbox] [--messages N]
        [--keep DIR]
"""

from __future__ import annotations

import argparse
import inspect
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.import_speed import (  # noqa: E402
    OWNER,
    OWNER_ADDRESS,
    write_mbox,
    write_whatsapp,
)

FORMATS = {
    "whatsapp": ("txt", OWNER, write_whatsapp),
    "mbox": ("mbox", OWNER_ADDRESS, write_mbox),
}


class Interrupted(Exception):
    """Raised from the progress callback to stop an import half way."""


def child(export_format: str, path: Path, database: Path, stop_at: int) -> dict[str, float]:
    """Runs in a fresh process: one import of `path`, stopped once `stop_at` messages
    were stored (0: never)."""
    from twin_core.memory.importers.run import ExportFormat, ImportService
    from twin_core.memory.store import Store

    store = Store.open(f"sqlite:///{database}")
    resumed_after: list[float] = []

    def progress(done: int) -> None:
        if stop_at and done >= stop_at:
            raise Interrupted

    def resume(done: int) -> None:
        resumed_after.append(time.perf_counter() - started)

    # Before checkpoints, the service had no `on_resume` (the script measures both).
    extra: dict[str, Any] = (
        {"on_resume": resume}
        if "on_resume" in inspect.signature(ImportService.run).parameters
        else {}
    )
    started = time.perf_counter()
    figures: dict[str, float] = {}
    try:
        summary = ImportService(store).run(
            ExportFormat(export_format),
            path,
            me=[FORMATS[export_format][1]],
            tz=UTC,
            on_progress=progress,
            **extra,
        )
        figures = {
            "read": summary.read,
            "new": summary.new,
            "resumed": getattr(summary, "resumed_at", 0),
        }
    except Interrupted:
        figures = {"read": -1, "new": -1, "resumed": 0}
    figures["seconds"] = time.perf_counter() - started
    figures["to_resume"] = resumed_after[0] if resumed_after else 0.0
    figures["rows"] = store.messages.count()
    store.close()
    return figures


def measure(export_format: str, path: Path, database: Path, stop_at: int = 0) -> dict[str, float]:
    output = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            export_format,
            str(path),
            str(database),
            str(stop_at),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    figures: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=300_000)
    parser.add_argument("--keep", type=Path, help="write the files here and keep them")
    parser.add_argument("--format", choices=sorted(FORMATS), default="whatsapp")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        export_format, path, database, stop_at = args.child
        print(json.dumps(child(export_format, Path(path), Path(database), int(stop_at))))
        return

    with tempfile.TemporaryDirectory(prefix="twin-bench-") as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        count = args.messages
        suffix, _, write = FORMATS[args.format]
        export = folder / f"{args.format}-{count}.{suffix}"
        longer = folder / f"{args.format}-{count + count // 10}.{suffix}"
        write(export, count)
        write(longer, count + count // 10)
        first = folder / "first.db"
        second = folder / "interrupted.db"
        for database in (first, second):
            database.unlink(missing_ok=True)
        runs = [
            ("first import", export, first, 0),
            ("same again", export, first, 0),
            ("interrupted at half", export, second, count // 2),
            ("run again", export, second, 0),
            ("same again", export, second, 0),
            ("a tenth longer export", longer, first, 0),
        ]
        print(f"{'run':<24}{'seconds':>9}{'read':>10}{'new':>10}{'resumed at':>12}{'rows':>10}")
        for name, path, database, stop_at in runs:
            figures = measure(args.format, path, database, stop_at)
            print(
                f"{name:<24}{figures['seconds']:>9.2f}{int(figures['read']):>10,}"
                f"{int(figures['new']):>10,}{int(figures['resumed']):>12,}"
                f"{figures['to_resume']:>9.2f}"
                f"{int(figures['rows']):>10,}",
                flush=True,
            )


if __name__ == "__main__":
    main()
