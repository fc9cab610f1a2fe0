"""The people tables' repository: facts, commitments and relationships, read and closed.

Writing what extraction finds happens in `people.service`, in the same transaction
that moves the watermark, so a message is never counted or extracted twice.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from twin_core.memory.db import Database
from twin_core.memory.people.models import Commitment, CommitmentStatus, Fact, Relationship
from twin_core.types import ContactId, MessageId, utcnow


class PeopleRepository:
    def __init__(self, database: Database) -> None:
        self.database = database

    def _session(self) -> Session:
        return self.database.session()

    # -- facts ------------------------------------------------------------------------

    def facts(self, contact_id: ContactId, *, current: bool = True) -> list[Fact]:
        """What is held about (and was said to) `contact_id`, newest first; only what
        still holds unless `current` is False."""
        query = select(Fact).where(Fact.contact_id == contact_id)
        if current:
            query = query.where(col(Fact.valid_until).is_(None))
        query = query.order_by(col(Fact.stated_at).desc(), col(Fact.id).desc())
        with self._session() as session:
            return list(session.exec(query))

    def fact(self, fact_id: int) -> Fact | None:
        with self._session() as session:
            return session.get(Fact, fact_id)

    def forget_fact(self, fact_id: int) -> Fact | None:
        """Delete fact `fact_id`; the one it had superseded holds again."""
        with self._session() as session:
            fact = session.get(Fact, fact_id)
            if fact is None:
                return None
            session.execute(
                sa.update(Fact)
                .where(col(Fact.superseded_by) == fact_id)
                .values(superseded_by=fact.superseded_by, valid_until=fact.valid_until)
            )
            session.delete(fact)
            session.commit()
            return fact

    # -- commitments --------------------------------------------------------------------

    def commitments(
        self,
        contact_id: ContactId | None = None,
        *,
        status: CommitmentStatus | None = None,
    ) -> list[Commitment]:
        query = select(Commitment)
        if contact_id is not None:
            query = query.where(Commitment.contact_id == contact_id)
        if status is not None:
            query = query.where(Commitment.status == status)
        query = query.order_by(
            col(Commitment.due_at).is_(None), col(Commitment.due_at), col(Commitment.made_at)
        )
        with self._session() as session:
            return list(session.exec(query))

    def commitment(self, commitment_id: int) -> Commitment | None:
        with self._session() as session:
            return session.get(Commitment, commitment_id)

    def close(
        self,
        commitment_id: int,
        reason: str,
        *,
        by_message: MessageId | None = None,
        at: datetime | None = None,
    ) -> bool:
        """Mark a commitment done; False when it was not open (closed already, or gone).
        Conditional on its status, so two closers never both succeed."""
        with self._session() as session:
            result = session.execute(
                sa.update(Commitment)
                .where(col(Commitment.id) == commitment_id)
                .where(col(Commitment.status) == CommitmentStatus.OPEN.value)
                .values(
                    status=CommitmentStatus.DONE.value,
                    closed_at=at or utcnow(),
                    closed_reason=reason,
                    closed_by_message_id=by_message,
                )
            )
            session.commit()
            return bool(result.rowcount)  # type: ignore[attr-defined]

    # -- relationships ------------------------------------------------------------------

    def relationship(self, contact_id: ContactId) -> Relationship | None:
        with self._session() as session:
            return session.get(Relationship, contact_id)

    def relationships(self) -> list[Relationship]:
        with self._session() as session:
            return list(session.exec(select(Relationship)))
