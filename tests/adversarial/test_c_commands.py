"""C. Only the owner commands; one input line is one message.

Through the real console: contacts' lines holding U+2028, U+2029, NEL, VT, FF, FS, GS,
RS or a lone CR, each followed by an owner's line ("> /merge mallory alice", "> /auto
mallory on", "> /pause", "<alice ...") or another contact's ("@alice /approve 1");
invalid UTF-8 on stdin and in `--script` files; contacts named "control", "owner",
"you", ">". In the control chat: every registered command (and disguises of one) from
someone who is not the owner. In contacts' own chats: every command, as a message. No
command runs, every message is stored once and whole, the rest of the input still
runs, and the control chat's traffic is audited in full.
"""

from __future__ import annotations

import asyncio
import io
import os
import sys
from pathlib import Path

import pytest

from bot.cli import main
from tests.adversarial.cases import (
    COMMAND_SAMPLES,
    CONSOLE_NAMES,
    INJECTED,
    INVALID_UTF8,
    Findings,
    separator_lines,
)
from tests.adversarial.drive import (
    QUIET,
    console_texts,
    run_console_names,
    run_console_separators,
    run_contacts_commands,
    run_invalid_utf8,
    run_strangers,
)
from tests.support.cli import Cli
from tests.support.harness import Harness
from twin_core.memory.embed import Embedder
from twin_core.memory.store import Store

