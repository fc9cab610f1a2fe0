"""Issue 16: an interrupted or repeated import does not redo finished work.

Each batch's commit is followed by a checkpoint (how many of the export's messages are
stored, and a running hash of them); a run again hashes those messages without handing
them to SQL, and goes on from there. Real parser, real SQLite store; what the store is
handed is counted by wrapping `record_many`.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from twin_core.memory.importers import run as import_run
from twin_core.memory.importers import whatsapp
from twin_core.memory.importers.run import ExportFormat, ImportService
from twin_core.memory.models import Message
from twin_core.memory.store import Store
from twin_core.types import InboundEvent

OWNER = "Sam Owner"


def chat(count: int, *, changed: int | None = None) -> str:
    """A WhatsApp (Android) group export of `count` messages; message `changed` (if
    any) says something else."""
    people = [OWNER, "Alice Martin", "Bo"]
    moment = datetime(2021, 3, 1, 8, 0)
    lines = [f'{moment:%d/%m/%Y, %H:%M} - Alice Martin created group "Resume"\n']
    for number in range(count):
        moment += timedelta(minutes=1 + number % 3)
        text = f"message {number}" if number != changed else "something else entirely"
        lines.append(f"{moment:%d/%m/%Y, %H:%M} - {people[number % 3]}: {text}\n")
    return "".join(lines)


class Counting:
    """`record_many` as it is, counting the events it is handed."""

    def __init__(self, store: Store) -> None:
        self.handed = 0
        self.calls = 0
        real = store.messages.record_many

        def record_many(events: Iterable[InboundEvent]) -> int:
            batch = list(events)
            self.handed += len(batch)
            self.calls += 1
            return real(batch)

        store.messages.record_many = record_many  # type: ignore[method-assign]


class Killed(Exception):
    pass


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(f"sqlite:///{tmp_path}/twin.db")
    yield opened
    opened.close()


@pytest.fixture
def export(tmp_path: Path) -> Path:
    path = tmp_path / "WhatsApp Chat with Resume.txt"
    path.write_text(chat(60), encoding="utf-8")
    return path


def ids(store: Store) -> list[str]:
    with Session(store.engine) as session:
        return list(session.exec(select(Message.external_id)))


def kill_at(count: int) -> object:
    def progress(done: int) -> None:
        if done >= count:
            raise Killed

    return progress


def test_an_interrupted_import_resumes_where_its_last_batch_committed(
    tmp_path: Path, store: Store, export: Path
) -> None:
    whole = Store.open(f"sqlite:///{tmp_path / 'whole.db'}")
    expected = ImportService(whole).run(ExportFormat.WHATSAPP, export, me=[OWNER], tz=UTC)
    expected_ids = sorted(ids(whole))
    whole.close()

    service = ImportService(store, batch_size=10)
    with pytest.raises(Killed):
        service.run(ExportFormat.WHATSAPP, export, me=[OWNER], tz=UTC, on_progress=kill_at(30))
    assert store.messages.count() == 30

    counting = Counting(store)
    resumed: list[int] = []
    progress: list[int] = []
    summary = service.run(
        ExportFormat.WHATSAPP,
        export,
        me=[OWNER],
        tz=UTC,
        on_progress=progress.append,
        on_resume=resumed.append,
    )
    # The reader starts again at the last message whose minute began before the
    # checkpoint (a repeat in that minute needs the counter): what precedes it is neither
    # parsed nor handed to SQL.
    at = summary.resumed_at
    assert 25 <= at <= 30 and resumed == [at]
    assert counting.handed == expected.read - at
    assert progress[0] > at and progress[-1] == expected.read
    assert (summary.read, summary.new, summary.already_stored) == (expected.read, 31, 30)
    # The summary counts the whole export, the skipped part included.
    assert (summary.from_owner, summary.contacts, summary.conversations) == (
        expected.from_owner,
        expected.contacts,
        expected.conversations,
    )
    assert sorted(ids(store)) == expected_ids  # everything, each once


def test_a_finished_import_run_again_reads_nothing(
    store: Store, export: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = ImportService(store, batch_size=10)
    first = service.run(ExportFormat.WHATSAPP, export, me=[OWNER], tz=UTC)
    counting = Counting(store)
    opened: list[Path] = []
    real_open = import_run.open_export

    def open_export(*args: object, **kwargs: object) -> object:
        opened.append(args[1])  # type: ignore[arg-type]
        return real_open(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(import_run, "open_export", open_export)
    again = service.run(ExportFormat.WHATSAPP, export, me=[OWNER], tz=UTC)
    assert again.unchanged and (again.read, again.new) == (first.read, 0)
    assert opened == [] and counting.calls == 0
    assert again.as_dict()["already_imported"] is True
    # Asked to, it reads the whole export again, and still stores nothing twice.
    fresh = service.run(ExportFormat.WHATSAPP, export, me=[OWNER], tz=UTC, from_start=True)
    assert (fresh.unchanged, fresh.resumed_at, fresh.new) == (False, 0, 0)
    assert counting.handed == first.read
    assert store.messages.count() == first.read


def test_a_longer_later_export_hands_only_the_new_messages_to_the_store(
    tmp_path: Path, store: Store, export: Path
) -> None:
    service = ImportService(store, batch_size=7)
    first = service.run(ExportFormat.WHATSAPP, export, me=[OWNER], tz=UTC)
    later = tmp_path / "chat-later.txt"  # renamed, too: no title from the name
    later.write_text(chat(75), encoding="utf-8")
    counting = Counting(store)
    summary = service.run(ExportFormat.WHATSAPP, later, me=[OWNER], tz=UTC)
    # From the last message of the first export on: the next message could have been in
    # its minute (every message here has a minute of its own).
    assert summary.resumed_at == first.read - 1
    assert counting.handed == 16 and summary.new == 15
    assert store.messages.count() == first.read + 15


def test_a_changed_earlier_part_imports_from_the_start_without_duplicates(
    tmp_path: Path, store: Store, export: Path
) -> None:
    service = ImportService(store, batch_size=10)
    first = service.run(ExportFormat.WHATSAPP, export, me=[OWNER], tz=UTC)
    before = set(ids(store))
    edited = tmp_path / "edited.txt"
    edited.write_text(chat(70, changed=40), encoding="utf-8")
    counting = Counting(store)
    summary = service.run(ExportFormat.WHATSAPP, edited, me=[OWNER], tz=UTC)
    # Message 40 differs: nothing can be skipped, all of it goes through the store,
    # which keeps what it has and adds the changed message and the ten new ones.
    assert summary.resumed_at == 0
    assert counting.handed == summary.read == 71
    assert summary.new == 11
    after = ids(store)
    assert len(after) == len(set(after)) == first.read + 11
    assert before <= set(after)


def test_another_owner_does_not_reuse_the_checkpoint(store: Store, export: Path) -> None:
    service = ImportService(store, batch_size=10)
    with pytest.raises(Killed):
        service.run(ExportFormat.WHATSAPP, export, me=[OWNER], tz=UTC, on_progress=kill_at(20))
    counting = Counting(store)
    summary = service.run(ExportFormat.WHATSAPP, export, me=["Bo"], tz=UTC)
    assert summary.resumed_at == 0 and counting.handed == summary.read


def telegram_chat(path: Path, count: int, *, edited: int | None = None) -> Path:
    """A Telegram Desktop one-chat export: ids from the platform, so an edited message
    keeps its id."""
    moment = datetime(2020, 1, 1, 9, 0)
    messages = [
        {
            "id": 100 + number,
            "type": "message",
            "date": (moment + timedelta(minutes=number)).isoformat(),
            "from": "Henry" if number % 2 else OWNER,
            "from_id": 4325636679 if number % 2 else 111000111,
            "text": f"line {number}" + (" (edited)" if number == edited else ""),
        }
        for number in range(count)
    ]
    chat = {"name": "Henry", "type": "personal_chat", "id": 4325636679, "messages": messages}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(chat), encoding="utf-8")
    return path


def test_an_edited_message_with_a_platform_id_invalidates_the_checkpoint(
    tmp_path: Path, store: Store
) -> None:
    service = ImportService(store, batch_size=8)
    first = service.run(
        ExportFormat.TELEGRAM, telegram_chat(tmp_path / "result.json", 40), me=[OWNER], tz=UTC
    )
    edited = telegram_chat(tmp_path / "edited" / "result.json", 50, edited=5)
    counting = Counting(store)
    summary = service.run(ExportFormat.TELEGRAM, edited, me=[OWNER], tz=UTC)
    # Same ids, other text at message 5: the whole export goes through the store again,
    # which keeps one row per id and adds the ten new ones.
    assert summary.resumed_at == 0 and counting.handed == 50
    assert (summary.read, summary.new) == (50, 10)
    assert store.messages.count() == first.read + 10


def test_a_whatsapp_zip_is_known_by_its_chat_text_not_its_media(
    tmp_path: Path, store: Store, export: Path
) -> None:
    def zipped(name: str, photo: bytes) -> Path:
        path = tmp_path / name
        with zipfile.ZipFile(path, "w") as archive:
            archive.write(export, "_chat.txt")
            archive.writestr("00000012-PHOTO-2021-03-01-08-05-10.jpg", photo)
        return path

    service = ImportService(store)
    first = service.run(
        ExportFormat.WHATSAPP, zipped("one.zip", b"\xff\xd8\xff" * 1000), me=[OWNER], tz=UTC
    )
    again = service.run(ExportFormat.WHATSAPP, zipped("two.zip", b"\xff\xd8"), me=[OWNER], tz=UTC)
    assert first.new == first.read > 0
    assert again.unchanged and again.read == first.read
    assert (again.contacts, again.conversations) == (first.contacts, first.conversations)


def test_a_resumed_whatsapp_import_does_not_parse_the_stored_part(
    tmp_path: Path, store: Store, export: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed = 0
    real_event = whatsapp._Chat.event

    def event(self: whatsapp._Chat, *args: Any) -> InboundEvent:
        nonlocal parsed
        parsed += 1
        return real_event(self, *args)

    monkeypatch.setattr(whatsapp._Chat, "event", event)
    monkeypatch.setattr(import_run, "QUICK_OWNER_CHECK", 5)
    service = ImportService(store, batch_size=10)
    with pytest.raises(Killed):
        service.run(ExportFormat.WHATSAPP, export, me=[OWNER], tz=UTC, on_progress=kill_at(40))
    parsed = 0
    summary = service.run(ExportFormat.WHATSAPP, export, me=[OWNER], tz=UTC)
    assert summary.resumed_at >= 35 and summary.read == 61
    # The chat's id (its first text messages) and the owner check (5) read the start;
    # then only what follows the place resumed from.
    assert parsed <= 3 + 5 + (61 - summary.resumed_at) + 2
    assert store.messages.count() == 61


def test_a_whatsapp_export_in_another_zone_is_not_resumed_from_bytes(
    store: Store, export: Path
) -> None:
    service = ImportService(store, batch_size=10)
    with pytest.raises(Killed):
        service.run(ExportFormat.WHATSAPP, export, me=[OWNER], tz=UTC, on_progress=kill_at(30))
    counting = Counting(store)
    berlin = ZoneInfo("Europe/Berlin")
    summary = service.run(ExportFormat.WHATSAPP, export, me=[OWNER], tz=berlin)
    # Same bytes, other times: nothing may be skipped.
    assert summary.resumed_at == 0 and counting.handed == summary.read == 61


def test_an_interrupted_import_of_a_zip_resumes_inside_it(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "WhatsApp Chat - Resume.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("_chat.txt", chat(60).replace("\n", "\r\n"))  # as iOS writes
    service = ImportService(store, batch_size=10)
    with pytest.raises(Killed):
        service.run(ExportFormat.WHATSAPP, path, me=[OWNER], tz=UTC, on_progress=kill_at(30))
    counting = Counting(store)
    summary = service.run(ExportFormat.WHATSAPP, path, me=[OWNER], tz=UTC)
    assert 25 <= summary.resumed_at <= 30
    assert counting.handed == 61 - summary.resumed_at and summary.new == 31
    after = ids(store)
    assert len(after) == len(set(after)) == 61


def test_other_bytes_with_the_same_messages_resume_by_their_hash(
    tmp_path: Path, store: Store, export: Path
) -> None:
    service = ImportService(store, batch_size=10)
    with pytest.raises(Killed):
        service.run(ExportFormat.WHATSAPP, export, me=[OWNER], tz=UTC, on_progress=kill_at(30))
    # The same chat with Windows line ends: no byte before the place recorded is the
    # same, but every message is, so the 30 stored are parsed and hashed, not stored.
    crlf = tmp_path / "crlf.txt"
    crlf.write_bytes(export.read_bytes().replace(b"\n", b"\r\n"))
    counting = Counting(store)
    summary = service.run(ExportFormat.WHATSAPP, crlf, me=[OWNER], tz=UTC)
    assert summary.resumed_at == 30 and counting.handed == 31 and summary.new == 31


def test_a_file_that_only_starts_the_same_is_not_already_imported(
    tmp_path: Path, store: Store
) -> None:
    # The record of a finished import is found by the file's first 64 KiB and holds
    # for the whole file only.
    first = tmp_path / "chat.txt"
    first.write_text(chat(3000), encoding="utf-8")
    assert first.stat().st_size > import_run.FINISHED_HEAD
    service = ImportService(store)
    service.run(ExportFormat.WHATSAPP, first, me=[OWNER], tz=UTC)
    first.write_text(chat(3100), encoding="utf-8")
    summary = service.run(ExportFormat.WHATSAPP, first, me=[OWNER], tz=UTC)
    assert not summary.unchanged and summary.new == 100 and summary.resumed_at > 2900
    assert service.run(ExportFormat.WHATSAPP, first, me=[OWNER], tz=UTC).unchanged
