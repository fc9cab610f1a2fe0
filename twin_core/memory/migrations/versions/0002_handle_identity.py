"""handle.identity: one person across platforms, by phone number or email address

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("handle", schema=None) as batch_op:
        batch_op.add_column(sa.Column("identity", sa.String(length=320), nullable=True))
        batch_op.create_index("ix_handle_identity", ["identity"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("handle", schema=None) as batch_op:
        batch_op.drop_index("ix_handle_identity")
        batch_op.drop_column("identity")
