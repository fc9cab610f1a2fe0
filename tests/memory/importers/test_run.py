from __future__ import annotations

import shutil
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from tests.memory.importers.conftest import FIXTURES
from twin_core.memory.importers.common import NotThisFormat
from twin_core.memory.importers.run import (
    Candidate,
    ExportFormat,
    ImportService,
    OwnerUnknown,
)
from twin_core.memory.models import Contact, Conversation, Message
from twin_core.memory.store import Store

ALICE = FIXTURES / "whatsapp" / "WhatsApp Chat with Alice Martin.txt"
ALICE_LATER = FIXTURES / "whatsapp" / "later" / ALICE.name
FAMILY = FIXTURES / "whatsapp" / "Chat de WhatsApp con Familia.txt"
TELEGRAM_ACCOUNT = FIXTURES / "telegram" / "account"
SLACK = FIXTURES / "slack" / "workspace"


def rows(store: Store) -> set[tuple[Any, ...]]:
    """Everything an import writes, independent of row ids."""
    with Session(store.engine) as session:
        names = {c.id: c.name for c in session.exec(select(Contact))}
        chats = {
            c.id: (c.external_id, c.is_group, names.get(c.contact_id))
            for c in session.exec(select(Conversation))
        }
        return {
            (
                m.channel,
                m.external_id,
                m.from_owner,
                names.get(m.contact_id),
                chats[m.conversation_id],
                m.kind,
                m.text,
                m.sent_at,
                m.reply_to,
                m.raw,
            )
            for m in session.exec(select(Message))
        }


def test_whatsapp_import_marks_the_owner_and_makes_contacts(store: Store) -> None:
    service = ImportService(store)
    summary = service.run(ExportFormat.WHATSAPP, ALICE, me=["Sam Owner"], tz=UTC)
    assert (summary.read, summary.new, summary.from_owner, summary.problems) == (12, 12, 6, 0)
    assert (summary.contacts, summary.new_contacts, summary.conversations) == (1, 1, 1)
    assert summary.owner.source == "--me"
    stored = rows(store)
    assert {r[3] for r in stored if r[2]} == {None}  # the owner's messages have no contact
    assert {r[3] for r in stored if not r[2] and r[5] != "system"} == {"Alice Martin"}
    # A one-to-one chat belongs to the one other person.
    assert {r[4][1:] for r in stored} == {(False, "Alice Martin")}
    assert {r[4][0][:3] for r in stored} == {"wa-"}  # the chat's id comes from its content
    assert [c.name for c in store.contacts.all()] == ["Alice Martin"]
    assert store.audit.entries(action="import")[-1].detail["new_messages"] == 12


def test_importing_again_adds_nothing_and_a_later_export_only_what_is_new(store: Store) -> None:
    service = ImportService(store)
    service.run(ExportFormat.WHATSAPP, ALICE, me=["Sam Owner"], tz=UTC)
    before = rows(store)
    again = service.run(ExportFormat.WHATSAPP, ALICE, me=["Sam Owner"], tz=UTC)
    assert (again.read, again.new, again.already_stored) == (12, 0, 12)
    assert rows(store) == before
    later = service.run(ExportFormat.WHATSAPP, ALICE_LATER, me=["Sam Owner"], tz=UTC)
    assert (later.read, later.new) == (14, 2)
    assert len(rows(store)) == 14


class Killed(Exception):
    pass


def test_an_import_killed_half_way_and_run_again_ends_with_the_same_rows(
    tmp_path: Path, store: Store
) -> None:
    whole = Store.open(f"sqlite:///{tmp_path / 'whole.db'}")
    ImportService(whole).run(ExportFormat.SLACK, SLACK, me=["U01SAM"])
    expected = rows(whole)
    whole.close()

    service = ImportService(store, batch_size=3)

    def die(done: int) -> None:
        if done >= 6:
            raise Killed

    with pytest.raises(Killed):
        service.run(ExportFormat.SLACK, SLACK, me=["U01SAM"], on_progress=die)
    assert 0 < len(rows(store)) < len(expected)
    summary = service.run(ExportFormat.SLACK, SLACK, me=["U01SAM"])
    assert summary.new == len(expected) - 6
    assert rows(store) == expected


def test_owner_from_settings(store: Store) -> None:
    service = ImportService(store, owner_handles={"slack": ["U01SAM"]}, owner_name="Owner")
    summary = service.run(ExportFormat.SLACK, SLACK)
    assert summary.owner.source == "settings"
    assert summary.from_owner == 6


