"""runtime and invariants: a hash-chained audit log, dead letters, recipients, wide names

* audit_entry: `seq`, `prev_hash`, `hash` (a hash chain over every entry, existing
  ones included), `subject` as text (kept whole);
* dead_letter: events that could not be recorded;
* message.recipients: whom a message was addressed to (email To/Cc, mentions);
* draft.auto: approved by the twin itself, not the owner;
* scheduled_job.queue: `bot` or `work`;
* handle.display_name and conversation.title as text: any name a platform delivers.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
SQLITE_AUDIT_TRIGGERS = [
    """CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry
       BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END""",
    """CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry
       BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END""",
]
POSTGRES_AUDIT_TRIGGER = """CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE
    OR TRUNCATE ON audit_entry FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only()"""


def _hash(seq: int, prev: str, at: datetime, row: Any, detail: Any) -> str:
    # The same canonical form as twin_core.memory.store.audit.entry_hash (kept here
    # as it was when this migration was written: migrations never change).
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    canonical = json.dumps(
        [seq, prev, at.isoformat(), row.actor, row.action, row.subject, row.why, detail],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    if sqlite:
        op.execute("DROP TRIGGER IF EXISTS audit_entry_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_entry_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_entry")

    op.add_column("audit_entry", sa.Column("seq", sa.Integer(), nullable=True))
    op.add_column(
        "audit_entry", sa.Column("prev_hash", sa.String(64), nullable=False, server_default="")
    )
    op.add_column(
        "audit_entry", sa.Column("hash", sa.String(64), nullable=False, server_default="")
    )
    if not sqlite:
        op.alter_column("audit_entry", "subject", type_=sa.Text())
        op.alter_column("handle", "display_name", type_=sa.Text())
        op.alter_column("conversation", "title", type_=sa.Text())

    # Chain what is there, oldest first.
    table = sa.table(
        "audit_entry",
        sa.column("id", sa.Integer()),
        sa.column("seq", sa.Integer()),
        sa.column("at", sa.DateTime(timezone=True)),
        sa.column("actor", sa.String()),
        sa.column("action", sa.String()),
        sa.column("subject", sa.Text()),
        sa.column("why", sa.Text()),
        sa.column("detail", sa.JSON()),
        sa.column("prev_hash", sa.String()),
        sa.column("hash", sa.String()),
    )
    prev = GENESIS
    rows = bind.execute(sa.select(table).order_by(table.c.id)).all()
    for seq, row in enumerate(rows, start=1):
        detail = row.detail if isinstance(row.detail, dict) else json.loads(row.detail or "{}")
        digest = _hash(seq, prev, row.at, row, detail)
        bind.execute(
            sa.update(table)
            .where(table.c.id == row.id)
            .values(seq=seq, prev_hash=prev, hash=digest)
        )
        prev = digest
    op.create_index("ix_audit_entry_seq", "audit_entry", ["seq"], unique=True)

    if sqlite:
        for statement in SQLITE_AUDIT_TRIGGERS:
            op.execute(statement)
    else:
        op.execute(POSTGRES_AUDIT_TRIGGER)

    op.create_table(
        "dead_letter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=False),
        sa.Column("event", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_dead_letter_at", "dead_letter", ["at"])
    op.add_column(
        "message", sa.Column("recipients", sa.JSON(), nullable=False, server_default="[]")
    )
    op.add_column(
        "draft",
        sa.Column("auto", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "scheduled_job",
        sa.Column("queue", sa.String(32), nullable=False, server_default="bot"),
    )


def downgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    op.drop_column("scheduled_job", "queue")
    op.drop_column("draft", "auto")
    op.drop_column("message", "recipients")
    op.drop_index("ix_dead_letter_at", "dead_letter")
    op.drop_table("dead_letter")
    if sqlite:
        op.execute("DROP TRIGGER IF EXISTS audit_entry_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_entry_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_entry")
    op.drop_index("ix_audit_entry_seq", "audit_entry")
    with op.batch_alter_table("audit_entry") as batch:
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
        batch.drop_column("seq")
    if sqlite:
        for statement in SQLITE_AUDIT_TRIGGERS:
            op.execute(statement)
    else:
        op.execute(POSTGRES_AUDIT_TRIGGER)
