"""Issue 10, item 8: a live contact who is someone already imported is told apart from
a stranger, and one command gives the twin their history."""

from __future__ import annotations

from datetime import UTC

from tests.memory.importers.conftest import FIXTURES
from tests.support.harness import Harness
from twin_core.memory.importers.run import ExportFormat, ImportService

ALICE = FIXTURES / "whatsapp" / "WhatsApp Chat with Alice Martin.txt"


async def test_a_new_contact_named_like_an_imported_one_is_offered_the_merge(h: Harness) -> None:
    ImportService(h.twin.store).run(ExportFormat.WHATSAPP, ALICE, me=["Sam Owner"], tz=UTC)
    imported = h.twin.store.contacts.find("Alice Martin")
    await h.says("alice.m", "hey! new number, it's Alice", name="Alice Martin")
    [notice] = h.control()
    new = h.twin.store.contacts.find("Alice Martin (fake)")
    assert "New contact: Alice Martin (fake) goes by the name of Alice Martin" in notice
    assert "5 message(s) in your history" in notice
    assert f"/merge #{imported.id} #{new.id}" in notice
    # The line says why the twin had nothing to go by, before "No draft".
    assert notice.index("New contact") < notice.index("No draft")
    assert (await h.command(f"/merge #{imported.id} #{new.id}"))[0].startswith(
        "Alice Martin (fake) is now part of Alice Martin"
    )
    await h.says("alice.m", "are we still on for lunch?", name="Alice Martin")
    assert not any("New contact" in line for line in h.control())


async def test_a_stranger_gets_no_such_line(h: Harness) -> None:
    ImportService(h.twin.store).run(ExportFormat.WHATSAPP, ALICE, me=["Sam Owner"], tz=UTC)
    await h.says("zoe", "hello, we met at the conference")
    [notice] = h.control()
    assert "New contact" not in notice and "/merge" not in notice


async def test_a_handle_that_matches_a_username_counts_too(h: Harness) -> None:
    await h.says("kai_r", "yo", name="Kai R.")
    h.control()
    await h.says("kai-live", "yo again", name="kai_r")
    [notice] = h.control()
    assert "goes by the name of Kai R." in notice
