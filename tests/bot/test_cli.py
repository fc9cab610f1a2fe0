"""The `twin` command line, on one data folder: driven in-process through the real entry
point (`tests.support.cli`), except one smoke test of the installed command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import Cli
from tests.support.settings import POSTGRES_URL, REPO
from twin_core.memory.store import Store


def test_twin_demo_runs_as_a_real_command(tmp_path: Path) -> None:
    """The one subprocess test: the installed entry point, end to end."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWIN_")}
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo"],
        env={**env, "TWIN_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "[control] Draft 1 for Alice" in out and "Why:" in out
    assert "[to Alice] yes! 7pm at Luigi's, I booked a table" in out
    assert 'moment(s) for "lemon pasta recipe"' in out
    assert (tmp_path / "demo" / "twin.db").exists()


def test_demo_is_repeatable_and_inspectable(cli: Cli, tmp_path: Path) -> None:
    first = cli("--home", str(tmp_path), "demo", "--json")
    assert first.exit_code == 0, first.stderr
    events = [json.loads(line) for line in first.stdout.splitlines()]
    assert events[0]["event"] == "draft" and events[0]["id"] == 1
    again = cli("--home", str(tmp_path), "demo", "--json")
    replayed = [json.loads(line) for line in again.stdout.splitlines()]

    # the demo's folder starts afresh: the same events, the same draft numbers
    def shape(e: dict[str, object]) -> tuple[object, ...]:
        return (e["event"], e.get("id") if e["event"] == "draft" else e.get("text"))

    assert [shape(e) for e in replayed] == [shape(e) for e in events]
    stats = json.loads(cli("stats", "--json", "--home", str(tmp_path / "demo")).stdout)
    assert stats["contacts"] == 2 and stats["drafts"]["sent"] == 2


def test_demo_never_touches_the_owners_database(cli: Cli, tmp_path: Path) -> None:
    """With TWIN_DATABASE_URL set (as docker-compose does), the demo still runs on its
    own SQLite in its own folder."""
    owner_db = tmp_path / "owner.db"
    env = {"TWIN_DATABASE_URL": f"sqlite:///{owner_db}"}
    result = cli("--home", str(tmp_path), "demo", env=env)
    assert result.exit_code == 0, result.stderr
    assert not owner_db.exists()
    assert (tmp_path / "demo" / "twin.db").exists()


def test_demo_never_deletes_a_folder_it_did_not_make(cli: Cli, tmp_path: Path) -> None:
    precious = tmp_path / "demo"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    result = cli("--home", str(tmp_path), "demo")
    assert result.exit_code == 2
    assert result.stderr.startswith("twin: ") and "was not made by `twin demo`" in result.stderr
    assert (precious / "thesis.tex").read_text() == "years of work"


def test_console_script_then_stats_and_recall_on_the_same_folder(cli: Cli, tmp_path: Path) -> None:
    script = tmp_path / "scene.txt"
    script.write_text(
        "@Alice the lemon pasta recipe please?\n<Alice zest, butter, parmesan\n"
        "@Alice thanks!!\n> /reject 2\n",
        encoding="utf-8",
    )
    home = ["--home", str(tmp_path / "home")]
    result = cli(*home, "console", "--script", str(script))
    assert result.exit_code == 0, result.output
    assert '[control] Alice wrote: "the lemon pasta recipe please?"' in result.stdout
    stats = json.loads(cli(*home, "stats", "--json").stdout)
    assert stats["messages"] == 3 and stats["contacts"] == 1
    assert stats["audit_entries"] >= 3
    recall = cli(*home, "recall", "lemon", "pasta")
    assert recall.exit_code == 0, recall.stderr
    assert "Alice: the lemon pasta recipe please?" in recall.stdout


def test_console_reads_stdin(cli: Cli, tmp_path: Path) -> None:
    result = cli("--home", str(tmp_path), "console", "--json", input="> /status\nbad line\n")
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["event"] for e in events] == ["control", "error"]
    assert "1 line(s) could not be read" in result.stderr


def test_home_works_after_the_command_too(cli: Cli, tmp_path: Path) -> None:
    cli("console", "--home", str(tmp_path), input="@Alice hi there\n")
    before = json.loads(cli("--home", str(tmp_path), "stats", "--json").stdout)
    after = json.loads(cli("stats", "--json", "--home", str(tmp_path)).stdout)
    assert before == after and after["messages"] == 1