def test_owner_name_from_settings(store: Store) -> None:
    summary = ImportService(store, owner_name="Sam Owner").run(
        ExportFormat.WHATSAPP, FAMILY, tz=UTC
    )
    assert (summary.owner.source, summary.from_owner) == ("settings", 2)


def test_a_telegram_account_export_names_its_owner(store: Store) -> None:
    summary = ImportService(store).run(ExportFormat.TELEGRAM, TELEGRAM_ACCOUNT, tz=UTC)
    assert summary.owner.source == "telegram account"
    assert summary.from_owner == 4
    assert "Sam Owner" not in {c.name for c in store.contacts.all()}


def test_asks_once_with_candidates_and_their_counts(store: Store) -> None:
    asked: list[list[Candidate]] = []

    def ask(candidates: list[Candidate]) -> Candidate | None:
        asked.append(candidates)
        return next(c for c in candidates if c.name == "Sam Owner")

    summary = ImportService(store).run(ExportFormat.WHATSAPP, FAMILY, ask=ask, tz=UTC)
    assert len(asked) == 1
    assert [(c.name, c.messages) for c in asked[0]] == [
        ("Mamá", 2),
        ("Sam Owner", 2),
        ("Papá", 1),
        ("+34 612 34 56 78", 1),
    ]
    assert (summary.owner.source, summary.from_owner) == ("asked", 2)


def test_answering_nobody_imports_everyone_as_a_contact(store: Store) -> None:
    summary = ImportService(store).run(ExportFormat.WHATSAPP, FAMILY, ask=lambda _: None, tz=UTC)
    assert (summary.owner.source, summary.from_owner, summary.contacts) == ("nobody", 0, 4)


def test_a_me_that_matches_nobody_writes_nothing_and_names_the_senders(store: Store) -> None:
    with pytest.raises(OwnerUnknown, match=r"nobody in .* is Samuel; the senders are: Mamá"):
        ImportService(store).run(ExportFormat.WHATSAPP, FAMILY, me=["Samuel"], tz=UTC)
    assert store.stats()["messages"] == 0


def test_without_any_way_to_know_the_owner_it_says_to_use_me(store: Store) -> None:
    with pytest.raises(OwnerUnknown, match="Say it with --me"):
        ImportService(store).run(ExportFormat.WHATSAPP, FAMILY, tz=UTC)
    assert store.stats()["messages"] == 0


def test_the_wrong_format_is_refused_before_anything_is_written(store: Store) -> None:
    with pytest.raises(NotThisFormat, match="import it with `twin import whatsapp`"):
        ImportService(store).run(ExportFormat.TELEGRAM, ALICE, me=["x"])
    assert store.stats()["messages"] == 0


def test_problems_are_counted_and_listed(store: Store) -> None:
    broken = FIXTURES / "whatsapp" / "WhatsApp Chat with Broken.txt"
    summary = ImportService(store).run(ExportFormat.WHATSAPP, broken, me=["Bo"], tz=UTC)
    assert (summary.read, summary.problems) == (2, 3)
    assert [p.line for p in summary.problem_list] == [1, 3, 5]
    assert summary.as_dict()["skipped"] == 3


def test_every_format_imports(tmp_path: Path, store: Store) -> None:
    service = ImportService(store)
    mail = FIXTURES / "mbox" / "takeout.mbox"
    discord = FIXTURES / "discord" / "export"
    results = {
        "telegram": service.run(ExportFormat.TELEGRAM, TELEGRAM_ACCOUNT, tz=UTC),
        "discord": service.run(ExportFormat.DISCORD, discord, me=["111111111111111111"], tz=UTC),
        "slack": service.run(ExportFormat.SLACK, SLACK, me=["Sam Owner"]),
        "mbox": service.run(ExportFormat.MBOX, mail, me=["sam@example.com"]),
    }
    assert {k: (v.read, v.from_owner) for k, v in results.items()} == {
        "telegram": (16, 4),
        "discord": (11, 3),
        "slack": (16, 6),
        "mbox": (8, 1),
    }
    assert store.stats()["messages"] == 16 + 11 + 16 + 8


def test_a_copy_of_the_export_elsewhere_is_the_same_history(tmp_path: Path, store: Store) -> None:
    copy = tmp_path / "export" / ALICE.name
    copy.parent.mkdir()
    shutil.copy(ALICE, copy)
    service = ImportService(store)
    service.run(ExportFormat.WHATSAPP, ALICE, me=["Sam Owner"], tz=UTC)
    assert service.run(ExportFormat.WHATSAPP, copy, me=["Sam Owner"], tz=UTC).new == 0
    with Session(store.engine) as session:
        assert session.exec(select(sa.func.count()).select_from(Conversation)).one() == 1
