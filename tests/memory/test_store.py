"""The store contract: the same tests on SQLite and PostgreSQL, one repository each."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from tests.support.events import T0, event
from twin_core.memory.models import Draft, DraftStatus, JobStatus
from twin_core.memory.store import AmbiguousContact, Store, UnknownContact
from twin_core.types import ChannelName, ChatId, DraftId, ExternalId, MessageKind, PolicyMode

# -- messages -------------------------------------------------------------------------


def test_recording_the_same_message_twice_is_a_no_op(store: Store) -> None:
    first = store.messages.record(event("m1"))
    again = store.messages.record(event("m1", "edited text is ignored"))
    assert first.created and not again.created
    assert again.message.id == first.message.id and again.message.text == "hi"
    assert store.stats()["messages"] == 1


def test_the_same_id_on_another_channel_is_another_message(store: Store) -> None:
    store.messages.record(event("m1", channel="telegram"))
    store.messages.record(event("m1", channel="whatsapp"))
    assert store.stats()["messages"] == 2


def test_record_many_counts_only_new_rows_and_resumes(store: Store) -> None:
    batch = [event(f"m{i}", f"text {i}", at=T0 + timedelta(minutes=i)) for i in range(1200)]
    assert store.messages.record_many(batch[:700]) == 700
    assert store.messages.record_many(batch) == 500  # a re-run after an interruption
    ids = sorted(int(m.external_id[1:]) for m in store.messages.iter_after())
    assert ids == list(range(1200))
    assert store.messages.record_many(batch) == 0


def test_timestamps_come_back_aware_and_equal(store: Store) -> None:
    at = datetime(2026, 3, 1, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    recorded = store.messages.record(event("m1", at=at))
    stored = store.messages.get(recorded.message.id or 0)
    assert stored is not None
    assert stored.sent_at == at and stored.sent_at.tzinfo is not None


def test_text_in_any_script_and_large_texts_round_trip(store: Store) -> None:
    texts = ["Привет 👋", "こんにちは世界", "مرحبا", "🎉" * 50, "x" * 100_000, "a\u200eb\u202fc"]
    for number, text in enumerate(texts):
        store.messages.record(event(f"t{number}", text))
    stored = sorted(store.messages.iter_after(), key=lambda m: m.id or 0)
    assert [m.text for m in stored] == texts


def test_any_text_or_name_a_platform_delivers_is_stored(store: Store) -> None:
    """NUL (which PostgreSQL text cannot hold) and names and ids far over any column
    limit: stored, on every database alike, never refused."""
    name = "Ada " + "Lovelace-" * 60  # 544 characters
    lost = event("nul\x00id", "before\x00after", sender="ada\x00" + "x" * 400, chat="c" * 500)
    recorded = store.messages.record(
        replace(lost, sender_name=name, chat_title="t" * 2000, external_id=lost.external_id)
    )
    assert recorded.created
    assert recorded.message.text == "before\u2400after"
    assert recorded.contact is not None and len(recorded.contact.name) <= 200
    [handle] = store.contacts.handles(recorded.contact.id or 0)
    assert handle.display_name == name  # kept whole
    assert recorded.conversation.title == "t" * 2000
    assert not store.messages.record(lost).created  # the same long ids find the same row


def test_a_lone_surrogate_is_stored_as_a_replacement_character(store: Store) -> None:
    """Text decoded with `surrogateescape` (or JSON with half a pair) cannot be encoded
    as UTF-8; it is stored with U+FFFD for each lone half, and a pair written as two
    halves as its character, never refused."""
    broken = event("s\udcff", "bad \udcff byte \ud83d\ude00", sender="mal\ud800", chat="c\udcff")
    recorded = store.messages.record(replace(broken, sender_name="Mal\udcffory"))
    assert recorded.created
    assert recorded.message.text == "bad \ufffd byte 😀"
    assert recorded.contact is not None and recorded.contact.name == "Mal\ufffdory"
    assert not store.messages.record(broken).created


def test_record_sent_is_the_twins_own_message(store: Store) -> None:
    recorded = store.messages.record(event("m1", "dinner?"))
    sent = store.messages.record_sent(
        recorded.conversation, "yes!", ExternalId("out-1"), draft_id=DraftId(7)
    )
    assert sent.created and sent.message.from_owner and sent.message.draft_id == 7
    assert sent.contact is None and sent.message.contact_id is None
    assert [c.name for c in store.contacts.all()] == ["Alice"]  # no contact for the owner


def test_recipients_are_kept(store: Store) -> None:
    from twin_core.types import HandleId

    recorded = store.messages.record(
        event(
            "e1",
            "fwd",
            channel="email",
            sender="me@x.org",
            from_owner=True,
            recipients=(HandleId("alice@x.org"),),
        )
    )
    assert recorded.message.recipients == ["alice@x.org"]


def test_media_and_reply_links_are_kept(store: Store) -> None:
    store.messages.record(event("m1", "[image]", kind=MessageKind.MEDIA, reply_to=ExternalId("m0")))
    [message] = store.messages.iter_after()
    assert message.kind == "media" and message.reply_to == "m0"


def test_a_message_without_sender_belongs_to_nobody(store: Store) -> None:
    store.messages.record(event("s1", "Alice joined", sender="", kind=MessageKind.SYSTEM))
    assert store.contacts.all() == [] and store.stats()["messages"] == 1


def test_conversation_learns_its_contact_from_the_first_message_of_theirs(store: Store) -> None:
    store.messages.record(event("o1", "hello?", sender="owner", from_owner=True))
    later = store.messages.record(event("o1x", "hey", at=T0 + timedelta(minutes=1)))
    assert later.conversation.contact_id
    [conversation_id] = store.conversations.with_contact(store.contacts.find("alice").id or 0)
    texts = [m.text for m in store.messages.in_conversation(conversation_id)]
    assert texts == ["hello?", "hey"]


# -- contacts -------------------------------------------------------------------------


def test_one_handle_per_channel_identity_is_one_contact(store: Store) -> None:
    store.messages.record(event("m1", sender="u42", chat="c1"))
    store.messages.record(event("m2", sender="u42", chat="c1"))
    [contact] = store.contacts.all()
    [handle] = store.contacts.handles(contact.id or 0)
    assert (handle.channel, handle.external_id) == ("telegram", "u42")


def test_two_people_with_one_name_get_distinct_contact_names(store: Store) -> None:
    store.messages.record(event("m1", sender="alice", channel="telegram"))
    store.messages.record(event("m2", sender="alice", chat="x", channel="slack"))
    assert sorted(c.name for c in store.contacts.all()) == ["Alice", "Alice (slack)"]


@pytest.mark.parametrize("name", ["Ольга", "Émile", "ΣΟΦΙΑ", "Bob\\", "100%_sure"])
def test_two_people_with_any_one_name_are_both_stored(store: Store, name: str) -> None:
    """SQLite's lower() and LIKE fold ASCII only, and LIKE reads `\\`, `%`, `_` as
    patterns: the second person with such a name must still get a name of their own
    (their message was refused as a duplicate contact name)."""
    first = store.messages.record(replace(event("m1", sender="p1", chat="p1"), sender_name=name))
    second = store.messages.record(replace(event("m2", sender="p2", chat="p2"), sender_name=name))
    assert first.contact is not None and second.contact is not None
    assert [first.contact.name, second.contact.name] == [name, f"{name} (telegram)"]


def test_find_is_exact_never_a_prefix(store: Store) -> None:
    store.messages.record(event("m1", sender="bobby_mallory", chat="bm"))
    store.messages.record(event("m2", sender="albert", chat="albert"))
    assert store.contacts.find("ALBERT").name == "Albert"
    assert store.contacts.find("@albert").name == "Albert"
    with pytest.raises(UnknownContact, match="no contact named 'bob'"):
        store.contacts.find("bob")  # never bobby_mallory by prefix
    with pytest.raises(UnknownContact, match="no contact named 'alb'"):
        store.contacts.find("alb")


def test_a_name_several_contacts_fit_lists_them_with_channels(store: Store) -> None:
    mail = replace(event("e1", sender="mom@x.org", chat="t", channel="email"), sender_name="mom")
    store.messages.record(mail)
    store.messages.record(
        replace(event("c1", sender="@mom", chat="@mom", channel="console"), sender_name="mom")
    )
    assert sorted(c.name for c in store.contacts.all()) == ["mom", "mom (console)"]
    with pytest.raises(AmbiguousContact) as found:
        store.contacts.find("mom")
    assert "(email)" in str(found.value) and "(console)" in str(found.value)
    console = next(c for c in store.contacts.all() if "console" in c.name)
    assert store.contacts.find("MOM (console)").id == console.id
    assert store.contacts.find(f"#{console.id}").id == console.id


def test_an_id_a_contact_took_as_their_name_is_ambiguous(store: Store) -> None:
    """A contact called "#1" must not make the owner's "#1" (meaning them, from their
    card) hit contact 1, nor "#2" hit them when the owner meant contact 2."""
    alice = store.messages.record(event("a", sender="alice", chat="a")).contact
    mallory = store.messages.record(replace(event("m", sender="m", chat="m"), sender_name="#1"))
    assert alice is not None and alice.id == 1 and mallory.contact is not None
    with pytest.raises(AmbiguousContact) as found:
        store.contacts.find("#1")
    assert {c.id for c in found.value.candidates} == {1, mallory.contact.id}
    assert store.contacts.find("Alice").id == 1
    assert store.contacts.find(f"#{mallory.contact.id}").id == mallory.contact.id
    with pytest.raises(UnknownContact, match="no contact #9"):
        store.contacts.find("#9")


def test_numeric_ids_are_not_phone_numbers(store: Store) -> None:
    """A Telegram user id and a WhatsApp number with the same digits are two people."""
    store.messages.record(
        event("w1", sender="4915123456789@s.whatsapp.net", chat="wa", channel="whatsapp")
    )
    store.messages.record(event("t1", sender="4915123456789", chat="tg", channel="telegram"))
    assert len(store.contacts.all()) == 2


def test_the_same_phone_number_or_address_on_two_platforms_is_one_contact(store: Store) -> None:
    store.messages.record(event("w1", sender="+49 151 2345 6789", chat="wa", channel="whatsapp"))
    # Telegram: the number comes from a contact card's phone field, not the user id.
    store.messages.record(
        event(
            "t1", sender="777000", chat="tg", channel="telegram", identities=("tel:+4915123456789",)
        )
    )
    store.messages.record(event("e1", sender="Bob@Example.org", chat="m1", channel="email"))
    store.messages.record(
        event("s1", sender="U42", chat="m2", channel="slack", identities=("email:bob@example.org",))
    )
    overview = store.contacts.overview()
    assert len(overview) == 2
    assert sorted(len(row["handles"]) for row in overview) == [2, 2]


def test_what_is_too_long_to_be_a_number_or_address_is_no_identity(store: Store) -> None:
    """A 40-digit "number" or a 400-character "address" is not one: it joins no one,
    and the message is stored (PostgreSQL refused the too-long identity, and with it
    the message)."""
    for number, key in enumerate(["tel:" + "9" * 40, "email:" + "a" * 400 + "@example.com"]):
        for side in ("a", "b"):
            recorded = store.messages.record(
                event(f"{number}{side}", sender=f"{number}{side}", identities=(key,))
            )
            assert recorded.created
    mail = store.messages.record(event("m", sender="b" * 400 + "@x.org", channel="email"))
    assert mail.created and len(store.contacts.all()) == 5


def test_merge_moves_everything_and_keeps_the_kept_contacts_policy(store: Store) -> None:
    alice = store.messages.record(event("a1", sender="alice", chat="a")).contact
    other = store.messages.record(event("a2", sender="ali", chat="b", channel="slack")).contact
    assert alice and other and alice.id and other.id
    store.policies.set(other.id, PolicyMode.AUTO)
    merged = store.contacts.merge(other.id, alice.id)
    assert merged.kept_policy is None and merged.dropped_policy is PolicyMode.AUTO
    [row] = store.contacts.overview()
    assert row["name"] == "Alice" and row["messages"] == 2
    assert row["handles"] == ["telegram:alice", "slack:ali"]
    assert store.policies.get(alice.id) is None  # the merged contact's auto is dropped
    assert sorted(store.conversations.with_contact(alice.id)) == [1, 2]
    with pytest.raises(ValueError, match="itself"):
        store.contacts.merge(alice.id, alice.id)


def test_people_counts_persons_not_contact_records(store: Store) -> None:
    a = store.messages.record(event("1", sender="ann", chat="1")).contact
    a2 = store.messages.record(event("2", sender="ann", chat="2", channel="slack")).contact
    b = store.messages.record(event("3", sender="bob", chat="3")).contact
    assert a and a2 and b and a.id and a2.id and b.id
    assert store.contacts.people([a.id, a2.id]) == 1  # "Ann" and "Ann (slack)"
    assert store.contacts.people([a.id, a2.id, b.id]) == 2


# -- drafts, policy, state, jobs ------------------------------------------------------


def test_draft_moves_only_from_the_expected_state(store: Store) -> None:
    recorded = store.messages.record(event("m1"))
    draft = store.drafts.add(
        Draft(
            conversation_id=recorded.conversation.id or 0,
            contact_id=recorded.contact.id if recorded.contact else 0,
            message_id=recorded.message.id or 0,
            text="hello",
            confidence=0.5,
            reasons=["because"],
            model="twin/local",
        )
    )
    assert draft.id is not None
    assert store.drafts.move(draft.id, [DraftStatus.PENDING], DraftStatus.APPROVED)
    assert not store.drafts.move(draft.id, [DraftStatus.PENDING], DraftStatus.REJECTED)
    assert store.drafts.move(draft.id, [DraftStatus.APPROVED], DraftStatus.SENDING, text="hi")
    stored = store.drafts.get(draft.id)
    assert stored is not None and stored.status == DraftStatus.SENDING and stored.text == "hi"
    assert stored.reasons == ["because"] and stored.auto is False
    assert store.stats()["drafts"]["sending"] == 1


def test_a_draft_holds_whatever_text_a_model_or_the_owner_wrote(store: Store) -> None:
    """A model's answer (or an /edit) with NUL or a lone surrogate is kept as text,
    made storable like every other text: PostgreSQL refused the NUL, every database
    the surrogate, and the draft was lost."""
    recorded = store.messages.record(event("m1"))
    assert recorded.contact is not None
    draft = store.drafts.add(
        Draft(
            conversation_id=recorded.conversation.id or 0,
            contact_id=recorded.contact.id or 0,
            message_id=recorded.message.id or 0,
            text="ok\x00/pause \udcff",
            confidence=0.5,
            reasons=["because \x00"],
            model="openai/x",
        )
    )
    stored = store.drafts.get(draft.id or 0)
    assert stored is not None and stored.text == "ok\u2400/pause \ufffd"
    assert stored.reasons == ["because \u2400"]
    moved = store.drafts.move(
        draft.id or 0, [DraftStatus.PENDING], DraftStatus.APPROVED, text="sure\x00"
    )
    assert moved and (store.drafts.get(draft.id or 0) or draft).text == "sure\u2400"


def test_policy_state_and_jobs(store: Store) -> None:
    contact = store.messages.record(event("m1")).contact
    assert contact is not None and contact.id is not None
    assert store.policies.get(contact.id) is None
    assert store.policies.set(contact.id, PolicyMode.AUTO) is None
    assert store.policies.set(contact.id, PolicyMode.OFF) is PolicyMode.AUTO
    assert store.policies.get(contact.id) is PolicyMode.OFF
    store.state.set("paused", "1")
    assert store.state.get("paused") == "1" and store.state.get("missing", "d") == "d"
    assert store.jobs.schedule("send-draft-1", "send_draft", [1], T0)
    assert not store.jobs.schedule("send-draft-1", "send_draft", [1], T0)
    assert store.jobs.schedule("index", "index_backlog", [], T0, queue="work")
    assert [j.key for j in store.jobs.pending("work")] == ["index"]
    [job, _] = store.jobs.pending()
    store.jobs.finish(job.id or 0, JobStatus.DONE)
    assert [j.key for j in store.jobs.pending()] == ["index"]


def test_reopening_runs_no_migration_twice(store_url: str) -> None:
    Store.open(store_url).close()
    again = Store.open(store_url)
    again.messages.record(event("m1"))
    assert again.stats()["messages"] == 1
    again.close()


def test_dead_letters_are_counted(store: Store) -> None:
    store.dead_letters.keep(event("lost", "a message \x00 that failed"), "OperationalError: gone")
    assert store.stats()["dead_letters"] == 1
    [letter] = store.dead_letters.unresolved()
    assert letter.external_id == "lost" and "failed" in letter.event["text"]


def test_a_conversation_is_the_same_across_channel_and_chat(store: Store) -> None:
    first = store.messages.record(event("m1", chat="same"))
    second = store.messages.record(event("m2", chat="same", sender="bob"))
    assert first.conversation.id == second.conversation.id
    assert ChatId("same") == first.conversation.external_id
    assert ChannelName("telegram") == first.conversation.channel


@pytest.mark.parametrize("place", ["0", "-7", "NULL"])
def test_an_audit_entry_forged_outside_the_chain_breaks_it(store: Store, place: str) -> None:
    """The twin numbers entries from 1. A row inserted with place 0 or below (which
    `twin audit` lists as the oldest entry) was never read by verify()."""
    store.audit.record("twin", "sent", "Alice", "approved draft delivered")
    assert store.audit.verify().broken is None
    with store.engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO audit_entry (id, seq, at, actor, action, subject, why, detail, "
            f"prev_hash, hash) SELECT 99, {place}, at, 'owner', 'approved', 'Mallory', "
            "'you approved it', detail, prev_hash, hash FROM audit_entry WHERE seq = 1"
        )
    verdict = store.audit.verify()
    assert verdict.broken is not None and "has no place in the chain" in verdict.broken
    assert verdict.entry_id == 99
