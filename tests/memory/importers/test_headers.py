"""Issue 10, item 7: recall's hits name people, not files."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

from tests.memory.importers.conftest import FIXTURES
from twin_core.memory.embed import Embedder
from twin_core.memory.importers.run import ExportFormat, ImportService
from twin_core.memory.service import Memory
from twin_core.memory.store import Store


def test_hits_of_imported_chats_are_headed_by_the_contact(
    shared_exports: Path, tmp_path: Path, embedder: Embedder
) -> None:
    store = Store.open(f"sqlite:///{tmp_path}/t.db")
    memory = Memory.open(store, tmp_path / "index", embedder=embedder)
    try:
        service = ImportService(store)
        # A file name that names nobody, and a Discord DM named by a username.
        service.run(
            ExportFormat.WHATSAPP,
            shared_exports / "whatsapp" / "whatsapp_chat.txt",
            me=["Jungle Jane"],
            tz=UTC,
        )
        service.run(ExportFormat.DISCORD, shared_exports / "discord" / "dm_kai.json", me=["sam"])
        memory.index()
        macaw = memory.recall("Hyacinth Macaw rainforest")[0]
        assert macaw.conversation == "Dr. Feather"
        ramen = memory.recall("ramen place near the station")[0]
        assert ramen.message.channel == "discord" and ramen.conversation == "Kai"
    finally:
        memory.close()


def test_a_group_is_headed_by_its_title_or_its_people(store: Store) -> None:
    service = ImportService(store)
    service.run(
        ExportFormat.WHATSAPP,
        FIXTURES / "whatsapp" / "Chat de WhatsApp con Familia.txt",
        me=["Sam Owner"],
        tz=UTC,
    )
    (family,) = store.conversations.headers(_ids(store)).values()
    assert family == "Familia"


def test_an_untitled_group_is_headed_by_the_people_in_it(tmp_path: Path, store: Store) -> None:
    renamed = tmp_path / "chat.txt"
    renamed.write_bytes((FIXTURES / "whatsapp" / "Chat de WhatsApp con Familia.txt").read_bytes())
    ImportService(store).run(ExportFormat.WHATSAPP, renamed, me=["Sam Owner"], tz=UTC)
    (header,) = store.conversations.headers(_ids(store)).values()
    assert header.startswith("group with ") and "Mamá" in header


def _ids(store: Store) -> list:  # type: ignore[type-arg]
    from sqlmodel import Session, select

    from twin_core.memory.models import Conversation

    with Session(store.engine) as session:
        return [c.id for c in session.exec(select(Conversation))]
