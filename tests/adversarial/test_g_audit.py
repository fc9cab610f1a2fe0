"""G. The audit log is tamper-evident.

Behind the twin's back, someone with the database file (or a PostgreSQL role that can
disable triggers) rewrites history: `INSERT OR REPLACE`, `REPLACE INTO`, a row deleted
with the triggers dropped, two rows' content swapped, two whole rows swapped, the
detail JSON edited, an entry backdated, entries forged before the first one or with no
place, a row deleted and re-inserted. `twin audit --verify` exits 1 and names the
first entry that was touched.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.adversarial.cases import TAMPERING, Tampering
from tests.adversarial.drive import audit_some, g_verdict, tamper
from tests.support.cli import Cli
from twin_core.memory.store import Store

CASES = [
    pytest.param(case, dialect, id=f"{dialect}: {case.what}")
    for case in TAMPERING
    for dialect in case.dialects
]


@pytest.mark.parametrize(("case", "dialect"), CASES)
def test_verify_names_the_first_broken_entry(
    tmp_path: Path, request: pytest.FixtureRequest, case: Tampering, dialect: str
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'twin.db'}"
        if dialect == "sqlite"
        else str(request.getfixturevalue("postgres_url"))
    )
    store = Store.open(url)
    try:
        audit_some(store)
        assert store.audit.verify().broken is None
        tamper(store, case)
        findings = g_verdict(store, case)
    finally:
        store.close()
    assert findings.clean, str(findings)


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_twin_audit_verify_exits_1_naming_the_entry(
    cli: Cli, tmp_path: Path, request: pytest.FixtureRequest, dialect: str
) -> None:
    """What the owner runs: intact, then after tampering exit status 1 and the first
    broken entry named, in text and in JSON."""
    url = (
        f"sqlite:///{tmp_path / 'twin.db'}"
        if dialect == "sqlite"
        else str(request.getfixturevalue("postgres_url"))
    )
    env = {"TWIN_HOME": str(tmp_path), "TWIN_DATABASE_URL": url}
    store = Store.open(url)
    audit_some(store)
    store.close()
    intact = cli("audit", "--verify", env=env)
    assert intact.exit_code == 0 and "audit log intact: 6 entries" in intact.stdout
    case = next(c for c in TAMPERING if dialect in c.dialects and c.first is not None)
    store = Store.open(url)
    tamper(store, case)
    store.close()
    broken = cli("audit", "--verify", env=env)
    assert broken.exit_code == 1, broken.output
    assert broken.stdout.startswith(f"audit log BROKEN at entry {case.first} ")
    as_json = cli("audit", "--verify", "--json", env=env)
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout)["broken"].startswith(f"entry {case.first} ")


def test_cutting_entries_off_the_end_changes_the_head_to_note(tmp_path: Path) -> None:
    """What a hash chain cannot show by itself: the last entries deleted. The head
    hash the owner noted then no longer matches (docs: `twin audit --verify`)."""
    store = Store.open(f"sqlite:///{tmp_path / 'twin.db'}")
    audit_some(store)
    noted = store.audit.verify().head
    with store.engine.begin() as connection:
        connection.exec_driver_sql("DROP TRIGGER audit_entry_no_delete")
        connection.exec_driver_sql("DELETE FROM audit_entry WHERE seq = 6")
    verdict = store.audit.verify()
    store.close()
    assert verdict.broken is None and verdict.head != noted
