from __future__ import annotations

import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.memory.importers.conftest import FIXTURES, events, split
from twin_core.memory.importers.common import NotThisFormat
from twin_core.memory.importers.slack import parse_slack, render
from twin_core.types import InboundEvent, MessageKind

WORKSPACE = FIXTURES / "slack" / "workspace"


def by_id(found: list[InboundEvent]) -> dict[str, InboundEvent]:
    return {e.external_id: e for e in found}


# --- the real files (../shared) ---------------------------------------------------------


def test_langchain_export(shared_exports: Path) -> None:
    found = events(parse_slack(shared_exports / "slack" / "langchain_export"))
    assert [(e.chat_title, e.kind.value, e.sender_name, e.text) for e in found] == [
        ("#general", "text", "Example User", "Hello, world!"),
        ("#general", "text", "Example User", "Example in general"),
        ("#random", "text", "Example User", "Example random message"),
        # users.json lacks this user; the profile on their earlier messages names them.
        ("#example-channel", "system", "", "@Example User has joined the channel"),
        ("#example-channel", "text", "Example User", "Example message"),
    ]
    assert found[0].external_id == "C05019B47SB:1681413317.397479"
    assert found[0].sent_at == datetime(2023, 4, 13, 19, 15, 17, 397479, tzinfo=UTC)
    assert found[0].sender_id == "U0500003428"


def test_real_2016_export_keeps_bots_and_joins_out_of_anyones_voice(shared_exports: Path) -> None:
    found, problems = split(parse_slack(shared_exports / "slack" / "viewer_export"))
    assert problems == []
    kinds = {kind: sum(e.kind is kind for e in found) for kind in MessageKind}
    assert kinds[MessageKind.SYSTEM] == 8 + 3 + 94  # joins, integrations added, bot posts
    assert kinds[MessageKind.MEDIA] == 3
    voices = {e.sender_name for e in found if e.kind is MessageKind.TEXT}
    assert voices == {"Hamza Faran", "Harry Potter", "Hermione Granger", "heroeshannibal"}
    joins = [e for e in found if e.text.endswith("has joined the channel")]
    assert len(joins) == 8
    assert all(e.sender_id == "" for e in joins)
    assert joins[0].text == "@Hamza Faran has joined the channel"
    comment = next(e for e in found if e.external_id == "C0JL6CGQ2:1459106048.000018")
    assert (comment.kind, comment.sender_name) == (MessageKind.TEXT, "Hermione Granger")
    assert comment.text.startswith("```'cities': {")
    upload = next(e for e in found if e.external_id == "C0JL6CGQ2:1459052866.000012")
    assert upload.text == "[document: 100_cities.js]"
    assert len({e.external_id for e in found}) == len(found)


# --- this project's fixtures --------------------------------------------------------------


def test_workspace_with_channels_private_groups_dms_and_mpims() -> None:
    found, problems = split(parse_slack(WORKSPACE))
    assert [(e.chat_id, e.kind.value, e.sender_name, e.text) for e in found] == [
        ("C01GENERAL", "system", "", "@Bo has joined the channel"),
        (
            "C01GENERAL",
            "text",
            "Sam Owner",
            "Morning @here! Release notes are in #general & on the wiki",
        ),
        ("C01GENERAL", "text", "Alice Martin", "@Sam Owner thanks, reading now"),
        ("C01GENERAL", "text", "Sam Owner", "ping me if anything is unclear"),
        ("C01GENERAL", "system", "Standup Bot", "Daily standup starts in 5 minutes"),
        ("C01GENERAL", "system", "Standup Bot", "Reminder posted by an app"),
        (
            "C01GENERAL",
            "media",
            "Alice Martin",
            "[document: slides.pdf]\n[image]\nslides from yesterday",
        ),
        ("C01GENERAL", "deleted", "USLACKBOT", "[deleted]"),
        ("C01GENERAL", "call", "Sam Owner", "[call]"),
        ("C01GENERAL", "text", "Sam Owner", "@bo can you cover Friday? 2 < 3 > 1"),
        ("G01SECRET", "text", "Alice Martin", "surprise party for Bo on the 10th 🎉"),
        ("G01SECRET", "text", "Sam Owner", "I'll bring the cake"),
        ("D01SAMALICE", "text", "Alice Martin", "are you free for lunch?"),
        ("D01SAMALICE", "text", "Sam Owner", "yes! 12:30?"),
        ("G02MPIM", "text", "Bo", "who's driving saturday?"),
        ("old-channel", "text", "Gone Person", "last message of the year"),
    ]
    assert [(p.where, p.line) for p in problems] == [
        ("general/2023-03-01.json", 9),
        ("general/2023-03-03.json", None),
    ]
    assert "not valid JSON" in problems[1].reason


def test_threads_point_at_their_parent() -> None:
    found = by_id(events(parse_slack(WORKSPACE)))
    parent = found["C01GENERAL:1677665100.000200"]
    assert parent.reply_to is None
    for reply in ("C01GENERAL:1677665200.000300", "C01GENERAL:1677665400.000400"):
        assert found[reply].reply_to == parent.external_id
    assert found["C01GENERAL:1677665400.000400"].raw is not None  # edited
    assert parent.raw is None


def test_conversation_kinds_and_titles() -> None:
    found = events(parse_slack(WORKSPACE))
    chats = {e.chat_id: (e.chat_title, e.is_group) for e in found}
    assert chats == {
        "C01GENERAL": ("#general", True),
        "G01SECRET": ("#secret-plans", True),
        "D01SAMALICE": ("Sam Owner, Alice Martin", False),
        "G02MPIM": ("Sam Owner, Alice Martin, Bo", True),
        "old-channel": ("#old-channel", True),
    }


def test_zip_of_the_workspace_reads_like_the_folder(tmp_path: Path) -> None:
    archive = tmp_path / "Acme Slack export Mar 1 2023 - Mar 5 2023.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for file in sorted(WORKSPACE.rglob("*")):
            if file.is_file():
                out.write(file, file.relative_to(WORKSPACE).as_posix())
    assert list(parse_slack(archive)) == list(parse_slack(WORKSPACE))


def test_ids_are_stable() -> None:
    first = [e.external_id for e in events(parse_slack(WORKSPACE))]
    assert first == [e.external_id for e in events(parse_slack(WORKSPACE))]
    assert len(set(first)) == len(first)


def test_render_markup() -> None:
    users = {"U1": "Alice"}
    assert render("<@U1> and <@U2|bob> in <#C9>", users, {"C9": "random"}) == (
        "@Alice and @bob in #random"
    )
    assert render("<!channel> <!subteam^S1|@devs> <mailto:a@b.c|a@b.c> <https://x.y>", users) == (
        "@channel @devs a@b.c https://x.y"
    )
    assert render("fish &amp; chips &lt;3", users) == "fish & chips <3"


def test_not_a_slack_export(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(NotThisFormat, match="expected a Slack workspace export"):
        parse_slack(tmp_path)
    with pytest.raises(NotThisFormat, match="expected a Slack workspace export"):
        parse_slack(tmp_path / "notes.txt")
