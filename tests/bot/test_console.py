"""The console channel: its line grammar, and the whole pipeline driven through it."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from bot.app import Twin
from bot.channels.console import ConsoleChannel, ConsoleLineError, parse_line
from bot.cli.running import play as run_lines
from bot.demo import load_history
from tests.support.settings import make_settings
from twin_core.memory.embed import Embedder


@pytest.mark.parametrize(
    ("line", "kind", "name", "text"),
    [
        ("@Alice hi there", "contact", "Alice", "hi there"),
        ("> /approve 1", "control", "", "/approve 1"),
        (">/drafts", "control", "", "/drafts"),
        ("<Bob on my way 🚲", "owner", "Bob", "on my way 🚲"),
        ("  @Zoë ¿qué tal?  ", "contact", "Zoë", "¿qué tal?"),
        ("@李 你好", "contact", "李", "你好"),
    ],
)
def test_line_grammar(line: str, kind: str, name: str, text: str) -> None:
    parsed = parse_line(line)
    assert parsed is not None
    assert (parsed.kind, parsed.name, parsed.text) == (kind, name, text)


@pytest.mark.parametrize("line", ["", "   ", "# a comment", "\n"])
def test_blank_lines_and_comments_are_skipped(line: str) -> None:
    assert parse_line(line) is None


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("hello", "start a line with '@NAME '"),
        ("@", "must be followed by a name"),
        ("@alice", "'@alice' has no text"),
        (">", "needs a command"),
        ("<bob   ", "'<bob' has no text"),
    ],
)
def test_malformed_lines_say_what_was_expected(line: str, message: str) -> None:
    with pytest.raises(ConsoleLineError, match=message):
        parse_line(line)


async def play(
    home: Path, lines: list[str], embedder: Embedder, *, json_output: bool = False
) -> tuple[str, int]:
    """The demo's history, then `lines` through a real console channel and Twin."""
    output = io.StringIO()
    console = ConsoleChannel(output, json_output=json_output)
    settings = make_settings(
        home, control_chat="console:control", owner_handles={"console": ["owner"]}
    )
    async with Twin(settings, [console], embedder=embedder) as twin:
        load_history(twin.memory)
        twin.memory.index()
        await run_lines(twin, console, lines)
    return output.getvalue(), console.bad_lines


async def test_a_contact_writes_the_owner_approves_and_the_reply_goes_out(
    tmp_path: Path, embedder: Embedder
) -> None:
    out, bad = await play(
        tmp_path,
        ["@Alice are we still on for dinner friday?", "> /approve 1", "> /drafts"],
        embedder,
    )
    assert bad == 0
    lines = out.splitlines()
    assert re.match(r"\[control\] Draft 1 for Alice \(confidence 0\.\d\d\)", lines[0])
    assert "[to Alice] yes! 7pm at Luigi's, I booked a table" in lines
    assert "[control] Sent to Alice." in lines
    assert lines[-1] == "[control] No drafts waiting."


async def test_malformed_lines_are_reported_and_the_rest_still_runs(
    tmp_path: Path, embedder: Embedder
) -> None:
    out, bad = await play(tmp_path, ["hello?", "@Bob", "> /status", "> /nope"], embedder)
    assert bad == 2
    assert "[console] line 1: start a line with" in out
    assert "[console] line 2: '@Bob' has no text" in out
    assert "[control] Running" in out
    assert "[control] Unknown command /nope. /help lists them." in out


async def test_json_output_is_one_object_per_event(tmp_path: Path, embedder: Embedder) -> None:
    out, _ = await play(
        tmp_path,
        [
            "@Bob are we still on for the planning meeting at 3?",
            "> /approve",
            "> /recall roadmap",
            "x",
        ],
        embedder,
        json_output=True,
    )
    events = [json.loads(line) for line in out.splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds == ["draft", "sent", "control", "recall", "error"]
    draft = events[0]
    assert draft["contact"] == "Bob" and draft["id"] == 1 and draft["reasons"]
    assert events[1] == {"event": "sent", "to": "Bob", "text": draft["text"], "id": events[1]["id"]}
    assert events[3]["hits"][0]["text"] == "yes, room 4B, I'll bring the roadmap slides"
    assert events[4]["line"] == 4


async def test_bad_input_of_every_kind_gets_an_answer_and_nothing_is_lost(
    tmp_path: Path, embedder: Embedder
) -> None:
    huge = "ha" * 50_000  # 100 kB
    out, _ = await play(
        tmp_path,
        [
            f"@Alice {huge}",
            "@Карина привет! 👋",
            "@Bob /approve 1",
            "> /approve 99",
            "> /edit 1",
            "> /auto nobody on",
            "> /recall",
            "> hello",
            "> /auto alice sometimes",
        ],
        embedder,
    )
    assert "[control] There is no draft 99 (see /drafts)." in out
    assert "[control] Send the text for draft 1 as your next message" in out
    assert "[control] no contact named 'nobody'" in out
    assert "[control] empty query" in out
    assert "[control] Commands start with '/'" in out
    assert "[control] usage: /auto NAME on|off|draft (NAME exactly, or #ID)" in out
    assert "[to " not in out  # nothing was sent: none of it was an approval
    from twin_core.memory.store import Store

    store = Store.open(make_settings(tmp_path).sqlalchemy_url)
    texts = {m.text for m in store.messages.iter_after()}
    assert {huge, "привет! 👋", "/approve 1"} <= texts
    store.close()


def test_a_byte_order_mark_is_not_part_of_the_first_line() -> None:
    """Windows editors start a UTF-8 file with a BOM: the first line is still read
    (it was reported as unreadable, and its message never stored)."""
    import asyncio
    import io

    from bot.channels.console.lines import aiter_lines, iter_lines, split_lines

    data = "\ufeff@Alice hi\n\ufeff> /status\n".encode()

    async def read_async() -> list[str]:
        return [line async for line in aiter_lines(io.BytesIO(data))]

    expected = ["@Alice hi", "\ufeff> /status"]  # a BOM inside the text is the text's
    assert split_lines(data) == expected
    assert list(iter_lines(io.BytesIO(data))) == expected
    assert asyncio.run(read_async()) == expected