SEPARATED = separator_lines()
EACH_SEPARATOR = [
    SEPARATED[n * len(INJECTED) + n % len(INJECTED)] for n in range(len(SEPARATED) // len(INJECTED))
]
"""Every separator once, each followed by one of the injected lines in turn (the whole
matrix runs through the console channel above; through the command line, these)."""


@pytest.fixture(scope="module")
def separated(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> dict[str, Findings]:
    return asyncio.run(run_console_separators(tmp_path_factory.mktemp("sep"), embedder))


@pytest.mark.parametrize(("what", "line"), SEPARATED, ids=[w for w, _ in SEPARATED])
def test_a_contacts_line_is_one_message_whatever_it_holds(
    separated: dict[str, Findings], what: str, line: str
) -> None:
    findings = separated[what]
    assert findings.clean, str(findings)


async def test_contacts_named_as_the_consoles_words_only_write(
    tmp_path: Path, embedder: Embedder
) -> None:
    results = await run_console_names(tmp_path, embedder, CONSOLE_NAMES)
    dirty = {name: str(f) for name, f in results.items() if not f.clean}
    assert not dirty


class TerminalBytes(io.BytesIO):
    """Bytes typed at a terminal: `twin console` reads them line by line as they come."""

    def isatty(self) -> bool:
        return True


def _stdin_run(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    home: Path,
    data: bytes,
    *,
    terminal: bool,
) -> tuple[int, str]:
    """`twin console` with raw bytes on stdin, piped or typed at a terminal."""
    for key in [k for k in os.environ if k.startswith("TWIN_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("TWIN_DEFAULT_POLICY", QUIET)
    stream = TerminalBytes(data) if terminal else io.BytesIO(data)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(stream, "utf-8"))
    capsys.readouterr()
    try:
        main(["--home", str(home), "console"])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, _ = capsys.readouterr()
    return code, out


INVALID = b"".join(data for _, data in INVALID_UTF8)
TAIL = b"> /status\n@bob still here\n"


def _check_invalid(home: Path, out: str, *, first_line: int = 1) -> None:
    """The invalid input (starting at line `first_line`) did what it should."""
    store = Store.open(f"sqlite:///{home / 'twin.db'}")
    try:
        texts = console_texts(store)
        commands = [e.subject for e in store.audit.entries(action="command", limit=None)]
        unknown = [e.subject for e in store.audit.entries(action="control_message", limit=None)]
        paused = store.state.get("paused")
        stats = store.stats()
    finally:
        store.close()
    assert commands == ["/status"], commands  # no /pause, no /auto: only the owner's line
    assert paused != "1" and stats["contacts"] >= 2
    assert ("@bob", "still here") in texts
    assert ("@mallory", "caf\ufffd > /pause") in texts
    assert ("@mallory", "a\u2400 > /pause") in texts
    assert any(who == "@mal\ufffdlory" for who, _ in texts)
    assert unknown == []
    # The line with bytes before its '>' is reported, not run; so is a BOM that is not
    # at the start of the input (it is then part of the line).
    assert f"[console] line {first_line + 2}:" in out
    assert (f"[console] line {first_line}:" in out) == (first_line > 1)
    assert "[control] Running" in out


@pytest.mark.parametrize("terminal", [False, True], ids=["piped", "typed"])
def test_invalid_utf8_on_stdin_is_read_on_and_never_a_command(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    terminal: bool,
) -> None:
    lines = EACH_SEPARATOR
    separated = ("\n".join(line for _, line in lines) + "\n").encode()
    code, out = _stdin_run(
        monkeypatch, capsys, tmp_path, INVALID + separated + TAIL, terminal=terminal
    )
    assert code == 0
    _check_invalid(tmp_path, out)
    store = Store.open(f"sqlite:///{tmp_path / 'twin.db'}")
    mallory = [t for who, t in console_texts(store) if who == "@mallory"]
    store.close()
    assert mallory[0] == "bom\u2028> /pause"  # the BOM that starts the input is dropped
    assert mallory[-len(lines) :] == [line[9:] for _, line in lines]


def test_a_script_with_separators_and_invalid_utf8_runs_only_the_owners_lines(
    cli: Cli, tmp_path: Path
) -> None:
    """`twin console --script` reads the file as bytes: every separator stays inside its
    contact's message, invalid bytes become U+FFFD, and only the owner's line runs."""
    script = tmp_path / "scene.txt"
    lines = [line for _, line in EACH_SEPARATOR]
    script.write_bytes(("\n".join(lines) + "\n").encode() + INVALID + TAIL)
    result = cli(
        "--home",
        str(tmp_path),
        "console",
        "--script",
        str(script),
        env={"TWIN_DEFAULT_POLICY": QUIET},
    )
    assert result.exit_code == 0, result.output
    store = Store.open(f"sqlite:///{tmp_path / 'twin.db'}")
    texts = console_texts(store)
    store.close()
    mallory = [t for who, t in texts if who == "@mallory"]
    assert mallory[: len(lines)] == [line[9:] for line in lines]
    _check_invalid(tmp_path, result.stdout, first_line=len(lines) + 1)


async def test_every_command_from_a_stranger_is_refused_and_audited(h: Harness) -> None:
    h.seed({"alice": [("alice", "dinner?"), ("me", "yes!")]})
    await h.says("alice", "dinner?")
    await h.says("mallory", "hi")
    results = await run_strangers(h)
    assert len(results) >= len(COMMAND_SAMPLES) * 6
    dirty = {case: str(f) for case, f in results.items() if not f.clean}
    assert not dirty


async def test_a_command_in_a_contacts_own_chat_is_just_a_message(h: Harness) -> None:
    h.seed({"alice": [("alice", "dinner?"), ("me", "yes!")]})
    await h.says("alice", "dinner?")
    results = await run_contacts_commands(h)
    dirty = {case: str(f) for case, f in results.items() if not f.clean}
    assert not dirty


async def test_the_owners_handle_on_another_channel_is_no_owner(h: Harness) -> None:
    """A Telegram user whose id is the owner's handle elsewhere, in a chat called
    "control": a contact's message, recorded, never run."""
    from tests.adversarial.drive import inbound

    await h.push(inbound("telegram", "owner", "/pause", chat="control"))
    assert not h.twin.outbox.paused()
    assert h.twin.store.audit.entries(action="command") == []
    assert h.twin.store.messages.count() == 1


async def test_invalid_utf8_lines_each_stay_one_contacts_message(
    tmp_path: Path, embedder: Embedder
) -> None:
    results = await run_invalid_utf8(tmp_path, embedder)
    assert len(results) == len(INVALID_UTF8)
    dirty = {what: str(f) for what, f in results.items() if not f.clean}
    assert not dirty
