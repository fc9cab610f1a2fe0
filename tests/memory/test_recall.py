"""Hybrid recall: both sides, context, fusion, indexing as SQL grows, and bad input."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from tests.support.cli import Cli, CliResult
from tests.support.events import T0, event
from twin_core.memory.embed import Embedder, Vectors, normalize_rows
from twin_core.memory.index import Scope
from twin_core.memory.recall import Recall, RecallError
from twin_core.memory.service import Memory
from twin_core.memory.store import Store

CHATTER = [
    "did you watch the game last night?",
    "the traffic this morning was terrible",
    "can you pick up milk on the way home",
    "my sister is moving to Lisbon in March",
    "I need a new phone, mine keeps freezing",
    "the dentist moved my appointment to Thursday",
    "we should try the new ramen place",
    "my sister said the weather is great today",
    "the cat knocked over the plant again",
    "moving the couch took us all afternoon",
]


class HashEmbedder:
    """A stand-in embedding model of another name: vectors from hashes of the words."""

    name = "test:hash-words"
    dimension = 384

    def embed(self, texts: Sequence[str]) -> Vectors:
        rows = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in zip(rows, texts, strict=True):
            for word in text.lower().split():
                row[int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimension] += 1
        return normalize_rows(rows)

    async def aembed(self, texts: Sequence[str]) -> Vectors:
        return await asyncio.to_thread(self.embed, texts)


def open_memory(folder: Path, embedder: Embedder, name: str = "index") -> Memory:
    store = Store.open(f"sqlite:///{folder}/t.db")
    return Memory.open(store, folder / name, embedder=embedder, owner_name="Sam")


@pytest.fixture
def memory(tmp_path: Path, embedder: Embedder) -> Memory:
    memory = open_memory(tmp_path, embedder)
    turns = [
        event(
            f"c{i}",
            text,
            sender="alice",
            from_owner=i % 2 == 1,
            at=T0 + timedelta(days=i),
        )
        for i, text in enumerate(CHATTER)
    ]
    turns += [
        event("q1", "which car did you buy in the end?", at=T0 + timedelta(days=30)),
        event(
            "q2",
            "the blue one, it was cheaper",
            from_owner=True,
            sender="me",
            at=T0 + timedelta(days=30, minutes=1),
        ),
        event("b1", "lemon cake for the party?", sender="bob", chat="bob", at=T0),
    ]
    memory.record_many(turns)
    memory.index()
    return memory


def ids(hits: Sequence[object]) -> list[str]:
    return [h.message.external_id for h in hits]  # type: ignore[attr-defined]


def test_a_paraphrase_is_found_by_meaning_and_not_drowned_by_shared_words(
    memory: Memory,
) -> None:
    # "sister" and "moving" also appear in unrelated messages: the fused ranking must
    # still put the one that means the same thing first.
    [best, *_] = memory.recall("when is your sibling relocating to Portugal")
    assert best.message.external_id == "c3"
    assert "meaning" in best.sides and "similar meaning" in best.why


def test_an_answer_is_found_by_the_words_of_the_question_before_it(memory: Memory) -> None:
    hits = memory.recall("which car did you buy", limit=3)
    assert {"q1", "q2"} <= set(ids(hits))
    answer = next(h for h in hits if h.message.external_id == "q2")
    assert "turns around it" in answer.why and answer.speaker == "you"
    assert [m.external_id for m in answer.context] == ["q1", "q2"]


def test_each_mode_says_which_side_found_it(memory: Memory) -> None:
    recall = memory.recall_index
    [words] = recall.recall("lemon cake", limit=1, mode="words")
    [meaning] = recall.recall("a dessert for the celebration", limit=1, mode="meaning")
    assert words.message.external_id == meaning.message.external_id == "b1"
    assert words.matched == ("lemon", "cake") and words.sides[0] == "words"


def test_preferring_a_contact_lifts_their_messages(memory: Memory) -> None:
    bob = memory.store.contacts.find("bob")
    plain = ids(memory.recall_index.recall("party plans", limit=13))
    preferred = ids(memory.recall_index.recall("party plans", limit=13, prefer_contact_id=bob.id))
    assert preferred.index("b1") <= plain.index("b1")
    assert preferred[0] == "b1"


def test_indexing_is_incremental_idempotent_and_follows_imports(
    memory: Memory, embedder: Embedder, tmp_path: Path
) -> None:
    index = memory.recall_index.index
    assert index is not None
    assert index.count() == len(CHATTER) + 3
    assert not memory.record(event("c0", "a re-delivered message is stored once")).created
    assert memory.index() == 0 and index.count() == len(CHATTER) + 3
    # An importer writes straight to SQL; recording never indexes (that is the
    # indexer's job, off the message's path); the next catch-up takes both.
    memory.store.messages.record_many([event("i1", "the plumber comes on Monday", at=T0)])
    memory.record(event("n1", "see you soon", at=T0 + timedelta(days=40)))
    assert index.count() == len(CHATTER) + 3 and memory.pending() == 2
    assert memory.index() == 2 and memory.index() == 0
    assert index.count() == len(CHATTER) + 5
    assert ids(memory.recall("plumber", limit=1)) == ["i1"]
    alice = memory.store.contacts.find("alice")
    assert alice.id is not None
    assert index.count(Scope.contact(alice.id)) == len(CHATTER) + 4


def test_a_deleted_index_is_reported_with_the_fix_and_messages_are_still_stored(
    memory: Memory, embedder: Embedder, tmp_path: Path
) -> None:
    memory.close()
    shutil.rmtree(tmp_path / "index")
    again = Memory.open(memory.store, tmp_path / "index", embedder=embedder, owner_name="Sam")
    with pytest.raises(RecallError, match="twin reindex"):
        again.recall("lemon")
    recorded = again.record(event("late", "lemon tart recipe"))
    assert recorded.created and again.store.messages.get(recorded.message.id or 0) is not None
    assert again.index() == 0  # no index to fill: the message waits in SQL
    assert again.recall_index.rebuild() == len(CHATTER) + 4
    assert ids(again.recall("lemon tart", limit=1)) == ["late"]
    again.close()


def test_an_index_of_another_embedding_model_is_refused_with_the_fix(
    memory: Memory, tmp_path: Path
) -> None:
    memory.close()
    other = Memory.open(memory.store, tmp_path / "index", embedder=HashEmbedder())
    assert other.recall_index.problem is not None
    assert "test:hash-words" in other.recall_index.problem
    with pytest.raises(RecallError, match="twin reindex"):
        other.recall("lemon")
    other.recall_index.rebuild()
    assert ids(other.recall("lemon cake", limit=1)) == ["b1"]
    other.close()


@pytest.mark.parametrize(
    ("query", "message"),
    [("", "empty query"), ("  \n ", "empty query"), ("?!", "no words to look for")],
)
def test_bad_queries_get_a_clear_error(memory: Memory, query: str, message: str) -> None:
    with pytest.raises(RecallError, match=message):
        memory.recall(query)


def test_huge_stopword_and_unmatched_queries_answer_without_crashing(memory: Memory) -> None:
    assert ids(memory.recall("lemon cake " * 1000, limit=1)) == ["b1"]  # 11 kB, cut
    memory.recall("what is it")  # only stopwords: the dense side still answers
    assert memory.recall("xylophone zeppelin quasar") == []
    with pytest.raises(RecallError, match="no contact with id 999"):
        memory.recall("lemon", contact_id=999)


def test_examples_come_from_contacts_only(memory: Memory) -> None:
    hits = memory.recall_index.similar_contact_messages("which car should I buy?")
    found = memory.store.messages.by_ids([h.doc_id for h in hits])
    assert found and not any(m.from_owner for m in found.values())
    assert "q1" in [m.external_id for m in found.values()]


def test_recall_without_an_index_location_cannot_rebuild(memory: Memory) -> None:
    bare = Recall(memory.store, None, memory.recall_index.embedder)
    with pytest.raises(RecallError, match="twin reindex"):
        bare.recall("lemon")
    with pytest.raises(RecallError, match="no index location"):
        bare.rebuild()


def test_twin_reindex_rebuilds_a_deleted_index(cli: Cli, tmp_path: Path) -> None:
    def twin(*args: str) -> CliResult:
        return cli(*args, env={"TWIN_HOME": str(tmp_path)})

    script = tmp_path / "s.txt"
    script.write_text("@alice can you send me the lemon pasta recipe?\n")
    assert twin("console", "--script", str(script)).exit_code == 0
    shutil.rmtree(tmp_path / "index")
    broken = twin("recall", "lemon")
    assert broken.exit_code == 1 and "twin reindex" in broken.output
    rebuilt = twin("reindex")
    assert rebuilt.exit_code == 0, rebuilt.stderr
    assert "indexed 1 messages" in rebuilt.stdout
    found = twin("recall", "lemon")
    assert found.exit_code == 0 and "lemon pasta" in found.stdout


class CountingEmbedder:
    """The shipped model, with a record of every text it was asked to embed."""

    def __init__(self, model: Embedder) -> None:
        self.model = model
        self.name, self.dimension = model.name, model.dimension
        self.texts: list[str] = []

    def embed(self, texts: Sequence[str]) -> Vectors:
        self.texts.extend(texts)
        return self.model.embed(texts)

    async def aembed(self, texts: Sequence[str]) -> Vectors:
        return await asyncio.to_thread(self.embed, texts)


class Interrupted(Exception):
    """Stands for Ctrl-C in the middle of `twin reindex`."""


def test_an_interrupted_rebuild_resumes_without_redoing_finished_batches(
    memory: Memory, tmp_path: Path
) -> None:
    total = memory.store.messages.count()
    memory.close()
    counting = CountingEmbedder(memory.recall_index.embedder)

    def fresh() -> Recall:
        return Recall(memory.store, None, counting, owner_name="Sam", location=tmp_path / "index")

    def interrupt(done: int, total: int) -> None:
        raise Interrupted

    first = fresh()
    with pytest.raises(Interrupted):
        first.rebuild(interrupt, batch=8)  # stops once the first batch is in
    first.close()
    assert counting.texts and not any("lemon cake" in t for t in counting.texts)
    counting.texts.clear()

    resumed = fresh()
    assert resumed.rebuild(batch=8) == total - 8
    # The first batch's opening turns are far from anything new: not embedded again
    # (its last ones are, as the context of the turns after them).
    assert not any("watch the game" in t for t in counting.texts)
    assert any("lemon cake" in t for t in counting.texts)
    assert ids(resumed.recall("did you see the match yesterday", limit=1)) == ["c0"]
    resumed.close()

    # A finished rebuild is not resumed: asked again, it starts over.
    again = fresh()
    assert again.rebuild(batch=8) == total
    again.close()


def test_merged_contacts_are_found_under_the_contact_they_joined(tmp_path: Path) -> None:
    memory = Memory.open(Store.open(f"sqlite:///{tmp_path}/m.db"), tmp_path / "index")
    try:
        memory.record_many(
            [
                event("a1", "the plumber comes on Monday", sender="alice", chat="a", at=T0),
                event("b1", "my new number, same Alice", sender="alice2", chat="b", at=T0),
            ]
        )
        memory.index()
        alice, other = (memory.store.contacts.find(n) for n in ("alice", "alice2"))
        assert alice.id is not None and other.id is not None
        memory.merge_contacts(other.id, alice.id)
        hits = memory.recall("new number", contact_id=alice.id)
        assert [h.message.external_id for h in hits][:1] == ["b1"]
    finally:
        memory.close()
        memory.store.close()


def test_optimizing_after_a_bulk_load_keeps_every_answer(tmp_path: Path) -> None:
    from bot.progress import optimize_if_large

    memory = Memory.open(Store.open(f"sqlite:///{tmp_path}/o.db"), tmp_path / "index")
    try:
        memory.record_many(
            [
                event(f"m{i}", f"note {i} about the garden", at=T0 + timedelta(minutes=i))
                for i in range(50)
            ]
            + [event("x", "the plumber comes on Monday", at=T0 + timedelta(hours=5))]
        )
        memory.index()
        before = [h.message.id for h in memory.recall("plumber monday")]
        assert not optimize_if_large(memory.recall_index, 51, threshold=100)
        assert optimize_if_large(memory.recall_index, 51, threshold=50)
        assert [h.message.id for h in memory.recall("plumber monday")] == before
        assert before and memory.store.messages.get(before[0] or 0).external_id == "x"  # type: ignore[union-attr]
    finally:
        memory.close()
        memory.store.close()


def test_the_same_words_from_two_speakers_are_embedded_once_and_still_told_apart(
    tmp_path: Path, embedder: Embedder
) -> None:
    counting = CountingEmbedder(embedder)
    memory = Memory.open(
        Store.open(f"sqlite:///{tmp_path}/s.db"), tmp_path / "index", embedder=counting
    )
    try:
        memory.record_many(
            [
                event("a", "sounds good", sender="alice", chat="a", at=T0),
                event("o", "sounds good", sender="me", chat="a", from_owner=True, at=T0),
                event("b", "sounds good", sender="bob", chat="b", at=T0 + timedelta(days=2)),
            ]
        )
        memory.index()
        assert counting.texts.count("sounds good") == 1  # one text, whoever said it
        assert not any(": " in text for text in counting.texts)  # no "alice: sounds good"
        # Who said it is still in the vector: asked as Bob, Bob's comes first.
        dense = memory.recall_index.recall("bob: sounds good", mode="meaning", limit=3)
        assert [h.message.external_id for h in dense][:1] == ["b"]
    finally:
        memory.close()
        memory.store.close()


def test_an_index_built_the_earlier_way_keeps_working_until_reindexed(
    tmp_path: Path, embedder: Embedder
) -> None:
    from twin_core.memory.recall import Tuning

    store = Store.open(f"sqlite:///{tmp_path}/e.db")
    earlier = Memory.open(
        store, tmp_path / "index", embedder=embedder, tuning=Tuning(speaker_weight=None)
    )
    earlier.record_many([event("p", "the plumber comes on Monday", sender="alice", at=T0)])
    earlier.index()
    earlier.close()

    now = Memory.open(store, tmp_path / "index", embedder=embedder)
    assert now.recall_index.problem is None  # opened as it was built, not refused
    assert now.recall_index.tuning.speaker_weight is None
    assert [h.message.external_id for h in now.recall("plumber monday")] == ["p"]
    now.recall_index.rebuild()  # `twin reindex`: built the current way
    assert now.recall_index.tuning.speaker_weight == Tuning().speaker_weight
    now.close()

    after = Memory.open(store, tmp_path / "index", embedder=embedder)
    assert after.recall_index.rebuild_tuning is None
    assert after.recall_index.index is not None
    assert "speaker=" in after.recall_index.index.spec.embedder
    assert [h.message.external_id for h in after.recall("plumber monday")] == ["p"]
    after.close()
    store.close()


def test_each_optimization_while_indexing_gives_the_freed_heap_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from twin_core.memory.recall import indexer

    released: list[bool] = []
    monkeypatch.setattr(indexer, "OPTIMIZE_EVERY", 20)
    monkeypatch.setattr(indexer, "release_free_heap", lambda: released.append(True) or True)
    memory = Memory.open(Store.open(f"sqlite:///{tmp_path}/h.db"), tmp_path / "index")
    try:
        memory.record_many(
            [
                event(f"m{i}", f"note {i} about the garden", at=T0 + timedelta(minutes=i))
                for i in range(50)
            ]
        )
        memory.recall_index.catch_up(batch=10)
        assert len(released) == 2  # after the optimizations at 20 and 40 points
    finally:
        memory.close()
        memory.store.close()


def test_freed_heap_is_given_back_on_glibc() -> None:
    from twin_core.memory.index.heap import _libc, release_free_heap

    if _libc() is None:
        pytest.skip("this C library has no malloc_trim (not glibc)")
    garbage = [bytearray(4096) for _ in range(20_000)]  # 80 MB of small blocks
    del garbage
    assert release_free_heap()
