"""Issue 10, items 1 and 2: an export's identity is its content, never its file name.

The same export renamed (a browser's `(1)`, a user's tidy name) adds nothing the second
time; a later export with more messages adds only those; an unzipped folder imports.
"""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import pytest

from tests.memory.importers.conftest import FIXTURES, events
from twin_core.memory.importers.run import ExportFormat, ImportService
from twin_core.memory.importers.whatsapp import parse_whatsapp
from twin_core.memory.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """SQLite only: what is tested here does not depend on the database (the store's
    contract suite runs on PostgreSQL too), and the suite stays fast."""
    opened = Store.open(f"sqlite:///{tmp_path}/twin.db")
    yield opened
    opened.close()


ALICE = FIXTURES / "whatsapp" / "WhatsApp Chat with Alice Martin.txt"
ALICE_LATER = FIXTURES / "whatsapp" / "later" / ALICE.name
ALICE_IOS = FIXTURES / "whatsapp" / "WhatsApp Chat - Alice Martin"


def test_a_renamed_whatsapp_export_adds_nothing_twice(
    shared_exports: Path, tmp_path: Path, store: Store
) -> None:
    original = shared_exports / "whatsapp" / "whatsapp_chat.txt"
    renamed = tmp_path / "WhatsApp Chat with Dr. Feather (1).txt"
    shutil.copy(original, renamed)
    service = ImportService(store)
    first = service.run(ExportFormat.WHATSAPP, original, me=["Jungle Jane"], tz=UTC)
    second = service.run(ExportFormat.WHATSAPP, renamed, me=["Jungle Jane"], tz=UTC)
    assert first.new == first.read > 0
    assert (second.read, second.new) == (first.read, 0)
    assert store.stats()["messages"] == first.read
    # The browser's "(1)" is not part of the chat's title.
    assert {e.chat_title for e in events(parse_whatsapp(renamed, tz=UTC))} == {"Dr. Feather"}
    assert {e.chat_title for e in events(parse_whatsapp(original, tz=UTC))} == {""}


def test_a_later_export_under_another_name_adds_only_the_new_messages(
    tmp_path: Path, store: Store
) -> None:
    later = tmp_path / "chat-backup.txt"
    shutil.copy(ALICE_LATER, later)
    service = ImportService(store)
    first = service.run(ExportFormat.WHATSAPP, ALICE, me=["Sam Owner"], tz=UTC)
    second = service.run(ExportFormat.WHATSAPP, later, me=["Sam Owner"], tz=UTC)
    assert (second.read, second.new) == (first.read + 2, 2)
    assert second.conversations == 1 and store.stats()["conversations"] == 1


def test_two_different_chats_stay_two(store: Store) -> None:
    service = ImportService(store)
    service.run(ExportFormat.WHATSAPP, ALICE, me=["Sam Owner"], tz=UTC)
    other = FIXTURES / "whatsapp" / "WhatsApp Chat with Dana.txt"
    ids = {e.chat_id for e in events(parse_whatsapp(other, tz=UTC))}
    assert ids.isdisjoint({e.chat_id for e in events(parse_whatsapp(ALICE, tz=UTC))})


def test_an_unzipped_ios_folder_imports(store: Store) -> None:
    summary = ImportService(store).run(ExportFormat.WHATSAPP, ALICE_IOS, me=["Sam Owner"], tz=UTC)
    assert summary.read > 0 and summary.new == summary.read
    assert {e.chat_title for e in events(parse_whatsapp(ALICE_IOS, tz=UTC))} == {"Alice Martin"}


def test_an_unzipped_android_folder_with_media_imports_as_its_text_file(tmp_path: Path) -> None:
    folder = tmp_path / "WhatsApp Chat with Alice Martin"
    folder.mkdir()
    shutil.copy(ALICE, folder / ALICE.name)
    (folder / "IMG-20230315-WA0001.jpg").write_bytes(b"\xff\xd8\xff\xe0")
    (folder / "PTT-20230315-WA0002.opus").write_bytes(b"OggS")
    from_folder = events(parse_whatsapp(folder, tz=UTC))
    from_file = events(parse_whatsapp(ALICE, tz=UTC))
    assert [(e.external_id, e.chat_id, e.chat_title) for e in from_folder] == [
        (e.external_id, e.chat_id, e.chat_title) for e in from_file
    ]
    # The zip the folder came from is the same chat too.
    archive = tmp_path / "WhatsApp Chat with Alice Martin.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for file in folder.iterdir():
            out.write(file, file.name)
    assert [e.external_id for e in events(parse_whatsapp(archive, tz=UTC))] == [
        e.external_id for e in from_file
    ]


_RENAMABLE = [
    (ExportFormat.TELEGRAM, FIXTURES / "telegram" / "ChatExport_2020-01-02", ["Sam Owner"]),
    (ExportFormat.DISCORD, FIXTURES / "discord" / "export", ["sam"]),
    (ExportFormat.SLACK, FIXTURES / "slack" / "workspace", ["U01SAM"]),
    (ExportFormat.MBOX, FIXTURES / "mbox" / "takeout.mbox", ["sam@example.com"]),
    (
        ExportFormat.WHATSAPP,
        FIXTURES / "whatsapp" / "Chat de WhatsApp con Familia.txt",
        ["Sam Owner"],
    ),
]


@pytest.mark.parametrize(("export_format", "path", "me"), _RENAMABLE, ids=lambda v: str(v)[-12:])
def test_every_format_renamed_adds_nothing_twice(
    tmp_path: Path, store: Store, export_format: ExportFormat, path: Path, me: list[str]
) -> None:
    copy = tmp_path / ("export (1)" + path.suffix)
    if path.is_dir():
        shutil.copytree(path, copy)
    else:
        shutil.copy(path, copy)
    service = ImportService(store)
    first = service.run(export_format, path, me=me, ask=lambda c: None, tz=UTC)
    second = service.run(export_format, copy, me=me, ask=lambda c: None, tz=UTC)
    assert first.read > 0 and first.new > 0
    assert (second.read, second.new) == (first.read, 0)
    assert second.conversations == first.conversations
