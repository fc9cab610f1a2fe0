"""Drafts: replies the twin proposes, and the states they move through.

pending -> approved -> sending -> sent, or rejected / expired / superseded / failed.
Every move is one conditional UPDATE (`move`), which is what keeps a draft from going
out twice when an approval, an expiry and a retried send race.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from twin_core.memory.db import Database
from twin_core.memory.models import Draft, DraftStatus
from twin_core.memory.store.sql import storable
from twin_core.types import ConversationId, DraftId, utcnow

OPEN = (DraftStatus.PENDING, DraftStatus.APPROVED)
"""Drafts that may still go out."""


class DraftRepository:
    def __init__(self, database: Database) -> None:
        self.database = database

    def _session(self) -> Session:
        return self.database.session()

    def add(self, draft: Draft) -> Draft:
        """Store `draft`. Its text is what a model wrote, and kept as text whatever it
        holds: NUL and lone surrogates are made storable (`store.sql.storable`), as in
        every other table, so no answer can make the draft fail to be written."""
        draft.text = storable(draft.text)
        draft.reasons = [storable(reason) for reason in draft.reasons]
        with self._session() as session:
            session.add(draft)
            session.commit()
            return draft

    def get(self, draft_id: DraftId) -> Draft | None:
        with self._session() as session:
            return session.get(Draft, draft_id)

    def with_status(self, *statuses: DraftStatus, limit: int = 50) -> list[Draft]:
        """Drafts in any of `statuses` (all when none given), oldest first."""
        query = select(Draft).order_by(col(Draft.id)).limit(limit)
        if statuses:
            query = query.where(col(Draft.status).in_([s.value for s in statuses]))
        with self._session() as session:
            return list(session.exec(query))

    def open_in(self, conversation_id: ConversationId) -> list[Draft]:
        """The drafts of a conversation that may still go out."""
        with self._session() as session:
            return list(
                session.exec(
                    select(Draft)
                    .where(
                        Draft.conversation_id == conversation_id,
                        col(Draft.status).in_([s.value for s in OPEN]),
                    )
                    .order_by(col(Draft.id))
                )
            )

    def move(
        self,
        draft_id: DraftId,
        from_statuses: Iterable[DraftStatus],
        to_status: DraftStatus,
        *,
        text: str | None = None,
    ) -> bool:
        """Move a draft between states only if it is in one of `from_statuses`.

        One conditional UPDATE: of two racing callers (an approve and an expiry, or a
        retried send) exactly one wins.
        """
        values: dict[str, Any] = {"status": to_status, "decided_at": utcnow()}
        if text is not None:
            values["text"] = storable(text)
        with self._session() as session:
            result = session.execute(
                sa.update(Draft)
                .where(
                    col(Draft.id) == draft_id,
                    col(Draft.status).in_([s.value for s in from_statuses]),
                )
                .values(**values)
            )
            session.commit()
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def counts(self) -> dict[str, int]:
        with self._session() as session:
            found = dict(
                session.exec(select(Draft.status, func.count()).group_by(Draft.status)).all()
            )
        return {status.value: found.get(status, 0) for status in DraftStatus}
