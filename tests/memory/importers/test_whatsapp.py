from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.memory.importers.conftest import FIXTURES, events, split
from twin_core.memory.importers.common import NotThisFormat
from twin_core.memory.importers.whatsapp import parse_whatsapp
from twin_core.types import InboundEvent, MessageKind

HERE = FIXTURES / "whatsapp"
ALICE = HERE / "WhatsApp Chat with Alice Martin.txt"
ALICE_IOS = HERE / "WhatsApp Chat - Alice Martin" / "_chat.txt"


def parse(path: Path) -> list[InboundEvent]:
    return events(parse_whatsapp(path, tz=UTC))


def rows(found: list[InboundEvent]) -> list[tuple[str, str, str, str]]:
    return [(e.sent_at.strftime("%Y-%m-%d %H:%M:%S"), e.kind, e.sender_name, e.text) for e in found]


# --- the real files (../shared) ---------------------------------------------------------

CHAT_MINER_FILES = [
    "test_[mmddyy]_24hrs.txt",
    "test_ddmmyy_24hrs.txt",
    "test_mmddyy_24hrs.txt",
    "test_mmddyyyy_12hrs.txt",
    "test_yyyymmdd_24hrs.txt",
]


@pytest.mark.parametrize("name", CHAT_MINER_FILES)
def test_matches_the_expected_parse_of_chat_miner(shared_exports: Path, name: str) -> None:
    folder = shared_exports / "whatsapp"
    target = json.loads((folder / "target.json").read_text(encoding="utf-8"))
    found = [e for e in parse(folder / name) if e.kind is not MessageKind.SYSTEM]
    # chat-miner lists newest first and joins a message's lines with a space; we keep
    # the line breaks, so they are compared as spaces.
    got = [
        {
            "timestamp": e.sent_at.replace(tzinfo=None).isoformat(),
            "author": e.sender_name,
            "message": e.text.replace("\n", " "),
        }
        for e in reversed(found)
    ]
    assert got == target


@pytest.mark.parametrize("name", CHAT_MINER_FILES)
def test_chat_miner_system_lines_have_no_sender(shared_exports: Path, name: str) -> None:
    found = parse(shared_exports / "whatsapp" / name)
    system = [e for e in found if e.kind is MessageKind.SYSTEM]
    assert [e.text for e in system] == [
        "John Doe:.",
        '+12 345 578 created group "Groupname"',
        "You were added",
    ]
    assert all(e.sender_id == "" and e.sender_name == "" for e in system)
    assert all(e.is_group for e in found)


def test_ios_export_with_seconds_and_marks(shared_exports: Path) -> None:
    found = parse(shared_exports / "whatsapp" / "whatsapp_chat.txt")
    assert len(found) == 12
    notice = found[0]
    assert notice.kind is MessageKind.SYSTEM
    assert notice.sender_name == ""
    assert notice.text.startswith("Messages and calls are end-to-end encrypted.")
    media = [e for e in found if e.kind is MessageKind.MEDIA]
    assert [(e.sender_name, e.text) for e in media] == [("Dr. Feather", "[image]")] * 3
    assert all(e.raw == "\u200eimage omitted" for e in media)
    assert found[1].sent_at == datetime(2023, 8, 15, 9, 12, 43, tzinfo=UTC)
    assert found[-1].sent_at == datetime(2023, 8, 15, 21, 25, 16, tzinfo=UTC)
    assert found[-1].text == "Looking forward to it! Keep up the great work."
    assert not any("\u200e" in e.text for e in found)
    assert not found[0].is_group


def test_one_file_mixing_every_header_style(shared_exports: Path) -> None:
    found = parse(shared_exports / "whatsapp" / "whatsapp_chat_mixed_formats.txt")
    assert rows(found) == [
        ("2023-05-05 15:48:11", "text", "James", "Hi here"),
        ("2021-11-08 09:41:32", "text", "User name", "Message 123"),
        ("2023-01-23 03:19:00", "text", "User 2", "Bye!"),
        ("2023-01-23 03:22:00", "text", "User 1", "And let me know if anything changes"),
        ("2021-01-24 12:41:03", "text", "User name 2", "Of course!"),
        ("2023-05-04 16:13:23", "text", "User 2", "See you!"),
        ("2022-07-19 23:32:00", "text", "User 1", "Hello"),
        ("2022-07-20 11:32:00", "text", "User 2", "Goodbye"),
        ("2023-04-20 09:42:00", "media", "User 3", "[media]"),
        ("2023-06-29 00:16:00", "deleted", "User 4", "[deleted]"),
    ]


# --- this project's fixtures --------------------------------------------------------------


