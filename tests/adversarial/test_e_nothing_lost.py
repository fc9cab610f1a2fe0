"""E. Nothing lost, never "stored" when it was not.

On SQLite and on PostgreSQL: NUL bytes and lone surrogates in texts, names and ids;
10,000-character names and ids; a 300 kB text; empty texts; two different people with
one non-ASCII name ("Ольга", "Émile"), or a name that looks like a LIKE pattern
("Bob\\", "100%_sure"); identities far longer than any phone number or address. Each
is stored exactly once, even delivered twice. And when the database does refuse a
message, it is kept aside (in the dead-letter table, or a file when that fails too),
`twin stats` counts it, and the owner is told it was NOT stored.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.adversarial.cases import ODD_EVENTS, OddEvent
from tests.adversarial.drive import QUIET, e_not_stored, run_odd_events
from tests.conftest import TwinFactory
from tests.support.cli import Cli
from tests.support.harness import Harness


async def test_every_odd_message_is_stored_once_and_a_refused_one_is_kept_and_told(
    make_twin: TwinFactory, cli: Cli, tmp_path: Path, store_url: str
) -> None:
    home = tmp_path / "twin"
    # What matters here is storing; drafting for odd texts is the test below.
    h = await make_twin(home=home, database_url=store_url, default_policy=QUIET)
    results = await run_odd_events(h)
    assert set(results) == {case.what for case in ODD_EVENTS}
    dirty = {case: str(f) for case, f in results.items() if not f.clean}
    assert not dirty
    # Then the database refuses messages (and, the second time, dead letters too).
    refused = await e_not_stored(h)
    dirty = {case: str(f) for case, f in refused.items() if not f.clean}
    assert not dirty
    env = {"TWIN_HOME": str(home), "TWIN_DATABASE_URL": store_url}
    assert json.loads(cli("stats", "--json", env=env).stdout)["dead_letters"] == 2
    assert "not stored (dead letters): 2" in cli("stats", env=env).stdout
    [status] = await h.command("/status")
    assert "2 not stored (see twin stats)" in status


async def test_a_failing_record_is_a_dead_letter_not_a_crash(h: Harness) -> None:
    """A store whose recording raises (a subclass, as a broken driver would): the
    event is kept, audited as not stored, and the owner told so."""
    from twin_core.memory.store.messages import MessageRepository, Recorded
    from twin_core.types import InboundEvent

    class Broken(MessageRepository):
        def record(self, event: InboundEvent) -> Recorded:
            raise OSError("disk I/O error")

    store = h.twin.store
    store.messages = Broken(store.database, store.contacts, store.conversations)
    await h.says("mallory", "lost?", external_id="broken-1")
    [told] = h.control()
    assert "could NOT be stored (OSError: disk I/O error)" in told
    assert "Mallory" in told and "nothing was answered" in told
    [letter] = store.dead_letters.unresolved()
    assert letter.external_id == "broken-1" and letter.event["text"] == "lost?"
    [entry] = store.audit.entries(action="not_stored")
    assert entry.subject == "fake:broken-1" and entry.detail["kept_in"] == "the dead-letter table"
    assert h.drafts() == []


async def test_odd_texts_are_answered_or_reported_never_a_crash(h: Harness) -> None:
    """Drafting for the odd texts (NUL, surrogates, 300 kB, marks by the hundred): each
    gets a draft card or a "No draft" notice; none ends in "Something went wrong"."""
    h.seed({p: [(p, "thanks!"), ("me", "no problem!")] for p in ("pat", "ray", "sol")})
    odd = [case for case in ODD_EVENTS if case.text != "hello"]
    for number, case in enumerate(odd):
        await h.channel.push(h.channel.event(f"odd-{number}", case.text))
    await h.twin.idle()
    told = h.control()
    assert not [t for t in told if t.startswith("Something went wrong")]
    answered = [t for t in told if t.startswith("Draft ") or "No draft" in t]
    assert len(answered) == len([c for c in odd if c.text.strip()])  # blank: nothing to answer


def test_the_odd_events_are_odd_enough() -> None:
    odd: list[OddEvent] = list(ODD_EVENTS)
    assert any("\x00" in c.text for c in odd) and any("\udcff" in c.text for c in odd)
    assert any(len(c.name) >= 10_000 for c in odd) and any(c.twice for c in odd)
