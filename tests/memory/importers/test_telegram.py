from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.memory.importers.conftest import FIXTURES, events, split
from twin_core.memory.importers.common import NotThisFormat
from twin_core.memory.importers.telegram import account_owner, parse_telegram
from twin_core.types import InboundEvent, MessageKind

HERE = FIXTURES / "telegram"
ACCOUNT = HERE / "account"
OLD_CHAT = HERE / "ChatExport_2020-01-02"


def parse(path: Path) -> list[InboundEvent]:
    return events(parse_telegram(path, tz=UTC))


# --- the real files (../shared) ---------------------------------------------------------


def test_new_export_with_text_entities(shared_exports: Path) -> None:
    found = parse(shared_exports / "telegram" / "result.json")
    assert [(e.sender_name, e.text) for e in found] == [
        ("Jimmeny Marvelton", "i refuse to converse with you"),
        ("Batman & Robin", "Hi nemesis"),
        ("Jimmeny Marvelton", "we meet again"),
        ("Jimmeny Marvelton", "you will not trick me this time"),
    ]
    # date_unixtime wins over the naive local `date`.
    assert found[0].sent_at == datetime.fromtimestamp(1692821483, UTC)
    assert [e.external_id for e in found] == [f"5965280513:{n}" for n in (1, 2, 3, 4)]
    assert {e.sender_id for e in found} == {"123450513", "6565661032"}
    assert {(e.chat_id, e.chat_title, e.is_group) for e in found} == {
        ("5965280513", "Jimmeny", False)
    }


def test_old_export_with_numeric_ids_and_naive_dates(shared_exports: Path) -> None:
    zone = timezone(timedelta(hours=3))
    found = events(parse_telegram(shared_exports / "telegram" / "telegram.json", tz=zone))
    assert [e.text for e in found] == ["It's 2020...", "Fireworks!", "You're a minute late!"]
    assert found[0].sent_at == datetime(2020, 1, 1, 0, 0, 2, tzinfo=zone)
    assert found[0].sender_id == "4325636679"
    assert found[2].external_id == "2730825451:1980501"


def test_one_chat_of_a_minimal_tool_without_ids(shared_exports: Path, tmp_path: Path) -> None:
    found = parse(shared_exports / "telegram" / "test_single_export.json")
    assert [(e.sender_name, e.text) for e in found] == [
        ("Author 1", "Minimal Message"),
        ("Author 2", "Link:https://telegram.org/"),
    ]
    assert found[0].sent_at == datetime.fromtimestamp(1544006350, UTC)
    assert len({e.external_id for e in found}) == 2
    assert [e.external_id for e in found] == [
        e.external_id for e in parse(shared_exports / "telegram" / "test_single_export.json")
    ]
    # Known by its first message, not by the file's name: a renamed copy is the same chat.
    renamed = tmp_path / "result (1).json"
    renamed.write_bytes((shared_exports / "telegram" / "test_single_export.json").read_bytes())
    assert len({e.chat_id for e in found}) == 1
    assert [(e.chat_id, e.external_id) for e in parse(renamed)] == [
        (e.chat_id, e.external_id) for e in found
    ]


def test_whole_account_export_of_a_minimal_tool(shared_exports: Path) -> None:
    found = parse(shared_exports / "telegram" / "test_batch_export.json")
    assert [(e.chat_id, e.sender_name, e.text) for e in found] == [
        ("Chatname", "Author 1", "Minimal Message"),
        ("Chatname", "Author 2", "Link:https://telegram.org/"),
    ]


def test_a_discord_export_is_refused(shared_exports: Path) -> None:
    with pytest.raises(
        NotThisFormat, match="not a Telegram export; import it with `twin import discord`"
    ):
        parse_telegram(shared_exports / "discord" / "dm_kai.json")


# --- this project's fixtures --------------------------------------------------------------


