"""`Memory`: the one door through which messages enter the twin's memory.

Everything recorded (live or imported) goes to SQL first, exactly once, and only the
rows that are new are indexed for recall.
"""

from __future__ import annotations

from collections.abc import Iterable

from twin_core.memory.models import Message
from twin_core.memory.recall import Recall, RecallHit
from twin_core.memory.store import Recorded, Store
from twin_core.types import InboundEvent


class Memory:
    def __init__(self, store: Store, recall: Recall | None = None) -> None:
        self.store = store
        self.recall_index = recall or Recall(store)

    @classmethod
    def open(cls, store: Store) -> Memory:
        memory = cls(store)
        memory.recall_index.rebuild()
        return memory

    def record(self, event: InboundEvent, *, draft_id: int | None = None) -> Recorded:
        recorded = self.store.record(event, draft_id=draft_id)
        if recorded.created:
            self.recall_index.add(recorded.message)
        return recorded

    def record_many(self, events: Iterable[InboundEvent]) -> list[Message]:
        new = self.store.record_many(events)
        for message in new:
            self.recall_index.add(message)
        return new

    def recall(
        self, query: str, *, contact_id: int | None = None, limit: int = 5
    ) -> list[RecallHit]:
        return self.recall_index.recall(query, contact_id=contact_id, limit=limit)
