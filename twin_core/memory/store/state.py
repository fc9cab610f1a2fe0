"""Small named values the twin keeps between runs (paused or not, index watermarks)."""

from __future__ import annotations

from sqlmodel import Session

from twin_core.memory.db import Database
from twin_core.memory.models import State


class StateRepository:
    def __init__(self, database: Database) -> None:
        self.database = database

    def _session(self) -> Session:
        return self.database.session()

    def get(self, key: str, default: str = "") -> str:
        with self._session() as session:
            row = session.get(State, key)
            return row.value if row else default

    def set(self, key: str, value: str) -> None:
        with self._session() as session:
            row = session.get(State, key) or State(key=key, value=value)
            row.value = value
            session.add(row)
            session.commit()
