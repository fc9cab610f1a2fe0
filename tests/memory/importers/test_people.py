"""Issue 10, items 3 and 4: `--me` takes what a person knows themselves by; bots and
system lines are not people, and summaries add up."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import pytest

from tests.memory.importers.conftest import FIXTURES, events
from twin_core.memory.importers.discord import parse_discord
from twin_core.memory.importers.run import ExportFormat, ImportService
from twin_core.memory.importers.slack import parse_slack
from twin_core.memory.store import Store
from twin_core.types import MessageKind


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """SQLite only: what is tested here does not depend on the database (the store's
    contract suite runs on PostgreSQL too), and the suite stays fast."""
    opened = Store.open(f"sqlite:///{tmp_path}/twin.db")
    yield opened
    opened.close()


SLACK = FIXTURES / "slack" / "workspace"
DISCORD = FIXTURES / "discord" / "export"


def _mei_workspace(tmp_path: Path) -> Path:
    """The project's Slack fixture with its owner renamed to Mei Tanaka (username `mei`)."""
    import shutil

    folder = tmp_path / "slack"
    shutil.copytree(SLACK, folder)
    users = json.loads((folder / "users.json").read_text())
    for user in users:
        if user["id"] == "U01SAM":
            user.update(name="mei", real_name="Mei Tanaka")
            user["profile"].update(
                real_name="Mei Tanaka", display_name="Mei T.", email="mei@example.com"
            )
    (folder / "users.json").write_text(json.dumps(users))
    return folder


@pytest.mark.parametrize("me", ["mei", "Mei T.", "MEI@example.com"])
def test_slack_me_by_username_display_name_real_name_id_or_email(
    tmp_path: Path, store: Store, me: str
) -> None:
    path = _mei_workspace(tmp_path)
    summary = ImportService(store).run(ExportFormat.SLACK, path, me=[me])
    mine = [e for e in events(parse_slack(path)) if e.sender_id == "U01SAM"]
    assert summary.from_owner == len(mine) > 0
    assert "u01sam" in summary.owner.keys


@pytest.mark.parametrize("me", ["sam.owner", "111111111111111111"])
def test_discord_me_by_username_nickname_or_id(store: Store, me: str) -> None:
    summary = ImportService(store).run(ExportFormat.DISCORD, DISCORD, me=[me], tz=UTC)
    assert summary.from_owner > 0


def test_the_real_slack_export_by_username(shared_exports: Path, store: Store) -> None:
    path = shared_exports / "slack" / "viewer_export"
    summary = ImportService(store).run(ExportFormat.SLACK, path, me=["hamza"])
    assert summary.owner.keys >= {"u0bmqb6je"} and summary.from_owner > 0
    # Three integrations posted; none of them is a contact, and the sums add up.
    assert summary.bots == 3
    names = [c.name for c in store.contacts.all()]
    assert not any(name.startswith("B0") for name in names)
    assert summary.new_contacts == summary.contacts == len(names) == 3


def test_a_nobody_me_is_still_refused_with_the_candidates(store: Store) -> None:
    from twin_core.memory.importers.run import OwnerUnknown

    with pytest.raises(OwnerUnknown, match="nobody in workspace is zed"):
        ImportService(store).run(ExportFormat.SLACK, SLACK, me=["zed"])


def test_slack_bot_users_and_bot_posts_have_no_sender_id() -> None:
    found = events(parse_slack(SLACK))
    bots = [e for e in found if e.kind is MessageKind.SYSTEM and e.sender_name]
    assert bots and all(not e.sender_id for e in bots)
    assert all(e.text for e in bots)
    # Whoever has an email in users.json carries it, so other channels find them.
    alice = [e for e in found if e.sender_id == "U02ALICE"]
    assert alice and all(e.identities == ("email:alice@example.com",) for e in alice)


def test_discord_notices_read_as_sentences_and_bots_are_not_senders() -> None:
    found = events(parse_discord(DISCORD, tz=UTC))
    notices = [e for e in found if e.kind is MessageKind.SYSTEM and not e.sender_name]
    assert notices and all(" " in e.text and "Recipient" not in e.text for e in notices)
    bot = next(e for e in found if e.sender_name == "MEE6")
    assert bot.sender_id == "" and bot.kind is MessageKind.SYSTEM


def test_a_discord_rename_is_a_sentence(tmp_path: Path) -> None:
    record = {
        "id": "1",
        "type": "ChannelNameChange",
        "timestamp": "2024-03-01T20:00:00+00:00",
        "content": "climbing-trip",
        "author": {"id": "2", "name": "eli", "nickname": "Eli", "isBot": False},
    }
    path = tmp_path / "dm.json"
    path.write_text(
        json.dumps(
            {
                "guild": {"id": "0", "name": "Direct Messages"},
                "channel": {"id": "9", "type": "DirectGroupTextChat", "name": "trip"},
                "messages": [record],
            }
        )
    )
    (event,) = events(parse_discord(path, tz=UTC))
    assert (event.sender_id, event.text) == ("", "Eli renamed the channel to climbing-trip")
