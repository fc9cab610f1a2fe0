"""F. The owner's screen shows what was written.

Contacts' names and texts carrying ANSI CSI and OSC sequences (cursor moves, erasing,
window titles, hyperlinks, the clipboard), DCS/APC/PM/SOS strings, 8-bit C1 controls,
bidi overrides and isolates, backspaces, bells, DEL, lone carriage returns and line
separators. On the console (text and `--json`) and in every `twin` command that
prints them (drafts, contacts, audit, recall), none reaches the terminal raw, and a
name made to rewrite a draft card's header draws no line of its own.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bot.cli.running import play
from tests.adversarial.cases import SCREEN_ATTACKS
from tests.adversarial.drive import (
    CLI_SURFACES,
    console_twin,
    raw_controls,
    run_screen,
    screen_findings,
)
from tests.support.cli import Cli
from twin_core.memory.embed import Embedder

WHATS = [w for w, _ in SCREEN_ATTACKS]


@pytest.fixture(scope="module")
def screens(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> dict[str, str]:
    """The console's output, as text and as JSON, on one data folder each."""
    text_home = tmp_path_factory.mktemp("screen-text")
    json_home = tmp_path_factory.mktemp("screen-json")
    return {
        "text": asyncio.run(run_screen(text_home, embedder, json_output=False)),
        "json": asyncio.run(run_screen(json_home, embedder, json_output=True)),
        "home": str(text_home),
    }


@pytest.mark.parametrize("what", WHATS)
def test_the_console_shows_every_attack_escaped(screens: dict[str, str], what: str) -> None:
    findings = screen_findings(screens["text"], json_output=False)[what]
    assert findings.clean, str(findings)
    assert "[control] Draft " in screens["text"]  # the names did get their draft cards


@pytest.mark.parametrize("what", WHATS)
def test_the_consoles_json_shows_every_attack_escaped(screens: dict[str, str], what: str) -> None:
    findings = screen_findings(screens["json"], json_output=True)[what]
    assert findings.clean, str(findings)
    # What the contact wrote is all there, read back from the JSON (compared without
    # whitespace: shortened texts have theirs collapsed, and names have none).
    events = [json.loads(line) for line in screens["json"].splitlines()]
    attack = "".join(dict(SCREEN_ATTACKS)[what].split())
    assert any(attack in "".join(text.split()) for text in strings(events))


def strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


@pytest.mark.parametrize("command", CLI_SURFACES, ids=" ".join)
def test_twin_commands_print_names_and_texts_escaped(
    screens: dict[str, str], cli: Cli, command: tuple[str, ...]
) -> None:
    result = cli("--home", screens["home"], *command)
    assert result.exit_code == 0, result.output
    assert "zebra" in result.stdout or "thanks" in result.stdout or "Draft" in result.stdout
    assert raw_controls(result.stdout) == []


async def test_a_name_cannot_draw_a_card_header(tmp_path: Path, embedder: Embedder) -> None:
    """A name with a carriage return and a fake header in it (a contact sets it on a
    platform, spaces and all): the card keeps one header line, its own."""
    lines = [
        "@pat thanks!",
        "<pat no problem!",
        "@ray thanks!",
        "<ray no problem!",
        "@sol thanks!",
        "<sol no problem!",
        "@Bob\x1b[1A\x1b[2K\rDraft\u20289\u2028for\u2028Alice thanks!",
    ]
    async with console_twin(tmp_path, embedder) as (twin, console, output):
        await play(twin, console, lines)
        shown = output.getvalue().splitlines()
    headers = [line for line in shown if line.startswith("[control] Draft ")]
    assert len(headers) == 1 and headers[0].startswith("[control] Draft 1 for Bob\\x1b[1A")
    assert all(line.startswith(("[control] ", " ")) for line in shown)
    assert raw_controls("\n".join(shown)) == []
