"""Per-contact policy: off, draft or auto (`PolicyMode`)."""

from __future__ import annotations

from sqlmodel import Session

from twin_core.memory.db import Database
from twin_core.memory.models import Policy
from twin_core.types import ContactId, PolicyMode, utcnow


class PolicyRepository:
    def __init__(self, database: Database) -> None:
        self.database = database

    def _session(self) -> Session:
        return self.database.session()

    def get(self, contact_id: ContactId) -> PolicyMode | None:
        """The contact's own policy; None when they have none (the default applies)."""
        with self._session() as session:
            row = session.get(Policy, contact_id)
            return PolicyMode(row.mode) if row else None

    def threshold(self, contact_id: ContactId) -> float | None:
        """The contact's own auto-send threshold; None: the configured one applies."""
        with self._session() as session:
            row = session.get(Policy, contact_id)
            return row.threshold if row else None

    def set(
        self, contact_id: ContactId, mode: PolicyMode, *, threshold: float | None = None
    ) -> PolicyMode | None:
        """Set the contact's policy (and, when given, their own auto-send threshold;
        otherwise the one they had stays); returns the policy it replaced (None: the
        default)."""
        with self._session() as session:
            row = session.get(Policy, contact_id)
            previous = PolicyMode(row.mode) if row else None
            if row is None:
                row = Policy(contact_id=contact_id, mode=mode)
            row.mode = mode
            if threshold is not None:
                row.threshold = threshold
            row.updated_at = utcnow()
            session.add(row)
            session.commit()
            return previous
