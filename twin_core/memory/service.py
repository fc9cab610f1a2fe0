"""`Memory`: the one door through which messages enter the twin's memory.

Everything recorded (live or imported) goes to SQL first, exactly once; then recall's
index catches up with SQL (the new rows, and anything an import stored meanwhile). An
index that fails is reported and never loses a message: SQL has it, and `twin reindex`
indexes it again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, tzinfo
from pathlib import Path

from twin_core.memory.embed import Embedder, make_embedder
from twin_core.memory.index import VectorIndexError
from twin_core.memory.models import Contact
from twin_core.memory.recall import Progress, Recall, RecallHit, Tuning
from twin_core.memory.store import Recorded, Store
from twin_core.types import InboundEvent

log = logging.getLogger(__name__)


class Memory:
    def __init__(self, store: Store, recall: Recall) -> None:
        self.store = store
        self.recall_index = recall
        self.indexed_on_open = 0
        """How many stored messages `open` had to index (a large number: optimize)."""

    @classmethod
    def open(
        cls,
        store: Store,
        index: Path | str,
        *,
        embedder: Embedder | None = None,
        owner_name: str = "you",
        tuning: Tuning | None = None,
        progress: Progress | None = None,
        timezone: tzinfo = UTC,
    ) -> Memory:
        """Memory over `store` with its vector index at `index` (a folder, or a Qdrant
        server URL); indexes whatever was stored and not indexed yet."""
        recall = Recall.open(
            store,
            index,
            embedder or make_embedder(),
            owner_name=owner_name,
            tuning=tuning,
            timezone=timezone,
        )
        memory = cls(store, recall)
        memory.indexed_on_open = memory.catch_up(progress)
        return memory

    def close(self) -> None:
        self.recall_index.close()

    def catch_up(self, progress: Progress | None = None) -> int:
        """Index what SQL has and the index has not; a failing index is logged, since
        the messages are safe in SQL."""
        try:
            return self.recall_index.catch_up(progress)
        except VectorIndexError as exc:
            log.warning("indexing for recall failed (messages are stored): %s", exc)
            self.recall_index.problem = str(exc)
            return 0

    def record(self, event: InboundEvent, *, draft_id: int | None = None) -> Recorded:
        recorded = self.store.record(event, draft_id=draft_id)
        if recorded.created:
            self.catch_up()
        return recorded

    def record_many(self, events: Iterable[InboundEvent]) -> int:
        """Store a batch (see `Store.record_many`) and index it; returns how many were new."""
        new = self.store.record_many(events)
        if new:
            self.catch_up()
        return new

    def merge_contacts(self, source_id: int, target_id: int) -> Contact:
        """`source_id` is the same person as `target_id`: one contact, and recall files
        their messages under it."""
        contact = self.store.merge_contacts(source_id, target_id)
        try:
            self.recall_index.refile_contact(target_id)
        except VectorIndexError as exc:
            log.warning("re-filing %s for recall failed: %s", contact.name, exc)
        return contact

    def recall(
        self, query: str, *, contact_id: int | None = None, limit: int = 5, context: int = 1
    ) -> list[RecallHit]:
        return self.recall_index.recall(query, contact_id=contact_id, limit=limit, context=context)
