"""Recall beyond the query's exact words: related words, and the period a query names."""

from __future__ import annotations

import dataclasses
import gzip
import logging
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app import open_memory as open_twin_memory
from tests.memory.test_recall import CHATTER, ids, open_memory
from tests.support.events import T0, event
from twin_core.memory import related as related_module
from twin_core.memory.embed import Embedder
from twin_core.memory.related import RelatedWords
from twin_core.memory.service import Memory
from twin_core.settings import load_settings


@pytest.fixture
def memory(tmp_path: Path, embedder: Embedder) -> Memory:
    memory = open_memory(tmp_path, embedder)
    turns = [
        event(f"c{i}", text, from_owner=i % 2 == 1, at=T0 + timedelta(days=i))
        for i, text in enumerate(CHATTER)
    ]
    turns += [
        event("k1", "my karate class was brutal tonight", at=T0 + timedelta(days=12)),
        # Dinner at Luigi's on three days of one month: only the day tells them apart.
        event("d1", "dinner at Luigi's was lovely, what a dinner", at=T0 + timedelta(days=40)),
        event("d2", "dinner at Luigi's was lovely, what a dinner", at=T0 + timedelta(days=45)),
        event("d3", "dinner at Luigi's was lovely", at=T0 + timedelta(days=50)),
        event("j1", "James called about the karate tournament", sender="james", chat="james"),
    ]
    memory.record_many(turns)
    memory.index()
    return memory


def test_the_shipped_table_relates_words_the_model_puts_together() -> None:
    table = RelatedWords.shipped()
    assert len(table) > 20_000
    assert "karate" in [word for word, _ in table.of("martial")]
    assert all(0.5 <= cosine <= 1.0 for _, cosine in table.of("bought"))
    assert table.of("no-such-word") == ()
    # Words that say when are never widened nor reached: "July" must not find June.
    for word in ("july", "yesterday", "weekend", "any"):
        assert table.of(word) == ()
    assert "june" not in [word for word, _ in table.of("summer") + table.of("holiday")]


def test_expansion_leaves_out_the_query_words_and_names() -> None:
    table = RelatedWords({"camping": (("camp", 0.8), ("tent", 0.7)), "john": (("james", 0.9),)})
    assert table.expand("camping with John", names={"john"}) == {"tent": (0.7, "camping")}


def test_a_message_sharing_no_word_is_found_through_a_related_one(memory: Memory) -> None:
    hits = memory.recall_index.recall("martial arts lately?", limit=3, mode="words")
    assert ids(hits)[0] == "k1"
    assert "karate (~martial)" in hits[0].why


def test_related_words_never_outweigh_the_query_word_itself(memory: Memory) -> None:
    recall = memory.recall_index
    hits = recall.recall("karate", limit=2, mode="words")
    assert set(ids(hits)) == {"k1", "j1"}
    assert all("~" not in hit.why for hit in hits)
    recall.tuning = dataclasses.replace(recall.tuning, related_weight=0.0)
    assert "k1" not in ids(recall.recall("martial arts lately?", limit=3, mode="words"))


def test_a_named_day_picks_the_message_of_that_day(memory: Memory) -> None:
    day = (T0 + timedelta(days=45)).strftime("%d %B %Y")
    [best, *_] = memory.recall(f"where did we have dinner on {day}?")
    assert best.message.external_id == "d2"
    assert f"sent in {day}" in best.why


def test_the_period_is_searched_on_its_own_so_years_of_others_cannot_hide_it(
    memory: Memory,
) -> None:
    recall = memory.recall_index
    # Only the best two of each side are fused, and the other two dinners match the
    # words better: without its own search of the period, that day's message is lost.
    recall.tuning = dataclasses.replace(recall.tuning, candidates=2)
    day = (T0 + timedelta(days=50)).strftime("%d %B %Y")
    assert ids(recall.recall(f"dinner at Luigi's on {day}", limit=1)) == ["d3"]


def test_a_broken_table_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.tsv.gz"
    with gzip.open(path, "wt") as out:
        out.write("camping\tcamp:0.8\n")
        out.write("beach\tocean:high\n")
    with pytest.raises(ValueError, match=r"bad.tsv.gz:2"):
        RelatedWords.read(path)


def test_a_missing_table_leaves_recall_on_exact_words(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(related_module, "DEFAULT_TABLE", tmp_path / "gone.tsv.gz")
    RelatedWords.shipped.cache_clear()
    try:
        with caplog.at_level(logging.WARNING):
            assert len(RelatedWords.shipped()) == 0
        assert "exact words only" in caplog.text
    finally:
        RelatedWords.shipped.cache_clear()


def test_examples_for_a_reply_are_alike_in_words_not_in_date(memory: Memory) -> None:
    # The composer asks for messages like the one being answered: a date in it must not
    # pull in whatever was said that day.
    day = (T0 + timedelta(days=50)).strftime("%d %B %Y")
    hits = memory.recall_index.similar_contact_messages(f"dinner at Luigi's on {day}?")
    first = memory.store.messages.by_ids([hits[0].doc_id])[hits[0].doc_id]
    assert first.external_id in {"d1", "d2"}


def test_the_owners_time_zone_reaches_recall(tmp_path: Path, embedder: Embedder) -> None:
    settings = load_settings({"TWIN_HOME": str(tmp_path), "TWIN_TIMEZONE": "Asia/Tokyo"})
    memory = open_twin_memory(settings, embedder=embedder)
    try:
        assert memory.recall_index.timezone == ZoneInfo("Asia/Tokyo")
    finally:
        memory.close()
        memory.store.close()
