"""people memory: facts, commitments, relationship figures

* person_fact: what a contact (or the owner, to that contact) stated, with its source
  message, validity and confidence;
* commitment: promises both ways, with due date, status and source message;
* relationship: each contact's running figures (counts, conversations, reply delays).

Every row cascades from its source message and its contact.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _fk(column: str, target: str, *, nullable: bool = False, ondelete: str = "CASCADE") -> Any:
    return sa.Column(
        column, sa.Integer(), sa.ForeignKey(target, ondelete=ondelete), nullable=nullable
    )


def upgrade() -> None:
    when = sa.DateTime(timezone=True)
    op.create_table(
        "person_fact",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("contact_id", "contact.id"),
        sa.Column("about", sa.String(8), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        _fk("message_id", "message.id"),
        sa.Column("stated_at", when, nullable=False),
        sa.Column("valid_until", when, nullable=True),
        sa.Column("superseded_by", sa.Integer(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("extractor", sa.String(200), nullable=False),
        sa.Column("created_at", when, nullable=False),
    )
    op.create_index("ix_person_fact_contact_id", "person_fact", ["contact_id"])
    op.create_index("ix_person_fact_message_id", "person_fact", ["message_id"])
    op.create_table(
        "commitment",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("contact_id", "contact.id"),
        _fk("conversation_id", "conversation.id"),
        sa.Column("by_owner", sa.Boolean(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("due_at", when, nullable=True),
        sa.Column("due_text", sa.String(200), nullable=False),
        _fk("message_id", "message.id"),
        sa.Column("made_at", when, nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("closed_at", when, nullable=True),
        sa.Column("closed_reason", sa.Text(), nullable=False),
        _fk("closed_by_message_id", "message.id", nullable=True, ondelete="SET NULL"),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("extractor", sa.String(200), nullable=False),
        sa.Column("created_at", when, nullable=False),
    )
    op.create_index("ix_commitment_contact_id", "commitment", ["contact_id"])
    op.create_index("ix_commitment_message_id", "commitment", ["message_id"])
    op.create_index("ix_commitment_status", "commitment", ["status"])
    op.create_table(
        "relationship",
        sa.Column("contact_id", sa.Integer(), primary_key=True),
        sa.Column("messages_in", sa.Integer(), nullable=False),
        sa.Column("messages_out", sa.Integer(), nullable=False),
        sa.Column("first_at", when, nullable=True),
        sa.Column("last_at", when, nullable=True),
        sa.Column("sessions", sa.JSON(), nullable=False),
        sa.Column("reply_delays", sa.JSON(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("updated_at", when, nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contact.id"], ondelete="CASCADE"),
    )


def downgrade() -> None:
    op.drop_table("relationship")
    op.drop_table("commitment")
    op.drop_table("person_fact")