def test_android_english_24h() -> None:
    found = parse(ALICE)
    assert rows(found) == [
        (
            "2023-03-14 09:05:00",
            "system",
            "",
            "Messages and calls are end-to-end encrypted. No one outside of this chat, not "
            "even WhatsApp, can read or listen to them. Tap to learn more.",
        ),
        ("2023-03-14 09:05:00", "text", "Alice Martin", "morning! are we still on for lunch?"),
        ("2023-03-14 09:07:00", "text", "Sam Owner", "yes!"),
        (
            "2023-03-14 09:07:00",
            "text",
            "Sam Owner",
            "12:30 at the usual place?\nthe one with the terrace: not the other one",
        ),
        ("2023-03-14 09:08:00", "media", "Alice Martin", "[media]"),
        ("2023-03-14 09:08:00", "text", "Alice Martin", "perfect"),
        ("2023-03-14 09:10:00", "deleted", "Sam Owner", "[deleted]"),
        ("2023-03-14 09:10:00", "text", "Sam Owner", "ok"),
        ("2023-03-14 09:10:00", "text", "Sam Owner", "ok"),
        ("2023-03-15 18:42:00", "media", "Alice Martin", "[image]\nlook at this sunset"),
        ("2023-03-15 18:43:00", "media", "Sam Owner", "[voice]"),
        ("2023-04-02 23:59:00", "text", "Alice Martin", "night 🌙"),
    ]
    assert len({e.chat_id for e in found}) == 1 and found[0].chat_id.startswith("wa-")
    assert {e.chat_title for e in found} == {"Alice Martin"}
    assert not any(e.is_group or e.from_owner for e in found)
    edited = found[5]
    assert edited.raw == "perfect <This message was edited>"
    assert found[4].raw == "<Media omitted>"
    assert found[2].raw is None


def test_every_message_gets_its_own_id_and_repeats_stay_apart() -> None:
    found = parse(ALICE)
    assert len({e.external_id for e in found}) == len(found)
    first_ok, second_ok = (e for e in found if e.text == "ok")
    assert first_ok.external_id != second_ok.external_id


def test_ids_are_stable_across_reimports_and_overlapping_later_exports() -> None:
    once = [e.external_id for e in parse(ALICE)]
    again = [e.external_id for e in parse(ALICE)]
    later = [e.external_id for e in parse(HERE / "later" / ALICE.name)]
    assert once == again
    assert later[: len(once)] == once
    assert len(later) == len(once) + 2


def test_the_same_chat_exported_from_ios_gets_the_same_ids() -> None:
    android = {(e.sender_name, e.text): e.external_id for e in parse(ALICE)}
    ios = parse(ALICE_IOS)
    shared = [e for e in ios if e.kind in (MessageKind.TEXT, MessageKind.DELETED)]
    assert len(shared) == 8
    for event in shared:
        if event.text != "ok":
            assert android[(event.sender_name, event.text)] == event.external_id
    assert [e.external_id for e in ios if e.text == "ok"] == [
        e.external_id for e in parse(ALICE) if e.text == "ok"
    ]


def test_ios_english_12h_with_seconds() -> None:
    found = parse(ALICE_IOS)
    kinds = [(e.kind.value, e.sender_name, e.text) for e in found]
    assert kinds[0][:2] == ("system", "")
    assert kinds[4] == ("media", "Alice Martin", "[image]")
    assert kinds[5] == ("text", "Alice Martin", "perfect")
    assert kinds[6] == ("deleted", "Sam Owner", "[deleted]")
    assert kinds[9] == ("media", "Alice Martin", "[image]")
    assert kinds[10] == ("media", "Sam Owner", "[audio]")
    assert kinds[12] == ("call", "Alice Martin", "Missed voice call")
    assert found[9].sent_at == datetime(2023, 3, 15, 18, 42, 13, tzinfo=UTC)
    assert {e.chat_id for e in found} == {e.chat_id for e in parse(ALICE)}


def test_ios_zip_with_media(tmp_path: Path) -> None:
    archive = tmp_path / "WhatsApp Chat - Alice Martin.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.write(ALICE_IOS, "_chat.txt")
        out.writestr("00000012-PHOTO-2023-03-15-18-42-13.jpg", b"\xff\xd8\xff\xe0 not a real jpeg")
    assert parse(archive) == parse(ALICE_IOS)


def test_android_zip_with_media(tmp_path: Path) -> None:
    archive = tmp_path / "WhatsApp Chat with Alice Martin.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("IMG-20230315-WA0003.jpg", b"\xff\xd8\xff\xe0")
        out.write(ALICE, ALICE.name)
    assert parse(archive) == parse(ALICE)


def test_spanish_group_with_a_m_p_m_and_phone_numbers() -> None:
    found = parse(HERE / "Chat de WhatsApp con Familia.txt")
    assert rows(found) == [
        ("2023-01-02 08:15:00", "system", "", 'Mamá creó el grupo "Familia 🏠"'),
        ("2023-01-02 08:15:00", "system", "", "Mamá te añadió"),
        ("2023-01-02 08:16:00", "text", "Mamá", "Buenos días familia ☀️"),
        ("2023-01-02 12:03:00", "media", "Papá", "[media]"),
        ("2023-01-02 12:40:00", "text", "+34 612 34 56 78", "Hola! soy la tía Carmen"),
        ("2023-01-03 19:02:00", "deleted", "Sam Owner", "[deleted]"),
        ("2023-01-25 21:30:00", "text", "Mamá", "¿Quién viene el domingo?\nTraed postre\ny pan"),
        ("2023-01-25 21:31:00", "text", "Sam Owner", "yo!"),
    ]
    assert found[4].sender_id == "+34612345678"
    assert all(e.is_group for e in found)
    assert {e.chat_title for e in found} == {"Familia"}


