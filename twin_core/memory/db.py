"""The database: one engine, its migrations, and the one place that knows SQLite from
PostgreSQL. The repositories (`twin_core.memory.store`) share one `Database`."""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url
from sqlmodel import Session

MIGRATIONS = Path(__file__).with_name("migrations")
SUPPORTED = ("sqlite", "postgresql")


class DatabaseError(RuntimeError):
    """The database cannot be opened or migrated; the message says what to do."""


def _shown(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "that value"


def make_engine(url: str, **kwargs: Any) -> sa.Engine:
    """An engine for `url`; a URL that is not a database URL, or names a database the
    twin does not support, is refused here with a message naming the setting."""
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError:
        raise DatabaseError(
            f"TWIN_DATABASE_URL is not a database URL ({url[:40]!r}...); expected "
            "postgresql://USER@HOST:5432/DB or sqlite:///PATH"
        ) from None
    if parsed.get_backend_name() not in SUPPORTED:
        raise DatabaseError(
            f"TWIN_DATABASE_URL names {parsed.get_backend_name()!r}; the twin runs on "
            "SQLite or PostgreSQL (postgresql://USER@HOST:5432/DB)"
        )
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database or ""
        if path and path != ":memory:":
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseError(_folder_problem(Path(path).parent, exc)) from None
        engine = sa.create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        return sa.create_engine(parsed, pool_pre_ping=True, **kwargs)
    except ModuleNotFoundError:
        raise DatabaseError(
            "TWIN_DATABASE_URL is a PostgreSQL URL, and PostgreSQL needs its driver: "
            "pip install 'twin[postgres]'"
        ) from None


def _folder_problem(folder: Path, exc: OSError) -> str:
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return f"the data folder {folder} is read-only ({exc.strerror}); set TWIN_HOME or --home"
    return f"cannot create the data folder {folder}: {exc.strerror or exc}"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def migrate(engine: sa.Engine, shown: str | None = None) -> None:
    """Bring the schema to the newest revision; a no-op when it is already there.
    `shown` is the URL as the user wrote it, for messages (password hidden)."""
    shown = _shown(shown or str(engine.url))
    config = alembic_config()
    head = ScriptDirectory.from_config(config).get_current_head()
    try:
        with engine.begin() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
            if current == head:
                return
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except sa.exc.OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        if "readonly" in reason or "read-only" in reason:
            raise DatabaseError(
                f"the database at {shown} is read-only ({reason}); "
                "set TWIN_HOME or --home to a folder you can write"
            ) from None
        raise DatabaseError(f"cannot open the database at {shown}: {reason}") from None


class Database:
    """One engine over which every repository runs its short transactions."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str) -> Database:
        """Open (creating and migrating as needed) the database at `url`."""
        engine = make_engine(url)
        try:
            migrate(engine, url)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    @contextmanager
    def begin(self) -> Iterator[sa.Connection]:
        with self.engine.begin() as connection:
            yield connection

    def close(self) -> None:
        self.engine.dispose()
