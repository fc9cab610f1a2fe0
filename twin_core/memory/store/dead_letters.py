"""Events the twin could not record, kept whole so nothing is lost.

When recording a message fails (the database refuses it, or is gone), the event goes
here; when the database itself cannot take even that, to a JSON-lines file beside it.
`twin stats` counts both, and the owner is told the truth: not stored, kept aside.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, func, select

from twin_core.memory.db import Database
from twin_core.memory.models import DeadLetter
from twin_core.memory.store.sql import storable
from twin_core.types import InboundEvent

log = logging.getLogger(__name__)


def event_to_json(event: InboundEvent) -> dict[str, Any]:
    data = dataclasses.asdict(event)
    data["sent_at"] = event.sent_at.isoformat()
    data["kind"] = event.kind.value
    return data


def event_from_json(data: dict[str, Any]) -> InboundEvent:
    fields = {f.name for f in dataclasses.fields(InboundEvent)}
    values = {k: v for k, v in data.items() if k in fields}
    values["sent_at"] = datetime.fromisoformat(values["sent_at"])
    for name in ("recipients", "identities"):
        values[name] = tuple(values.get(name) or ())
    return InboundEvent(**values)


class DeadLetterRepository:
    def __init__(self, database: Database, spill: Path | None = None) -> None:
        self.database = database
        self.spill = spill
        """The file for events the database could not take even as dead letters."""

    def _session(self) -> Session:
        return self.database.session()

    def keep(self, event: InboundEvent, error: str) -> str:
        """Keep `event` aside; returns where ("the dead-letter table" or the file)."""
        payload = event_to_json(event)
        try:
            with self._session() as session:
                session.add(
                    DeadLetter(
                        channel=storable(event.channel),
                        external_id=storable(event.external_id),
                        event=json.loads(json.dumps(payload).replace("\\u0000", "\\u2400")),
                        error=storable(error),
                    )
                )
                session.commit()
            return "the dead-letter table"
        except Exception as exc:  # the database itself is failing: a file still works
            log.error("dead letter not stored in the database (%s); writing a file", exc)
            if self.spill is None:
                raise
            self.spill.parent.mkdir(parents=True, exist_ok=True)
            with self.spill.open("a", encoding="utf-8") as out:
                out.write(json.dumps({"error": error, "event": payload}) + "\n")
            return str(self.spill)

    def unresolved(self) -> list[DeadLetter]:
        with self._session() as session:
            return list(
                session.exec(
                    select(DeadLetter)
                    .where(col(DeadLetter.resolved_at).is_(None))
                    .order_by(col(DeadLetter.id))
                )
            )

    def count(self) -> int:
        with self._session() as session:
            stored = session.exec(
                select(func.count())
                .select_from(DeadLetter)
                .where(col(DeadLetter.resolved_at).is_(None))
            ).one()
        return stored + self.spilled()

    def spilled(self) -> int:
        if self.spill is None or not self.spill.is_file():
            return 0
        with self.spill.open(encoding="utf-8") as lines:
            return sum(1 for line in lines if line.strip())
