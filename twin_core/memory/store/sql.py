"""What every repository needs to write safely: dialect-specific inserts, and text made
storable in any database."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

NUL_STAND_IN = "\u2400"
"""PostgreSQL's text cannot hold NUL: it is stored as U+2400 SYMBOL FOR NULL, on every
database alike, so a message is never refused (or different) for it."""
_SURROGATE = re.compile("[\ud800-\udfff]")
"""A surrogate on its own (text decoded with `surrogateescape`, or a JSON `\\ud83d`
without its pair) cannot be encoded as UTF-8, so no database can take it."""
MAX_KEY = 300
"""External ids longer than this (some Message-IDs) are stored as their hash, which
keeps the unique (channel, external id) index within every database's limits."""


def storable(text: str) -> str:
    """`text` as stored: whole, with NUL shown as U+2400, a surrogate pair written as
    two halves joined into its character, and a lone surrogate as U+FFFD."""
    if "\x00" in text:
        text = text.replace("\x00", NUL_STAND_IN)
    if _SURROGATE.search(text):
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def external_key(value: str) -> str:
    """An external id as stored: itself, or `sha256:<hex>` when very long."""
    value = storable(value)
    if len(value) <= MAX_KEY:
        return value
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def insert_ignore(
    engine: sa.Engine,
    table: sa.Table,
    rows: list[dict[str, Any]] | None = None,
    *,
    keys: tuple[str, ...] = ("channel", "external_id"),
) -> Any:
    """INSERT ... ON CONFLICT (`keys`) DO NOTHING in the engine's dialect; with `rows`
    for one statement, without for executemany (the rows come with the execute call)."""
    if engine.dialect.name == "postgresql":
        statement = postgresql.insert(table)
        if rows is not None:
            statement = statement.values(rows)
        return statement.on_conflict_do_nothing(index_elements=list(keys))
    if engine.dialect.name == "sqlite":
        statement_sqlite = sqlite.insert(table)
        if rows is not None:
            statement_sqlite = statement_sqlite.values(rows)
        return statement_sqlite.on_conflict_do_nothing()
    raise ValueError(f"unsupported database {engine.dialect.name!r}: use SQLite or PostgreSQL")
