from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.support.events import T0, event
from twin_core.memory.embed import Embedder
from twin_core.memory.recall import RecallError
from twin_core.memory.service import Memory
from twin_core.memory.store import Store
from twin_core.memory.text import tokenize


def test_tokenizer_folds_case_and_splits_scripts_without_spaces() -> None:
    assert tokenize("Dinner FRIDAY, ok?") == ["dinner", "friday", "ok"]
    assert tokenize("東京駅") == ["東京", "京駅"]
    assert tokenize("Straße") == ["strasse"]


@pytest.fixture
def memory(tmp_path: Path, embedder: Embedder) -> Memory:
    store = Store.open(f"sqlite:///{tmp_path}/t.db")
    memory = Memory.open(store, tmp_path / "index", embedder=embedder)
    memory.record_many(
        [
            event("a1", "can you send the lemon pasta recipe?", at=T0),
            event(
                "a2",
                "zest and parmesan",
                sender="me",
                from_owner=True,
                at=T0 + timedelta(minutes=1),
            ),
            event(
                "b1",
                "lemon cake for the party?",
                sender="bob",
                chat="bob",
                at=T0 + timedelta(minutes=2),
            ),
        ]
    )
    memory.index()
    return memory


def test_recall_finds_the_moment_with_its_context(memory: Memory) -> None:
    first, *others = memory.recall("lemon pasta")
    assert first.message.external_id == "a1" and first.speaker == "Alice"
    assert [m.external_id for m in first.context] == ["a1", "a2"]
    assert "lemon" in first.why and "b1" in [h.message.external_id for h in others]


def test_recall_can_be_scoped_to_one_contact(memory: Memory) -> None:
    bob = memory.store.contacts.find("bob")
    hits = memory.recall("lemon", contact_id=bob.id)
    assert [h.message.external_id for h in hits] == ["b1"]


def test_recall_includes_the_owners_words_in_the_contacts_scope(memory: Memory) -> None:
    alice = memory.store.contacts.find("alice")
    hits = memory.recall("parmesan", contact_id=alice.id)
    assert hits[0].message.external_id == "a2"
    assert {h.message.contact_id for h in hits} <= {None, alice.id}


def test_index_rebuilt_from_sql_finds_the_same(memory: Memory, tmp_path: Path) -> None:
    again = Memory.open(memory.store, tmp_path / "index2", embedder=memory.recall_index.embedder)
    again.recall_index.rebuild()
    assert [h.message.id for h in again.recall("lemon")] == [
        h.message.id for h in memory.recall("lemon")
    ]


@pytest.mark.parametrize(
    ("query", "message"),
    [("", "empty query"), ("   ", "empty query"), ("?!", "no words to look for")],
)
def test_bad_queries_get_a_clear_error(memory: Memory, query: str, message: str) -> None:
    with pytest.raises(RecallError, match=message):
        memory.recall(query)


def test_huge_queries_and_unknown_contacts(memory: Memory) -> None:
    assert memory.recall("lemon " * 2000)  # 12 kB: cut, not refused
    with pytest.raises(RecallError, match="no contact with id 999"):
        memory.recall("lemon", contact_id=999)
    assert memory.recall("zeppelin") == []