def test_whole_account_export() -> None:
    found, problems = split(parse_telegram(ACCOUNT, tz=UTC))
    assert [(e.external_id, e.kind.value, e.sender_name, e.text) for e in found] == [
        ("222000222:101", "text", "Alice Martin", "morning! are we still on for lunch?"),
        ("222000222:102", "text", "Sam Owner", "yes! 12:30 at the usual place"),
        ("222000222:103", "media", "Alice Martin", "[image]\nlook"),
        ("222000222:104", "media", "Sam Owner", "[voice]"),
        ("222000222:105", "media", "Alice Martin", "[sticker: 😂]"),
        ("222000222:106", "call", "Alice Martin", "[call: 125 s]"),
        ("222000222:107", "media", "Alice Martin", "[document: menu.pdf]"),
        ("222000222:108", "text", "Alice Martin", "Spring is here"),
        ("222000222:109", "text", "Alice Martin", "no unix time"),
        ("-1001700000001:1", "system", "", "Kai create group: Climbing crew Kai, Sam Owner"),
        ("-1001700000001:2", "system", "", "Kai invite members: Alice Martin"),
        ("-1001700000001:3", "text", "Kai", "@samowner saturday 10am?"),
        ("-1001700000001:4", "text", "Sam Owner", "in!"),
        ("-1001700000001:5", "text", "Deleted Account", "(from a deleted account)"),
        ("-1001700000001:6", "media", "Kai", "[poll: Which gym?]"),
        ("-1001600000002:77", "text", "Sam Owner", "bye all, thanks for the books"),
    ]
    assert [(p.line, p.reason) for p in problems] == [
        (None, "message 110 in 'Alice Martin' has no readable date, skipped")
    ]
    by_id: dict[str, InboundEvent] = {e.external_id: e for e in found}
    assert by_id["222000222:102"].reply_to == "222000222:101"
    assert by_id["-1001700000001:4"].reply_to == "-1001700000001:3"
    assert json.loads(by_id["222000222:102"].raw or "")["edited_unixtime"] == "1678788480"
    assert json.loads(by_id["222000222:108"].raw or "")["forwarded_from"] == "Daily News"
    assert by_id["222000222:101"].raw is None
    assert by_id["222000222:101"].sender_id == "222000222"
    assert by_id["222000222:102"].sender_id == "111000111"
    assert not by_id["222000222:101"].is_group
    assert by_id["-1001700000001:3"].is_group
    assert by_id["-1001600000002:77"].chat_title == "Old book club"
    assert by_id["222000222:109"].sent_at == datetime(2023, 3, 15, 8, 2, tzinfo=UTC)
    assert all(not e.from_owner for e in found)


def test_account_owner_comes_from_personal_information() -> None:
    assert account_owner(ACCOUNT) == "111000111"
    assert account_owner(OLD_CHAT) is None


def test_old_single_chat_export_in_its_folder() -> None:
    found = parse(OLD_CHAT)
    assert [(e.sender_id, e.text) for e in found] == [
        ("4325636679", "It's almost 2020..."),
        ("111000111", "Happy new year Henry!"),
        ("4325636679", ""),
    ]
    assert found[2].reply_to == "4325636679:5002"
    assert found[0].sent_at == datetime(2019, 12, 31, 23, 59, 58, tzinfo=UTC)


def test_zipped_export_reads_like_its_folder(tmp_path: Path) -> None:
    archive = tmp_path / "Telegram Desktop.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.write(ACCOUNT / "result.json", "DataExport_2023-03-16/result.json")
        out.writestr("DataExport_2023-03-16/photos/photo_1.jpg", b"\xff\xd8")
    assert parse(archive) == parse(ACCOUNT)


def test_reimport_gives_the_same_ids() -> None:
    assert [e.external_id for e in parse(ACCOUNT)] == [e.external_id for e in parse(ACCOUNT)]


def test_a_truncated_file_keeps_what_it_read_and_says_where_it_broke() -> None:
    found, problems = split(parse_telegram(HERE / "truncated.json", tz=UTC))
    assert [e.text for e in found] == ["It's almost 2020..."]
    assert len(problems) == 1
    assert "breaks off after message 1" in problems[0].reason
    assert "\n" not in problems[0].reason


@pytest.mark.parametrize(
    ("name", "content"),
    [("notes.json", b"[1, 2, 3]"), ("notes.txt", b"hello"), ("other.json", b'{"guild": {}}')],
)
def test_not_a_telegram_export(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(NotThisFormat, match="not a Telegram export"):
        parse_telegram(path)


def test_a_folder_without_result_json(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("hi")
    with pytest.raises(
        NotThisFormat,
        match=r"a folder of 1 file\(s\) in no format twin imports, not a Telegram export",
    ):
        parse_telegram(tmp_path)


def test_service_messages_never_carry_a_voice() -> None:
    system = [e for e in parse(ACCOUNT) if e.kind is MessageKind.SYSTEM]
    assert system
    assert all(e.sender_id == "" for e in system)
