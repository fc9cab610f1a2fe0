"""`Memory`: the store and recall's index, kept in step.

Everything recorded (live or imported) goes to SQL first, exactly once, and nothing
else happens on that path: recording is fast and never waits for a model. Recall's
index catches up with SQL separately (`index()`): the bot's indexer after new messages,
a job for an import's backlog, `twin reindex` for a rebuild. An index that fails is
reported and never loses a message: SQL has it, and the next catch-up indexes it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, tzinfo
from pathlib import Path

from twin_core.memory.embed import Embedder, make_embedder
from twin_core.memory.index import VectorIndexError
from twin_core.memory.recall import Progress, Recall, RecallHit, Tuning
from twin_core.memory.store import Merged, Recorded, Store
from twin_core.types import ContactId, InboundEvent

log = logging.getLogger(__name__)


class Memory:
    def __init__(self, store: Store, recall: Recall) -> None:
        self.store = store
        self.recall_index = recall

    @classmethod
    def open(
        cls,
        store: Store,
        index: Path | str,
        *,
        embedder: Embedder | None = None,
        owner_name: str = "you",
        tuning: Tuning | None = None,
        timezone: tzinfo = UTC,
    ) -> Memory:
        """Memory over `store` with its vector index at `index` (a folder, or a Qdrant
        server URL). Indexes nothing yet: call `index()` for what is pending."""
        recall = Recall.open(
            store,
            index,
            embedder or make_embedder(),
            owner_name=owner_name,
            tuning=tuning,
            timezone=timezone,
        )
        return cls(store, recall)

    def close(self) -> None:
        self.recall_index.close()

    def pending(self) -> int:
        """Messages stored and not yet indexed for recall."""
        return self.recall_index.pending()

    def index(self, progress: Progress | None = None, *, wait: bool = True) -> int:
        """Index what SQL has and the index has not; returns how many were read. A
        failing index is logged and reported in `problem`: the messages are safe in SQL."""
        try:
            return self.recall_index.catch_up(progress, wait=wait)
        except VectorIndexError as exc:
            log.warning("indexing for recall failed (messages are stored): %s", exc)
            self.recall_index.problem = str(exc)
            return 0

    def record(self, event: InboundEvent) -> Recorded:
        return self.store.messages.record(event)

    def record_many(self, events: Iterable[InboundEvent]) -> int:
        """Store a batch (see `MessageRepository.record_many`); returns how many were new."""
        return self.store.messages.record_many(events)

    def merge_contacts(self, source_id: ContactId, target_id: ContactId) -> Merged:
        """`source_id` is the same person as `target_id`: one contact, and recall files
        their messages under it."""
        merged = self.store.contacts.merge(source_id, target_id)
        from twin_core.memory.people import PeopleMemory

        PeopleMemory(self.store).rebuild_relationship(target_id)
        try:
            self.recall_index.refile_contact(target_id)
        except VectorIndexError as exc:
            log.warning("re-filing %s for recall failed: %s", merged.kept.name, exc)
        return merged

    def recall(
        self,
        query: str,
        *,
        contact_id: ContactId | None = None,
        limit: int = 5,
        context: int = 1,
    ) -> list[RecallHit]:
        return self.recall_index.recall(query, contact_id=contact_id, limit=limit, context=context)
