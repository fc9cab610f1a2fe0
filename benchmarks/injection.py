"""Hostile input against the invariants: the adversarial corpus, counted.

    .venv/bin/python benchmarks/injection.py [--no-postgres]

Runs every case of `tests/adversarial/cases.py` through the same drivers the tests use
(`tests/adversarial/drive.py`): real Twins on a recording fake channel or the real
console, the offline model and a prompt-recording OpenAI-compatible server it starts
on 127.0.0.1, SQLite and (when reachable) PostgreSQL. Prints, per class of attack, how
many attempts were made and how many leaked another person's words, got a command
obeyed for someone who may not give it, lost a message, or went wrong otherwise (a
tampering unnoticed, a raw escape on screen, a wrong contact hit). Then the other side
of invariant 6: how many phatic replies, used with three people, still serve a
newcomer. Exits 1 when any attempt was not clean.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.adversarial.cases import (  # noqa: E402
    CONSOLE_NAMES,
    MODEL_MESSAGES,
    MODEL_OUTPUTS,
    PHATIC,
    PROBES,
    TAMPERING,
    Findings,
)
from tests.adversarial.drive import (  # noqa: E402
    CLI_SURFACES,
    D_SCENARIOS,
    QUIET,
    NoPostgres,
    audit_some,
    database_url,
    e_not_stored,
    g_verdict,
    raw_controls,
    run_cli,
    run_console_names,
    run_console_separators,
    run_contacts_commands,
    run_invalid_utf8,
    run_joins,
    run_leaks,
    run_model_outputs,
    run_odd_events,
    run_phatic,
    run_screen,
    run_strangers,
    screen_findings,
    started,
    tamper,
)
from tests.adversarial.model import Reply  # noqa: E402
from twin_core.memory.embed import Embedder, OnnxEmbedder  # noqa: E402
from twin_core.memory.store import Store  # noqa: E402

CLASSES = {
    "A": "what one contact was told stays with them",
    "B": "the model's output is data",
    "C": "only the owner commands; one line, one message",
    "D": "commands hit what the owner meant",
    "E": "nothing lost, never 'stored' when it was not",
    "F": "the owner's screen shows what was written",
    "G": "the audit log is tamper-evident",
    "H": "only a number or an address joins accounts",
}


@dataclass
class Tally:
    attempts: int = 0
    leaks: int = 0
    obeyed: int = 0
    lost: int = 0
    other: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    def add(self, label: str, findings: Findings) -> None:
        self.attempts += 1
        self.leaks += bool(findings.leaks)
        self.obeyed += bool(findings.obeyed)
        self.lost += bool(findings.lost)
        self.other += bool(findings.other)
        if not findings.clean:
            self.problems.append(f"{label}: {findings}")

    def add_all(self, prefix: str, results: dict[str, Findings]) -> None:
        for label, findings in results.items():
            self.add(f"{prefix}{label}", findings)

    @property
    def failed(self) -> int:
        return self.leaks + self.obeyed + self.lost + self.other


@contextmanager
def timed(tally: Tally) -> Iterator[None]:
    started_at = time.perf_counter()
    yield
    tally.seconds += time.perf_counter() - started_at


class Bench:
    def __init__(self, embedder: Embedder, folder: Path, dialects: list[str]) -> None:
        self.embedder = embedder
        self.folder = folder
        self.dialects = dialects
        self.tallies = {key: Tally() for key in CLASSES}
        self.phatic_served = 0
        self.phatic_shareable = 0
        self.phatic_withheld = 0
        self.phatic_held_back = 0
        self._homes = 0

    def home(self) -> Path:
        self._homes += 1
        path = self.folder / f"home-{self._homes}"
        path.mkdir()
        return path

    async def leaks(self) -> None:
        tally = self.tallies["A"]
        with timed(tally):
            for remote, label in ((False, "offline model"), (True, "recorded model")):
                run = await run_leaks(self.home(), self.embedder, remote=remote)
                tally.add_all(f"{label}: ", run.findings)
            phatic = await run_phatic(self.home(), self.embedder)
        for case in PHATIC:
            if case.serves:
                self.phatic_shareable += 1
                self.phatic_served += case.reply in phatic.drafts[case.what]
            else:
                self.phatic_held_back += 1
                self.phatic_withheld += case.reply not in phatic.drafts[case.what]
                tally.add(f"phatic withheld: {case.what}", phatic.findings[case.what])

    async def model_outputs(self) -> None:
        tally = self.tallies["B"]
        with timed(tally):
            answers: list[tuple[str, Reply]] = [*MODEL_OUTPUTS, *MODEL_MESSAGES]
            results = await run_model_outputs(self.home(), self.embedder, answers)
        tally.add_all("", results)

    async def commands(self) -> None:
        tally = self.tallies["C"]
        with timed(tally):
            tally.add_all("console: ", await run_console_separators(self.home(), self.embedder))
            tally.add_all("invalid UTF-8: ", await run_invalid_utf8(self.home(), self.embedder))
            tally.add_all(
                "named: ", await run_console_names(self.home(), self.embedder, CONSOLE_NAMES)
            )
            async with started(self.home(), self.embedder) as h:
                h.seed({"alice": [("alice", "dinner?"), ("me", "yes!")]})
                await h.says("alice", "dinner?")
                await h.says("mallory", "hi")
                tally.add_all("stranger: ", await run_strangers(h))
                tally.add_all("in a contact's chat: ", await run_contacts_commands(h))

    async def targets(self) -> None:
        tally = self.tallies["D"]
        with timed(tally):
            for what, scenario in D_SCENARIOS.items():
                async with started(self.home(), self.embedder) as h:
                    results = await scenario(h)
                tally.add_all(f"{what}: " if len(results) > 1 else what, results)

    async def storage(self) -> None:
        tally = self.tallies["E"]
        with timed(tally):
            for dialect in self.dialects:
                with database_url(dialect, self.home()) as url:
                    async with started(
                        self.home(), self.embedder, database_url=url, default_policy=QUIET
                    ) as h:
                        tally.add_all(f"{dialect}: ", await run_odd_events(h))
                        tally.add_all(f"{dialect}: refused, ", await e_not_stored(h))

    async def screen(self) -> None:
        tally = self.tallies["F"]
        with timed(tally):
            for json_output in (False, True):
                home = self.home()
                output = await run_screen(home, self.embedder, json_output=json_output)
                found = screen_findings(output, json_output=json_output)
                tally.add_all("console --json: " if json_output else "console: ", found)
            for command in CLI_SURFACES:
                code, shown = await asyncio.to_thread(run_cli, home, *command)
                raw = raw_controls(shown)
                problems = [f"exit {code}"] if code else []
                problems += [f"{c} reached the screen raw" for c in raw]
                tally.add(f"twin {' '.join(command)}", Findings(other=problems))

    def audit(self) -> None:
        tally = self.tallies["G"]
        with timed(tally):
            for case in TAMPERING:
                for dialect in (d for d in case.dialects if d in self.dialects):
                    with database_url(dialect, self.home()) as url:
                        store = Store.open(url)
                        try:
                            audit_some(store)
                            tamper(store, case)
                            tally.add(f"{dialect}: {case.what}", g_verdict(store, case))
                        finally:
                            store.close()

    def identities(self) -> None:
        tally = self.tallies["H"]
        with timed(tally):
            for dialect in self.dialects:
                with database_url(dialect, self.home()) as url:
                    store = Store.open(url)
                    try:
                        tally.add_all(f"{dialect}: ", run_joins(store))
                    finally:
                        store.close()


def print_report(bench: Bench, dialects: list[str], seconds: float) -> int:
    print(f"databases: {', '.join(dialects)}; {seconds:.1f} s in all")
    print()
    print("| class | attempts | leaks | obeyed | lost | other | seconds |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    total = Tally()
    for key, title in CLASSES.items():
        t = bench.tallies[key]
        print(
            f"| {key}. {title} | {t.attempts} | {t.leaks} | {t.obeyed} | {t.lost} | "
            f"{t.other} | {t.seconds:.1f} |"
        )
        for name in ("attempts", "leaks", "obeyed", "lost", "other"):
            setattr(total, name, getattr(total, name) + getattr(t, name))
    print(
        f"| all | {total.attempts} | {total.leaks} | {total.obeyed} | {total.lost} | "
        f"{total.other} | |"
    )
    print()
    print(
        f"phatic replies used with 3 people that serve a newcomer: "
        f"{bench.phatic_served} of {bench.phatic_shareable}"
    )
    print(
        f"replies used with fewer people (or not phatic) kept from a newcomer: "
        f"{bench.phatic_withheld} of {bench.phatic_held_back}"
    )
    problems = [p for t in bench.tallies.values() for p in t.problems]
    if problems:
        print()
        print("not clean:")
        for problem in problems:
            print(f"  {problem}")
    return 1 if problems else 0


async def run(bench: Bench) -> None:
    steps: list[Callable[[], Awaitable[None]]] = [
        bench.leaks,
        bench.model_outputs,
        bench.commands,
        bench.targets,
        bench.storage,
        bench.screen,
    ]
    for step in steps:
        await step()
    bench.audit()
    bench.identities()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only.")
    args = parser.parse_args()
    # The drivers tell the owner about failures on purpose; the log need not repeat it.
    logging.basicConfig(level=logging.CRITICAL)
    dialects = ["sqlite"]
    if not args.no_postgres:
        try:
            with database_url("postgresql", Path(tempfile.gettempdir())):
                dialects.append("postgresql")
        except NoPostgres as exc:
            print(f"PostgreSQL not reachable, SQLite only: {exc}", file=sys.stderr)
    print(f"load average before: {Path('/proc/loadavg').read_text().strip()}")
    embedder = OnnxEmbedder()
    started_at = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="twin-injection-") as folder:
        bench = Bench(embedder, Path(folder), dialects)
        asyncio.run(run(bench))
    seconds = time.perf_counter() - started_at
    print(f"load average after:  {Path('/proc/loadavg').read_text().strip()}")
    print(f"probes {len(PROBES)}, model answers {len(MODEL_OUTPUTS)}, phatic {len(PHATIC)}")
    raise SystemExit(print_report(bench, dialects, seconds))


if __name__ == "__main__":
    main()
