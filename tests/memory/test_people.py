"""People memory over the real store (SQLite and PostgreSQL): extraction as messages
arrive, supersession, fulfilment, cascades, incremental figures, check-ins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from tests.support.events import event
from twin_core.memory.people import CommitmentStatus, PeopleMemory
from twin_core.memory.people.cards import PeopleCards
from twin_core.memory.people.context import facts_for_draft
from twin_core.memory.store import Store
from twin_core.types import MessageKind

WED = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


def _people(store: Store) -> PeopleMemory:
    return PeopleMemory(store, timezone=BERLIN)


def test_promises_both_ways_with_due_dates_from_the_message_time(store: Store) -> None:
    store.messages.record(event("1", "I'll call you back on Friday", at=WED))
    store.messages.record(
        event("2", "Ich schicke dir die Folien bis Mittwoch.", from_owner=True, at=WED)
    )
    derived = _people(store).catch_up()
    assert (derived.messages, derived.commitments) == (2, 2)
    promises = PeopleCards(store, BERLIN).promises(now=WED)
    by_owner = {p.by_owner: p for p in promises}
    assert by_owner[False].due == "2026-03-06" and by_owner[False].contact == "Alice"
    assert by_owner[True].due == "2026-03-11" and by_owner[True].due_text == "bis Mittwoch"
    assert all(p.status == "open" for p in promises)
    later = PeopleCards(store, BERLIN).promises(now=WED + timedelta(days=10))
    assert {p.status for p in later} == {"overdue"}


def test_reading_twice_derives_nothing_twice(store: Store) -> None:
    store.messages.record(event("1", "I'll send you the slides tomorrow.", at=WED))
    people = _people(store)
    assert people.catch_up().commitments == 1
    assert people.catch_up().messages == 0
    second = _people(store)  # another process, the same database
    assert second.catch_up().messages == 0
    assert len(people.repository.commitments()) == 1
    relationship = people.repository.relationship(store.contacts.find("alice").id or 0)
    assert relationship is not None and relationship.messages_in == 1


def test_a_later_message_that_delivers_closes_the_promise_with_its_reason(store: Store) -> None:
    store.messages.record(event("0", "Can you send me the slides?", at=WED))
    store.messages.record(event("1", "I'll send you the slides tomorrow.", from_owner=True, at=WED))
    store.messages.record(
        event("2", "Here are the slides!", from_owner=True, at=WED + timedelta(hours=20))
    )
    people = _people(store)
    people.catch_up()
    (promise,) = PeopleCards(store, BERLIN).promises(include_done=True)
    assert promise.status == "done" and "Here are the slides" in promise.closed_reason
    (kept,) = store.audit.entries(action="promise_kept")
    assert kept.actor == "twin" and "Here are the slides" in kept.why


def test_done_closes_once(store: Store) -> None:
    store.messages.record(event("1", "I'll pay you back next week.", at=WED))
    people = _people(store)
    people.catch_up()
    (commitment,) = people.repository.commitments()
    assert commitment.id is not None
    assert people.repository.close(commitment.id, "closed by the owner")
    assert not people.repository.close(commitment.id, "again")
    assert people.repository.commitments(status=CommitmentStatus.OPEN) == []


def test_a_newer_statement_supersedes_the_older_one(store: Store) -> None:
    store.messages.record(event("1", "I live in Leeds.", at=WED))
    store.messages.record(event("2", "I moved to Lisbon.", at=WED + timedelta(days=30)))
    # An old message imported late is older than what is known: it is history.
    store.messages.record(event("0", "I live in York.", at=WED - timedelta(days=300)))
    people = _people(store)
    people.catch_up()
    alice = store.contacts.find("alice")
    assert alice.id is not None
    current = PeopleCards(store, BERLIN).facts(alice.id)
    assert [(f.kind, f.value) for f in current] == [("city", "Lisbon")]
    history = PeopleCards(store, BERLIN).facts(alice.id, history=True)
    assert [f.value for f in history] == ["Lisbon", "Leeds", "York"]
    assert history[1].valid_until == "2026-04-03" and "Leeds" in history[1].source
    # forgetting the newest lets the previous one hold again
    assert people.repository.forget_fact(current[0].id)
    assert [f.value for f in PeopleCards(store, BERLIN).facts(alice.id)] == ["Leeds"]


def test_deleting_a_message_or_a_contact_deletes_what_came_from_it(store: Store) -> None:
    store.messages.record(event("1", "I'm allergic to peanuts. I'll call you tomorrow.", at=WED))
    store.messages.record(event("2", "My birthday is on 3 May", sender="bob", chat="bob", at=WED))
    people = _people(store)
    people.catch_up()
    assert len(people.repository.commitments()) == 1
    with store.database.begin() as connection:
        connection.execute(sa.text("DELETE FROM message WHERE external_id = '1'"))
    alice = store.contacts.find("alice")
    bob = store.contacts.find("bob")
    assert alice.id is not None and bob.id is not None
    assert people.repository.facts(alice.id) == []
    assert people.repository.commitments() == []
    with store.database.begin() as connection:
        connection.execute(sa.text("DELETE FROM message WHERE contact_id = :c"), {"c": bob.id})
        connection.execute(sa.text("DELETE FROM conversation WHERE contact_id = :c"), {"c": bob.id})
        connection.execute(sa.text("DELETE FROM handle WHERE contact_id = :c"), {"c": bob.id})
        connection.execute(sa.text("DELETE FROM contact WHERE id = :c"), {"c": bob.id})
    assert people.repository.facts(bob.id) == []
    assert people.repository.relationship(bob.id) is None


def test_figures_are_the_same_whatever_order_messages_arrive_in(store: Store) -> None:
    day = timedelta(days=1)
    times = [WED + n * 9 * day for n in range(6)]
    texts = []
    for n, at in enumerate(times):
        texts.append(event(f"a{n}", "hey", at=at))
        texts.append(event(f"o{n}", "hi!", from_owner=True, at=at + timedelta(minutes=30)))
    store.messages.record_many(texts[6:])
    people = _people(store)
    people.catch_up()
    store.messages.record_many(texts[:6])  # an older import, after live messages
    people.catch_up()
    alice = store.contacts.find("alice")
    now = times[-1] + 31 * day
    card = PeopleCards(store, BERLIN).card(alice, now=now)
    assert (card.messages_from_them, card.messages_from_you, card.conversations) == (6, 6, 6)
    assert card.usual_gap_days == 9.0 and card.gap_unusual
    assert card.usually_starts == "they"
    assert card.your_reply_delay_minutes == 30.0
    (checkin,) = PeopleCards(store, BERLIN).checkins(now=now)
    assert checkin.reason == "you usually talk every 9 days; it has been 31"


def test_media_after_a_promise_to_send_closes_it(store: Store) -> None:
    store.messages.record(event("1", "I'll send you the photos tonight", at=WED))
    store.messages.record(event("2", "", kind=MessageKind.MEDIA, at=WED + timedelta(hours=3)))
    _people(store).catch_up()
    (promise,) = PeopleCards(store, BERLIN).promises(include_done=True)
    assert promise.status == "done" and "file" in promise.closed_reason


def test_facts_about_alice_never_reach_a_draft_to_bob(store: Store) -> None:
    store.messages.record(event("1", "My wife is called Lena.", at=WED))
    store.messages.record(event("2", "I'm vegetarian.", sender="bob", chat="bob", at=WED))
    store.messages.record(
        event("3", "I live in Berlin now.", from_owner=True, chat="alice", at=WED)
    )
    store.messages.record(
        event("4", "Ich bin Vegetarier.", sender="carol", chat="g", is_group=True, at=WED)
    )
    _people(store).catch_up()
    alice, bob = store.contacts.find("alice"), store.contacts.find("bob")
    assert alice.id is not None and bob.id is not None
    for_bob = facts_for_draft(store, bob.id)
    assert [f.value for f in for_bob] == ["vegetarian"]
    assert {f.value for f in facts_for_draft(store, alice.id)} == {"Lena", "Berlin"}
    # Even a row filed under the wrong contact (a bug, a bad merge) is refused: its
    # source message is not from Bob's conversations.
    with store.database.begin() as connection:
        connection.execute(
            sa.text("UPDATE person_fact SET contact_id = :b WHERE value = 'Lena'"), {"b": bob.id}
        )
    assert [f.value for f in facts_for_draft(store, bob.id)] == ["vegetarian"]


def test_merging_two_contacts_keeps_what_was_held_about_both(store: Store) -> None:
    store.messages.record(event("1", "I'm allergic to cats.", at=WED))
    store.messages.record(
        event("2", "I'll call you tomorrow.", sender="al2", chat="al2", channel="slack", at=WED)
    )
    people = _people(store)
    people.catch_up()
    alice, other = store.contacts.find("alice"), store.contacts.find("al2")
    assert alice.id is not None and other.id is not None
    store.contacts.merge(other.id, alice.id)
    people.rebuild_relationship(alice.id)
    assert [f.value for f in people.repository.facts(alice.id)] == ["cats"]
    assert [c.contact_id for c in people.repository.commitments()] == [alice.id]
    relationship = people.repository.relationship(alice.id)
    assert relationship is not None and relationship.messages_in == 2
    assert relationship.languages == {"en": 2}
