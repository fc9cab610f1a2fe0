"""The relational store: one repository per noun over one database.

    store = Store.open(url)
    recorded = store.messages.record(event)
    store.drafts.move(draft_id, [DraftStatus.PENDING], DraftStatus.APPROVED)
    store.audit.record(OWNER_ACTOR, "approved", "Alice", "you approved draft 3")

Each repository owns one noun's table(s) and runs short transactions of its own.
Queries shaped for one caller live next to it (recall's in `memory.recall.queries`, the
composer's in `style.queries`). The same contract suite runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from twin_core.memory.db import Database
from twin_core.memory.store.audit import (
    OWNER_ACTOR,
    SYSTEM_ACTOR,
    TWIN_ACTOR,
    AuditLog,
    contact_actor,
)
from twin_core.memory.store.contacts import (
    AmbiguousContact,
    ContactRepository,
    Merged,
    UnknownContact,
)
from twin_core.memory.store.conversations import ConversationRepository
from twin_core.memory.store.dead_letters import DeadLetterRepository
from twin_core.memory.store.decisions import DecisionRepository
from twin_core.memory.store.drafts import DraftRepository
from twin_core.memory.store.jobs import JobRepository
from twin_core.memory.store.messages import MessageRepository, Recorded
from twin_core.memory.store.policies import PolicyRepository
from twin_core.memory.store.state import StateRepository

__all__ = [
    "OWNER_ACTOR",
    "SYSTEM_ACTOR",
    "TWIN_ACTOR",
    "AmbiguousContact",
    "Merged",
    "Recorded",
    "Store",
    "UnknownContact",
    "contact_actor",
]


class Store:
    """Every repository, over one `Database`."""

    def __init__(self, database: Database, *, spill: Path | None = None) -> None:
        self.database = database
        self.contacts = ContactRepository(database)
        self.conversations = ConversationRepository(database)
        self.messages = MessageRepository(database, self.contacts, self.conversations)
        self.drafts = DraftRepository(database)
        self.policies = PolicyRepository(database)
        self.decisions = DecisionRepository(database)
        self.audit = AuditLog(database)
        self.state = StateRepository(database)
        self.jobs = JobRepository(database)
        self.dead_letters = DeadLetterRepository(database, spill)

    @classmethod
    def open(cls, url: str, *, spill: Path | None = None) -> Store:
        """Open (creating and migrating as needed) the database at `url`. `spill` is the
        file dead letters go to when the database cannot take them."""
        return cls(Database.open(url), spill=spill)

    @property
    def engine(self) -> Any:
        return self.database.engine

    def close(self) -> None:
        self.database.close()

    def stats(self) -> dict[str, Any]:
        return {
            "contacts": self.contacts.count(),
            "conversations": self.conversations.count(),
            "messages": self.messages.count(),
            "drafts": self.drafts.counts(),
            "audit_entries": self.audit.count(),
            "dead_letters": self.dead_letters.count(),
        }