def test_german_dotted_dates() -> None:
    found = parse(HERE / "WhatsApp-Chat mit Jonas.txt")
    assert [(e.sent_at.strftime("%Y-%m-%d %H:%M"), e.kind.value) for e in found] == [
        ("2022-06-05 21:14", "system"),
        ("2022-06-05 21:14", "text"),
        ("2022-06-05 21:20", "text"),
        ("2022-06-05 21:21", "media"),
        ("2022-06-17 08:00", "deleted"),
        ("2022-06-17 08:01", "text"),
    ]
    assert found[0].chat_title == "Jonas"


def test_us_month_first_is_settled_by_a_day_above_12() -> None:
    found = parse(HERE / "WhatsApp Chat with Dana.txt")
    assert [e.sent_at.strftime("%Y-%m-%d %H:%M") for e in found] == [
        "2023-01-05 15:19",
        "2023-01-05 15:22",
        "2023-01-21 10:02",
        "2023-12-31 23:58",
    ]


def test_with_no_day_above_12_the_chronological_order_decides() -> None:
    found = parse(HERE / "WhatsApp Chat with Lee.txt")
    assert [e.sent_at.date().isoformat() for e in found] == [
        "2023-02-01",
        "2023-02-03",
        "2023-02-05",
        "2023-03-01",
        "2023-03-02",
    ]


def test_year_first_dates_without_comma() -> None:
    found = parse(HERE / "WhatsApp Chat with Mina.txt")
    assert [e.sent_at.strftime("%Y-%m-%d %H:%M") for e in found] == [
        "2023-05-04 16:13",
        "2023-05-04 16:14",
        "2023-05-14 09:00",
    ]


def test_korean_dates_with_the_am_pm_word_first() -> None:
    found = parse(HERE / "WhatsApp Chat with 지민.txt")
    assert rows(found) == [
        ("2023-05-04 16:13:00", "text", "지민", "안녕하세요"),
        ("2023-05-04 16:14:00", "text", "Sam Owner", "안녕!"),
        ("2023-05-05 09:00:00", "text", "지민", "좋은 아침"),
    ]


def test_crlf_line_ends_and_a_byte_order_mark() -> None:
    found = parse(HERE / "WhatsApp Chat with Crlf.txt")
    assert [(e.sender_name, e.text) for e in found] == [
        ("Crlf", "one\nline two"),
        ("Sam Owner", "three"),
    ]


def test_bad_lines_are_reported_with_their_number_and_skipped() -> None:
    found, problems = split(parse_whatsapp(HERE / "WhatsApp Chat with Broken.txt", tz=UTC))
    assert [(e.sender_name, e.text) for e in found] == [("Bo", "first"), ("Bo", "last")]
    assert [p.line for p in problems] == [1, 3, 5]
    assert "before the first message" in problems[0].reason
    assert "impossible" in problems[1].reason


def test_timestamps_are_read_in_the_given_zone() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    winter = events(parse_whatsapp(ALICE, tz=berlin))[1]
    assert winter.sent_at.utcoffset() == timedelta(hours=1)
    assert winter.sent_at.astimezone(UTC) == datetime(2023, 3, 14, 8, 5, tzinfo=UTC)
    summer = events(parse_whatsapp(ALICE, tz=berlin))[-1]
    assert summer.sent_at.utcoffset() == timedelta(hours=2)


def test_default_zone_is_the_machines_and_aware() -> None:
    found = events(parse_whatsapp(ALICE))
    assert all(e.sent_at.tzinfo is not None for e in found)
    assert found[1].sent_at.replace(tzinfo=None) == datetime(2023, 3, 14, 9, 5)


def test_chat_title_can_be_given() -> None:
    found = events(parse_whatsapp(ALICE, tz=UTC, chat_title="Alice M."))
    assert {e.chat_title for e in found} == {"Alice M."}
    assert {e.chat_id for e in found} == {e.chat_id for e in parse(ALICE)}


@pytest.mark.parametrize("content", ["Dear diary,\ntoday nothing happened.\n", ""])
def test_a_file_that_is_not_a_whatsapp_export_is_refused_at_once(
    tmp_path: Path, content: str
) -> None:
    path = tmp_path / "notes.txt"
    path.write_text(content)
    with pytest.raises(NotThisFormat, match="expected a WhatsApp"):
        parse_whatsapp(path)


def test_a_zip_without_a_chat_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "photos.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("IMG-1.jpg", b"\xff\xd8")
    with pytest.raises(
        NotThisFormat,
        match=r"photos\.zip: a \.zip of 1 file\(s\) in no format twin imports, not a WhatsApp",
    ):
        parse_whatsapp(archive)


def test_a_json_export_is_refused(shared_exports: Path) -> None:
    with pytest.raises(NotThisFormat):
        parse_whatsapp(shared_exports / "telegram" / "result.json")


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        parse_whatsapp(tmp_path / "nope.txt")
