"""Alembic environment. The connection comes from `twin_core.memory.db.migrate()`."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import twin_core.memory.models  # noqa: F401  (registers the tables on SQLModel.metadata)

target_metadata = SQLModel.metadata


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("twin migrations run through twin_core.memory.db.migrate()")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
