"""H. Identities: only a real phone number or address ties two accounts together.

A Telegram, Discord or Slack user id whose digits equal someone's WhatsApp or SMS
number is another person; so is an identity declared without its kind, of an unknown
kind, too short or too long to be a number, or a display name shared by two accounts.
The same number (WhatsApp JID, `00` prefix, a device suffix, declared as `tel:` by
another platform) or the same address (any case) is one person. A wrong join would
hand one person's history to another: the end-to-end side of this is in A (probes
from Telegram and Discord ids equal to Wendy's WhatsApp number).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.adversarial.cases import JOINS, Findings, Join
from tests.adversarial.drive import NoPostgres, database_url, run_joins
from twin_core.memory.store import Store


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def joined(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Findings]]:
    """Every case on one store of each kind (emptied between cases)."""
    try:
        with database_url(request.param, tmp_path_factory.mktemp("joins")) as url:
            store = Store.open(url)
            try:
                yield run_joins(store)
            finally:
                store.close()
    except NoPostgres as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI and unreachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")


@pytest.mark.parametrize("case", JOINS, ids=[c.what for c in JOINS])
def test_only_a_number_or_an_address_makes_two_accounts_one_person(
    joined: dict[str, Findings], case: Join
) -> None:
    findings = joined[case.what]
    assert findings.clean, str(findings)
