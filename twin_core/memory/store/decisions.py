"""Decisions: the twin's whole reasoning about each draft, and the owner's verdict."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, col, select

from twin_core.memory.db import Database
from twin_core.memory.models import Decision
from twin_core.types import DraftId, utcnow

VERDICTS = ("good", "bad")


class DecisionRepository:
    def __init__(self, database: Database) -> None:
        self.database = database

    def _session(self) -> Session:
        return self.database.session()

    def add(self, decision: Decision) -> Decision:
        with self._session() as session:
            session.add(decision)
            session.commit()
            session.refresh(decision)
            return decision

    def for_draft(self, draft_id: DraftId) -> Decision | None:
        with self._session() as session:
            return session.exec(select(Decision).where(Decision.draft_id == draft_id)).first()

    def judge(self, draft_id: DraftId, verdict: str) -> str | None:
        """Record the owner's verdict on a draft's decision; the verdict it replaced
        (None: the first). Raises KeyError when the draft has no decision."""
        if verdict not in VERDICTS:
            raise ValueError(f"a verdict is one of {', '.join(VERDICTS)}")
        with self._session() as session:
            row = session.exec(select(Decision).where(Decision.draft_id == draft_id)).first()
            if row is None:
                raise KeyError(draft_id)
            previous = row.verdict
            session.execute(
                sa.update(Decision)
                .where(col(Decision.id) == row.id)
                .values(verdict=verdict, verdict_at=utcnow())
            )
            session.commit()
            return previous

    def judged(self) -> list[Decision]:
        """Every decision the owner gave a verdict on, oldest first."""
        with self._session() as session:
            return list(
                session.exec(
                    select(Decision)
                    .where(col(Decision.verdict).is_not(None))
                    .order_by(col(Decision.id))
                )
            )

    def judged_count(self) -> int:
        with self._session() as session:
            return int(
                session.exec(
                    select(sa.func.count())
                    .select_from(Decision)
                    .where(col(Decision.verdict).is_not(None))
                ).one()
            )
