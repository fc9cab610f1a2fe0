"""The audit log: a hash chain that names the first entry rewritten, removed or moved,
on SQLite and PostgreSQL; and docs/SECURITY.md's PostgreSQL roles, as written there."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests.support.settings import POSTGRES_URL
from twin_core.memory.store import Store


def fill(store: Store, n: int = 5) -> None:
    for k in range(n):
        store.audit.record("owner", "command", f"/status {k}", "you asked", k=k, ratio=0.5)


def test_an_untouched_chain_verifies(store: Store) -> None:
    fill(store)
    verdict = store.audit.verify()
    assert verdict.broken is None and verdict.entries == 5 and len(verdict.head) == 64
    assert [e.seq for e in store.audit.entries()] == [1, 2, 3, 4, 5]


def without_triggers(store: Store, *statements: str) -> None:
    """Rewrite the table the way an attacker past the triggers would."""
    with store.engine.begin() as connection:
        if store.database.dialect == "sqlite":
            connection.exec_driver_sql("DROP TRIGGER audit_entry_no_update")
            connection.exec_driver_sql("DROP TRIGGER audit_entry_no_delete")
        else:
            connection.exec_driver_sql("ALTER TABLE audit_entry DISABLE TRIGGER ALL")
        for statement in statements:
            connection.exec_driver_sql(statement)


@pytest.mark.parametrize(
    ("statements", "broken"),
    [
        (
            ["UPDATE audit_entry SET why = 'nothing to see' WHERE seq = 3"],
            "entry 3 (id 3) was changed",
        ),
        (['UPDATE audit_entry SET detail = \'{"k": 9, "ratio": 0.5}\' WHERE seq = 2'], "entry 2"),
        (["DELETE FROM audit_entry WHERE seq = 2"], "entry 2 is missing"),
        (
            # swap the content of two entries, each keeping its own place and hashes
            [
                "UPDATE audit_entry SET subject = CASE seq WHEN 2 THEN '/status 3' "
                "ELSE '/status 2' END WHERE seq IN (2, 3)"
            ],
            "entry 2 (id 2) was changed",
        ),
    ],
)
def test_a_rewrite_past_the_triggers_is_named(
    store: Store, statements: list[str], broken: str
) -> None:
    fill(store)
    without_triggers(store, *statements)
    verdict = store.audit.verify()
    assert verdict.broken is not None and broken in verdict.broken


def test_insert_or_replace_on_sqlite_is_caught(tmp_path: object) -> None:
    store = Store.open(f"sqlite:///{tmp_path}/t.db")
    fill(store)
    with store.engine.begin() as connection:
        connection.exec_driver_sql(
            "REPLACE INTO audit_entry (id, seq, at, actor, action, subject, why, detail, "
            "prev_hash, hash) SELECT id, seq, at, actor, 'sent', subject, why, detail, "
            "prev_hash, hash FROM audit_entry WHERE seq = 4"
        )
    verdict = store.audit.verify()
    assert verdict.broken == "entry 4 (id 4) was changed after it was written"
    store.close()


def test_entries_appended_from_two_stores_stay_one_chain(store_url: str) -> None:
    """Two processes writing (the bot and the CLI): one chain, no place taken twice."""
    one, two = Store.open(store_url), Store.open(store_url)
    for k in range(10):
        (one if k % 2 else two).audit.record("twin", "drafted", f"d{k}", "because")
    assert one.audit.verify().broken is None and one.audit.count() == 10
    one.close()
    two.close()


@pytest.fixture
def roles(postgres_url: str) -> Iterator[tuple[str, str]]:
    """docs/SECURITY.md's two roles on a fresh database: the owner migrates, the app
    reads and writes rows."""
    suffix = uuid.uuid4().hex[:8]
    owner, app, database = f"twin_owner_{suffix}", f"twin_app_{suffix}", f"twin_{suffix}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f"CREATE ROLE {owner} LOGIN")
        c.exec_driver_sql(f"CREATE ROLE {app} LOGIN")
        c.exec_driver_sql(f"CREATE DATABASE {database} OWNER {owner}")
    base = POSTGRES_URL.rsplit("/", 1)[0].replace("postgres@", "{}@")
    try:
        yield base.format(owner) + f"/{database}", base.format(app) + f"/{database}"
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
            c.exec_driver_sql(f"DROP ROLE IF EXISTS {app}")
            c.exec_driver_sql(f"DROP ROLE IF EXISTS {owner}")
        admin.dispose()


def test_the_app_role_of_security_md_cannot_rewrite_history(roles: tuple[str, str]) -> None:
    owner_url, app_url = roles
    Store.open(owner_url).close()  # migrates as the owner
    owner = sa.create_engine(owner_url, isolation_level="AUTOCOMMIT")
    app_role = app_url.split("//", 1)[1].split("@", 1)[0]
    with owner.connect() as c:
        for line in (
            "REVOKE ALL ON SCHEMA public FROM PUBLIC",
            f"GRANT USAGE ON SCHEMA public TO {app_role}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {app_role}",
            f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_entry FROM {app_role}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {app_role}",
        ):
            c.exec_driver_sql(line)
    owner.dispose()
    store = Store.open(app_url)
    try:
        fill(store, 3)  # the twin works as the app role
        for attack in (
            "ALTER TABLE audit_entry DISABLE TRIGGER ALL",
            "DROP TRIGGER audit_entry_append_only ON audit_entry",
            "UPDATE audit_entry SET why = 'covered up'",
            "DELETE FROM audit_entry",
        ):
            with pytest.raises(sa.exc.DBAPIError), store.engine.begin() as c:
                c.exec_driver_sql(attack)
        assert store.audit.verify().broken is None and store.audit.count() == 3
    finally:
        store.close()
