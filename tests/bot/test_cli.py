"""The `twin` command line, on one data folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from bot.cli import app

REPO = Path(__file__).resolve().parents[2]


def clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWIN_")}
    return {**env, "TWIN_HOME": str(home)}


def twin(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the real `twin` entry point in a child process."""
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )


def test_twin_demo_plays_the_scene_and_exits_0(tmp_path: Path) -> None:
    result = twin("demo", env=clean_env(tmp_path))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "[control] Draft 1 for Alice" in out and "Why:" in out
    assert "[to Alice] yes! 7pm at Luigi's, I booked a table" in out
    assert 'moment(s) for "lemon pasta recipe"' in out
    assert (tmp_path / "demo" / "twin.db").exists()
    # the demo's folder can be inspected afterwards, and a second run starts afresh
    runner = CliRunner()
    stats = runner.invoke(app, ["--home", str(tmp_path / "demo"), "stats", "--json"])
    figures = json.loads(stats.stdout)
    assert figures["contacts"] == 2 and figures["drafts"]["sent"] == 2
    again = runner.invoke(app, ["--home", str(tmp_path), "demo", "--json"])
    assert again.exit_code == 0
    assert next(json.loads(line)["event"] for line in again.stdout.splitlines()) == "draft"


def test_console_script_then_stats_and_recall_on_the_same_folder(tmp_path: Path) -> None:
    script = tmp_path / "scene.txt"
    script.write_text(
        "@Alice the lemon pasta recipe please?\n<Alice zest, butter, parmesan\n"
        "@Alice thanks!!\n> /reject 2\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    home = ["--home", str(tmp_path / "home")]
    result = runner.invoke(app, [*home, "console", "--script", str(script)])
    assert result.exit_code == 0, result.output
    assert '[control] Alice wrote: "the lemon pasta recipe please?"' in result.stdout
    stats = json.loads(runner.invoke(app, [*home, "stats", "--json"]).stdout)
    assert stats["messages"] == 3 and stats["contacts"] == 1
    assert stats["audit_entries"] >= 3
    recall = runner.invoke(app, [*home, "recall", "lemon", "pasta"])
    assert recall.exit_code == 0
    assert "Alice: the lemon pasta recipe please?" in recall.stdout


def test_console_reads_stdin(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        app, ["--home", str(tmp_path), "console", "--json"], input="> /status\nbad line\n"
    )
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["event"] for e in events] == ["control", "error"]
    assert "1 line(s) could not be read" in result.stderr


def test_bad_settings_are_refused_with_the_variable_named(tmp_path: Path) -> None:
    env = {**clean_env(tmp_path), "TWIN_AUTO_CONFIDENCE": "1.5"}
    result = twin("stats", env=env)
    assert result.returncode == 2
    assert "TWIN_AUTO_CONFIDENCE: Input should be less than or equal to 1" in result.stderr
    assert "Traceback" not in result.stderr


def test_recall_of_an_unknown_contact_is_a_clear_error(tmp_path: Path) -> None:
    result = twin("recall", "--contact", "ghost", "dinner", env=clean_env(tmp_path))
    assert result.returncode == 2
    assert "twin: no contact named 'ghost'" in result.stderr


def test_contacts_lists_and_merges(tmp_path: Path) -> None:
    script = tmp_path / "s.txt"
    script.write_text("@Alice hi\n@Ally it's me, new phone\n", encoding="utf-8")
    runner = CliRunner()
    home = ["--home", str(tmp_path / "h")]
    runner.invoke(app, [*home, "console", "--script", str(script)])
    listed = json.loads(runner.invoke(app, [*home, "contacts", "--json"]).stdout)
    assert [(c["name"], c["handles"]) for c in listed] == [
        ("Alice", ["console:alice"]),
        ("Ally", ["console:ally"]),
    ]
    merged = runner.invoke(app, [*home, "contacts", "merge", "alice", "ally"])
    assert merged.exit_code == 0 and "Ally is now part of Alice" in merged.stdout
    text = runner.invoke(app, [*home, "contacts"]).stdout
    assert "console:alice, console:ally" in text and "2 messages" in text
