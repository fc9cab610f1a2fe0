"""The audit log: everything the twin does, and everything done to it, with why.

Two guards. The database refuses UPDATE and DELETE on the table (triggers, see the
migrations). And the entries form a hash chain: entry n carries `seq = n`, the hash of
entry n-1, and a SHA-256 over its own content and that hash. Whatever gets past the
triggers (SQLite's `INSERT OR REPLACE`, a PostgreSQL role that can drop them, an edited
file) breaks the chain at the first entry it touched, and `verify()` names it. What a
chain cannot show on its own: entries cut off the end. `twin audit --verify` prints the
last entry's hash so the owner can note it elsewhere (docs/SECURITY.md).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, or_, select

from twin_core.memory.db import Database
from twin_core.memory.models import AuditEntry
from twin_core.memory.store.sql import storable
from twin_core.types import utcnow

OWNER_ACTOR = "owner"
TWIN_ACTOR = "twin"
SYSTEM_ACTOR = "system"
GENESIS = "0" * 64
"""The previous hash of the first entry."""
_WRITE_TRIES = 20


def contact_actor(contact_id: int) -> str:
    return f"contact:{contact_id}"


def entry_hash(
    seq: int,
    prev_hash: str,
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    why: str,
    detail: dict[str, Any],
) -> str:
    """The SHA-256 of one entry's content and its predecessor's hash."""
    canonical = json.dumps(
        [seq, prev_hash, at.astimezone(UTC).isoformat(), actor, action, subject, why, detail],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def hash_of(entry: AuditEntry) -> str:
    return entry_hash(
        entry.seq or 0,
        entry.prev_hash,
        entry.at,
        entry.actor,
        entry.action,
        entry.subject,
        entry.why,
        entry.detail,
    )


@dataclass(frozen=True, slots=True)
class Verdict:
    """What `verify()` found: `broken` is None when the chain is whole."""

    entries: int
    head: str
    """The last entry's hash: note it elsewhere to detect entries cut off the end."""
    broken: str | None = None
    entry_id: int | None = None


class AuditLog:
    # Writers in one process take turns here; other processes are kept apart by the
    # unique `seq` (a loser of the race retries with the next number).
    _lock = threading.Lock()

    def __init__(self, database: Database) -> None:
        self.database = database

    def _session(self) -> Session:
        return self.database.session()

    def record(
        self, actor: str, action: str, subject: str = "", why: str = "", **detail: Any
    ) -> AuditEntry:
        """Append one entry to the chain."""
        clean = json.loads(json.dumps(detail, default=str).replace("\\u0000", "\\u2400"))
        subject, why, actor = storable(subject), storable(why), storable(actor)[:200]
        last_error: Exception | None = None
        for _ in range(_WRITE_TRIES):
            with self._lock, self._session() as session:
                head = session.exec(
                    select(AuditEntry.seq, AuditEntry.hash)
                    .where(col(AuditEntry.seq).is_not(None))
                    .order_by(col(AuditEntry.seq).desc())
                    .limit(1)
                ).first()
                seq, prev = ((head[0] or 0) + 1, head[1]) if head else (1, GENESIS)
                at = utcnow()
                entry = AuditEntry(
                    seq=seq,
                    at=at,
                    actor=actor,
                    action=action[:64],
                    subject=subject,
                    why=why,
                    detail=clean,
                    prev_hash=prev,
                    hash=entry_hash(seq, prev, at, actor, action[:64], subject, why, clean),
                )
                session.add(entry)
                try:
                    session.commit()
                except (sa.exc.IntegrityError, sa.exc.OperationalError) as exc:
                    # Another process took this number (or held the lock): next one.
                    session.rollback()
                    last_error = exc
                    continue
                return entry
        raise RuntimeError(f"could not append to the audit log: {last_error}")

    def entries(
        self,
        *,
        action: str | None = None,
        actor: str | None = None,
        subject: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = 100,
    ) -> list[AuditEntry]:
        """The newest `limit` entries that match, oldest first."""
        query = select(AuditEntry).order_by(col(AuditEntry.seq).desc()).limit(limit)
        if action is not None:
            query = query.where(AuditEntry.action == action)
        if actor is not None:
            query = query.where(AuditEntry.actor == actor)
        if subject is not None:
            query = query.where(func.lower(AuditEntry.subject) == subject.lower())
        if since is not None:
            query = query.where(col(AuditEntry.at) >= since)
        if until is not None:
            query = query.where(col(AuditEntry.at) < until)
        with self._session() as session:
            return list(reversed(session.exec(query).all()))

    def count(self) -> int:
        with self._session() as session:
            return session.exec(select(func.count()).select_from(AuditEntry)).one()

    def _chain(self, batch: int = 5_000) -> Iterator[AuditEntry]:
        """Every entry: first the rows with no place in the chain (no `seq`, or one
        below 1, which the twin never writes: a forged row `twin audit` would list as
        the oldest), then the chain by place."""
        with self._session() as session:
            unplaced = session.exec(
                select(AuditEntry)
                .where(or_(col(AuditEntry.seq).is_(None), col(AuditEntry.seq) < 1))
                .order_by(col(AuditEntry.id))
            ).all()
        yield from unplaced
        last_seq = 0
        while True:
            with self._session() as session:
                rows = session.exec(
                    select(AuditEntry)
                    .where(col(AuditEntry.seq) > last_seq)
                    .order_by(col(AuditEntry.seq))
                    .limit(batch)
                ).all()
            if not rows:
                return
            yield from rows
            last_seq = rows[-1].seq or last_seq

    def verify(self) -> Verdict:
        """Walk the chain; the first entry rewritten, removed or moved breaks it."""
        expected_seq, prev, count = 1, GENESIS, 0
        ids: list[int] = []
        for entry in self._chain():
            count += 1
            where = f"entry {entry.seq if entry.seq is not None else '?'} (id {entry.id})"
            if entry.seq is None or entry.seq < 1:
                return Verdict(count, prev, f"{where} has no place in the chain", entry.id)
            if entry.seq != expected_seq:
                return Verdict(
                    count,
                    prev,
                    f"entry {expected_seq} is missing: the chain jumps to {where} (deleted)",
                    entry.id,
                )
            if entry.prev_hash != prev:
                return Verdict(
                    count,
                    prev,
                    f"{where} does not follow entry {expected_seq - 1} (replaced or reordered)",
                    entry.id,
                )
            if hash_of(entry) != entry.hash:
                return Verdict(count, prev, f"{where} was changed after it was written", entry.id)
            ids.append(entry.id or 0)
            prev, expected_seq = entry.hash, expected_seq + 1
        if ids != sorted(ids):
            return Verdict(count, prev, "entries were re-inserted out of their original order")
        return Verdict(count, prev)


def describe(entries: Sequence[AuditEntry]) -> list[dict[str, Any]]:
    """Entries as plain data (for `--json`)."""
    return [
        {
            "seq": e.seq,
            "at": e.at.isoformat(),
            "actor": e.actor,
            "action": e.action,
            "subject": e.subject,
            "why": e.why,
            "detail": e.detail,
            "hash": e.hash,
        }
        for e in entries
    ]