def test_json_output_is_json_only(cli: Cli, tmp_path: Path) -> None:
    """Whatever else is printed (progress, libraries' banners) goes to stderr."""
    cli("--home", str(tmp_path), "console", input="@Alice the lemon pasta recipe?\n")
    for args in (
        ["stats", "--json"],
        ["contacts", "--json"],
        ["drafts", "--json"],
        ["recall", "lemon", "--json"],
        ["audit", "--json"],
        ["console", "--json"],
    ):
        result = cli("--home", str(tmp_path), *args, input="> /status\n")
        assert result.exit_code == 0, (args, result.stderr)
        for line in result.stdout.splitlines():
            json.loads(line)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"TWIN_AUTO_CONFIDENCE": "1.5"}, "TWIN_AUTO_CONFIDENCE: Input should be less than or"),
        ({"TWIN_DATABASE_URL": "not a url"}, "TWIN_DATABASE_URL is not a database URL"),
        ({"TWIN_DATABASE_URL": "mysql://u@h/db"}, "the twin runs on SQLite or PostgreSQL"),
        (
            {"TWIN_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"},
            "cannot open the database at postgresql://nobody@127.0.0.1:1/none",
        ),
        ({"TWIN_REDIS_URL": "http://localhost"}, "TWIN_REDIS_URL: is not a Redis URL"),
        ({"TWIN_QDRANT_URL": "qdrant:6333"}, "TWIN_QDRANT_URL: is not a Qdrant URL"),
        ({"TWIN_LLM_MODEL": "nonsense/model-x"}, "TWIN_LLM_MODEL: names no provider litellm"),
        ({"TWIN_HOME": "/sys/twin-home"}, "is read-only"),
    ],
)
def test_a_user_caused_failure_is_one_clear_line(
    cli: Cli, tmp_path: Path, env: dict[str, str], expected: str
) -> None:
    result = cli("stats", env={"TWIN_HOME": str(tmp_path), **env})
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("twin: ") and expected in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_an_unreachable_redis_is_one_clear_line(cli: Cli, tmp_path: Path) -> None:
    result = cli(
        "console",
        env={"TWIN_HOME": str(tmp_path), "TWIN_REDIS_URL": "redis://127.0.0.1:1"},
        input="@Alice hi\n",
    )
    assert result.exit_code == 2
    assert "cannot reach Redis at TWIN_REDIS_URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unreachable_qdrant_is_one_clear_line(cli: Cli, tmp_path: Path) -> None:
    result = cli(
        "recall",
        "dinner",
        env={"TWIN_HOME": str(tmp_path), "TWIN_QDRANT_URL": "http://127.0.0.1:1"},
    )
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("twin: cannot reach the Qdrant server at http://127.0.0.1:1")
    assert "Traceback" not in result.stderr


def test_usage_errors_share_the_style(cli: Cli, tmp_path: Path) -> None:
    result = cli("--home", str(tmp_path), "recall")
    assert result.exit_code == 2 and result.stderr.startswith("twin: ")
    unknown = cli("--home", str(tmp_path), "frobnicate")
    assert unknown.exit_code == 2 and unknown.stderr.startswith("twin: ")


def test_recall_of_an_unknown_contact_is_a_clear_error(cli: Cli, tmp_path: Path) -> None:
    result = cli("--home", str(tmp_path), "recall", "--contact", "ghost", "dinner")
    assert result.exit_code == 1
    assert "no contact named 'ghost'" in result.stdout


def test_contacts_lists_and_merges_through_the_owner_actions(cli: Cli, tmp_path: Path) -> None:
    home = ["--home", str(tmp_path / "h")]
    cli(*home, "console", input="@Alice hi\n@Ally it's me, new phone\n")
    listed = json.loads(cli(*home, "contacts", "--json").stdout)
    assert [(c["name"], c["handles"]) for c in listed] == [
        ("Alice", ["console:@alice"]),
        ("Ally", ["console:@ally"]),
    ]
    merged = cli(*home, "contacts", "merge", "alice", "ally")
    assert merged.exit_code == 0 and "Ally is now part of Alice" in merged.stdout
    assert "Policy: draft, the default policy of Alice" in merged.stdout
    text = cli(*home, "contacts").stdout
    assert "console:@alice, console:@ally" in text and "2 messages" in text
    audit = json.loads(cli(*home, "audit", "--action", "merge", "--json").stdout)
    assert audit[0]["subject"] == "Alice" and audit[0]["detail"]["policy"] == "draft"


def test_names_and_texts_reach_the_terminal_escaped(cli: Cli, tmp_path: Path) -> None:
    """`twin contacts`, `audit` and `recall` print what contacts chose: an escape
    sequence (or an 8-bit CSI) in it is shown, never obeyed, in text and in JSON."""
    home = ["--home", str(tmp_path)]
    cli(*home, "console", input="@Eve\x1b]0;owned\x07 zebra \x9b2J\x1b[2J\n")
    for command in (["contacts"], ["audit"], ["recall", "zebra"]):
        for extra in ([], ["--json"]):
            shown = cli(*home, *command, *extra).stdout
            assert "\x1b" not in shown and "\x9b" not in shown and "\x07" not in shown
            assert "\\x1b" in shown or "\\u001b" in shown, (command, extra, shown)


def test_cli_approval_is_sent_by_the_running_twin(cli: Cli, tmp_path: Path) -> None:
    """`twin approve` has no channels: it queues the send for the bot process."""
    home = ["--home", str(tmp_path)]
    cli(*home, "console", input="@Alice dinner friday?\n")
    drafts = json.loads(cli(*home, "drafts", "--json").stdout)
    assert drafts["drafts"] == []  # no history: no draft to approve
    result = cli(*home, "approve", "7")
    assert result.exit_code == 1 and "There is no draft 7" in result.stdout


def test_audit_verify_names_the_first_broken_entry(cli: Cli, tmp_path: Path) -> None:
    home = ["--home", str(tmp_path)]
    cli(*home, "console", input="> /status\n> /pause\n> /resume\n")
    intact = cli(*home, "audit", "--verify")
    assert intact.exit_code == 0 and "audit log intact" in intact.stdout
    store = Store.open(f"sqlite:///{tmp_path / 'twin.db'}")
    with store.engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT OR REPLACE INTO audit_entry (id, seq, at, actor, action, subject, why, "
            "detail, prev_hash, hash) SELECT id, seq, at, actor, action, subject, "
            "'nothing happened', detail, prev_hash, hash FROM audit_entry WHERE seq = 2"
        )
    store.close()
    broken = cli(*home, "audit", "--verify")
    assert broken.exit_code == 1
    assert "BROKEN at entry 2" in broken.stdout and "changed after it was written" in broken.stdout


def test_postgres_url_is_reported_without_its_password(cli: Cli, tmp_path: Path) -> None:
    url = POSTGRES_URL.replace("postgres@", "postgres:hunter2@").replace("5432", "1")
    result = cli("stats", env={"TWIN_HOME": str(tmp_path), "TWIN_DATABASE_URL": url})
    assert result.exit_code == 2 and "hunter2" not in result.stderr
