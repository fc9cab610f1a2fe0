from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.memory.importers.conftest import FIXTURES, events, split
from twin_core.memory.importers.common import NotThisFormat
from twin_core.memory.importers.discord import parse_discord
from twin_core.types import InboundEvent, MessageKind

EXPORT = FIXTURES / "discord" / "export"
GROUP = EXPORT / "Direct Messages - Group - Kai, Noor [900000000000000002].json"
SERVER = EXPORT / "Bouldering Club - Chat - general [810000000000000001].json"


def parse(path: Path) -> list[InboundEvent]:
    return events(parse_discord(path, tz=UTC))


def test_direct_messages(shared_exports: Path) -> None:
    found = parse(shared_exports / "discord" / "dm_kai.json")
    assert [(e.kind.value, e.sender_name, e.text) for e in found] == [
        ("text", "Kai", "yo are we still on for the climbing gym saturday?"),
        ("text", "Sam", "yes!! 10am works? I'll bring the extra chalk bag"),
        ("text", "Kai", "10 is perfect 🙌"),
        ("media", "Sam", "[image]"),
        ("text", "Sam", "this is the V4 I keep falling off lol"),
        ("call", "Kai", "[call]"),
        ("text", "Kai", "also can you send me that ramen place name? the one near the station"),
        (
            "text",
            "Sam",
            "Menya Kaito! get the yuzu shio, trust me\nand go before 7 or the line is insane",
        ),
    ]
    assert found[2].reply_to == "1200000000000000002"
    assert found[0].external_id == "1200000000000000001"
    assert found[0].sent_at == datetime(2024, 3, 2, 18, 4, 11, 120000, tzinfo=UTC)
    assert {(e.chat_id, e.chat_title, e.is_group) for e in found} == {
        ("900000000000000001", "kai_r", False)
    }
    assert {e.sender_id for e in found} == {"111111111111111111", "222222222222222222"}
    # The edit is kept in the raw record; the text is the final one.
    assert json.loads(found[4].raw or "")["timestampEdited"] == "2024-03-02T18:12:01.000+00:00"
    assert found[0].raw is None


def test_group_dm() -> None:
    found, problems = split(parse_discord(GROUP, tz=UTC))
    assert [(e.kind.value, e.sender_name, e.text) for e in found] == [
        ("system", "", "Kai added Noor to the group"),
        ("text", "Noor", "hi both! 👋"),
        ("text", "Sam", "welcome! trip planning thread?"),
        ("media", "Noor", "[document: itinerary.pdf]\nitinerary draft"),
        ("call", "Kai", "[call: 750 s]"),
        ("media", "Sam", "[sticker: Wave]"),
        ("text", "Kai", "no offset here"),
    ]
    assert found[2].reply_to == "1300000000000000002"
    assert found[2].sent_at.utcoffset() == timedelta(hours=1)
    assert found[6].sent_at == datetime(2024, 3, 1, 21, 14, tzinfo=UTC)
    assert all(e.is_group and e.chat_title == "Kai, Noor" for e in found)
    assert [p.reason for p in problems] == [
        "message 1300000000000000008: unreadable timestamp 'not a date'"
    ]
    assert problems[0].where == GROUP.name


def test_naive_timestamps_are_read_in_the_given_zone() -> None:
    zone = timezone(timedelta(hours=-5))
    found = events(parse_discord(GROUP, tz=zone))
    assert found[6].sent_at == datetime(2024, 3, 1, 21, 14, tzinfo=zone)


def test_server_channel_with_bots_joins_and_pins() -> None:
    found = parse(SERVER)
    assert [(e.kind, e.sender_name, e.text) for e in found] == [
        (MessageKind.SYSTEM, "", "Noor joined the server"),
        (MessageKind.SYSTEM, "MEE6", "GG @Noor, you just advanced to level 2!"),
        (MessageKind.MEDIA, "Sam", "[video]\nnew set on the comp wall 🔥"),
        (MessageKind.SYSTEM, "", "Kai pinned a message"),
    ]
    assert all(e.chat_title == "Bouldering Club #general" and e.is_group for e in found)
    assert all(e.chat_id == "810000000000000001" for e in found)


def test_a_folder_of_channels_and_its_zip() -> None:
    found, problems = split(parse_discord(EXPORT, tz=UTC))
    assert len(found) == len(parse(GROUP)) + len(parse(SERVER))
    assert [(p.where, p.reason) for p in problems][-1] == (
        "notes.json",
        "not a DiscordChatExporter file, skipped",
    )
    assert len({e.external_id for e in found}) == len(found)


def test_zip_of_the_export(tmp_path: Path) -> None:
    archive = tmp_path / "discord.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for file in sorted(EXPORT.iterdir()):
            out.write(file, f"export/{file.name}")
    assert parse(archive) == parse(EXPORT)


@pytest.mark.parametrize(
    ("name", "content"),
    [("x.json", b'{"name": "Alice", "messages": []}'), ("x.json", b"nope"), ("x.txt", b"")],
)
def test_not_a_discord_export(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(NotThisFormat, match="not a DiscordChatExporter export"):
        parse_discord(path)


def test_a_telegram_export_is_refused(shared_exports: Path) -> None:
    with pytest.raises(
        NotThisFormat,
        match="a Telegram export, not a DiscordChatExporter export; import it with "
        "`twin import telegram`",
    ):
        parse_discord(shared_exports / "telegram" / "result.json")
