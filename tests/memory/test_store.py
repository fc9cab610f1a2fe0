"""The store contract: the same tests on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from twin_core.memory.models import Draft, DraftStatus, JobStatus, PolicyMode
from twin_core.memory.store import Store, UnknownContact
from twin_core.types import ChannelName, ChatId, ExternalId, HandleId, InboundEvent, MessageKind

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def event(
    external_id: str,
    text: str = "hi",
    *,
    sender: str = "alice",
    chat: str = "alice",
    channel: str = "telegram",
    from_owner: bool = False,
    at: datetime = T0,
    **kwargs: object,
) -> InboundEvent:
    return InboundEvent(
        channel=ChannelName(channel),
        external_id=ExternalId(external_id),
        chat_id=ChatId(chat),
        sender_id=HandleId(sender),
        sender_name=sender.title(),
        text=text,
        sent_at=at,
        from_owner=from_owner,
        **kwargs,  # type: ignore[arg-type]
    )


def test_recording_the_same_message_twice_is_a_no_op(store: Store) -> None:
    first = store.record(event("m1"))
    again = store.record(event("m1", "edited text is ignored"))
    assert first.created and not again.created
    assert again.message.id == first.message.id and again.message.text == "hi"
    assert store.stats()["messages"] == 1


def test_the_same_id_on_another_channel_is_another_message(store: Store) -> None:
    store.record(event("m1", channel="telegram"))
    store.record(event("m1", channel="whatsapp"))
    assert store.stats()["messages"] == 2


def test_record_many_counts_only_new_rows_and_resumes(store: Store) -> None:
    batch = [event(f"m{i}", f"text {i}", at=T0 + timedelta(minutes=i)) for i in range(1200)]
    assert store.record_many(batch[:700]) == 700
    assert store.record_many(batch) == 500  # a re-run after an interruption
    assert sorted(int(m.external_id[1:]) for m in store.iter_messages()) == list(range(1200))
    assert store.record_many(batch) == 0


def test_timestamps_come_back_aware_and_equal(store: Store) -> None:
    at = datetime(2026, 3, 1, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    recorded = store.record(event("m1", at=at))
    stored = store.message(recorded.message.id or 0)
    assert stored is not None
    assert stored.sent_at == at and stored.sent_at.tzinfo is not None


def test_text_in_any_script_and_large_texts_round_trip(store: Store) -> None:
    texts = ["Привет 👋", "こんにちは世界", "مرحبا", "🎉" * 50, "x" * 100_000, "a\u200eb\u202fc"]
    for number, text in enumerate(texts):
        store.record(event(f"t{number}", text))
    stored = sorted(store.iter_messages(), key=lambda m: m.id or 0)
    assert [m.text for m in stored] == texts


def test_one_handle_per_channel_identity_is_one_contact(store: Store) -> None:
    store.record(event("m1", sender="+4915112345", chat="c1"))
    store.record(event("m2", sender="+4915112345", chat="c1"))
    [contact] = store.contacts()
    assert contact.id is not None
    [handle] = store.handles(contact.id)
    assert (handle.channel, handle.external_id) == ("telegram", "+4915112345")


def test_two_people_with_one_name_get_distinct_contact_names(store: Store) -> None:
    store.record(event("m1", sender="alice", channel="telegram"))
    store.record(event("m2", sender="alice", chat="x", channel="slack"))
    assert sorted(c.name for c in store.contacts()) == ["Alice", "Alice (slack)"]


def test_find_contact_by_name_prefix_and_reports_unknown(store: Store) -> None:
    store.record(event("m1", sender="alice"))
    store.record(event("m2", sender="albert", chat="albert"))
    assert store.find_contact("ALICE").name == "Alice"
    assert store.find_contact("@alb").name == "Albert"
    with pytest.raises(UnknownContact, match="could be any of"):
        store.find_contact("al")
    with pytest.raises(UnknownContact, match="no contact named 'zed'"):
        store.find_contact("zed")


def test_conversation_learns_its_contact_from_the_first_message_of_theirs(store: Store) -> None:
    store.record(event("o1", "hello?", sender="owner", from_owner=True))
    assert store.record(event("o1x", "hey", at=T0 + timedelta(minutes=1))).conversation.contact_id
    [conversation_id] = store.conversations_with(store.find_contact("alice").id or 0)
    assert [m.text for m in store.conversation_messages(conversation_id)] == ["hello?", "hey"]


def test_owner_reply_after_finds_the_answer_only(store: Store) -> None:
    asked = store.record(event("m1", "dinner?")).message
    store.record(event("m2", "yes!", sender="me", from_owner=True, at=T0 + timedelta(minutes=2)))
    ignored = store.record(event("m3", "ok", at=T0 + timedelta(minutes=3))).message
    store.record(event("m4", "and?", at=T0 + timedelta(minutes=4)))
    store.record(event("m5", "sure", sender="me", from_owner=True, at=T0 + timedelta(minutes=5)))
    reply = store.owner_reply_after(asked)
    assert reply is not None and reply.text == "yes!"
    assert store.owner_reply_after(ignored) is None  # another message came first


def test_draft_moves_only_from_the_expected_state(store: Store) -> None:
    recorded = store.record(event("m1"))
    draft = store.add_draft(
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
    assert store.move_draft(draft.id, [DraftStatus.PENDING], DraftStatus.APPROVED)
    assert not store.move_draft(draft.id, [DraftStatus.PENDING], DraftStatus.REJECTED)
    assert store.move_draft(draft.id, [DraftStatus.APPROVED], DraftStatus.SENDING, text="hi")
    stored = store.draft(draft.id)
    assert stored is not None and stored.status == DraftStatus.SENDING and stored.text == "hi"
    assert stored.reasons == ["because"]
    assert store.stats()["drafts"]["sending"] == 1


def test_policy_state_and_jobs(store: Store) -> None:
    contact = store.record(event("m1")).contact
    assert contact is not None and contact.id is not None
    assert store.policy(contact.id) is None
    store.set_policy(contact.id, PolicyMode.AUTO)
    store.set_policy(contact.id, PolicyMode.OFF)
    assert store.policy(contact.id) is PolicyMode.OFF
    store.set_state("paused", "1")
    assert store.get_state("paused") == "1" and store.get_state("missing", "d") == "d"
    assert store.schedule_job("send-draft-1", "send_draft", [1], T0)
    assert not store.schedule_job("send-draft-1", "send_draft", [1], T0)
    [job] = store.pending_jobs()
    store.finish_job(job.id or 0, JobStatus.DONE)
    assert store.pending_jobs() == []


def test_audit_entries_keep_their_detail(store: Store) -> None:
    store.audit("owner", "approved", "Alice", "you approved it", draft_id=3, at=T0)
    [entry] = store.audit_entries(action="approved")
    assert entry.detail == {"draft_id": 3, "at": str(T0)}
    assert store.stats()["audit_entries"] == 1


def test_media_and_reply_links_are_kept(store: Store) -> None:
    store.record(event("m1", "[image]", kind=MessageKind.MEDIA, reply_to=ExternalId("m0")))
    [message] = store.iter_messages()
    assert message.kind == "media" and message.reply_to == "m0"


def test_reopening_runs_no_migration_twice(store_url: str) -> None:
    Store.open(store_url).close()
    again = Store.open(store_url)
    again.record(event("m1"))
    assert again.stats()["messages"] == 1
    again.close()


def test_the_same_phone_number_on_two_platforms_is_one_contact(store: Store) -> None:
    store.record(event("w1", sender="+49 151 2345 6789", chat="wa", channel="whatsapp"))
    store.record(event("t1", sender="+4915123456789", chat="tg", channel="telegram"))
    store.record(event("e1", sender="Bob@Example.org", chat="m1", channel="email"))
    store.record(event("s1", sender="bob@example.org", chat="m2", channel="slack"))
    overview = store.contact_overview()
    assert len(overview) == 2
    assert sorted(len(row["handles"]) for row in overview) == [2, 2]


def test_merge_moves_everything_and_keeps_the_targets_policy(store: Store) -> None:
    alice = store.record(event("a1", sender="alice", chat="a")).contact
    other = store.record(event("a2", sender="ali", chat="b", channel="slack")).contact
    assert alice and other and alice.id and other.id
    store.set_policy(other.id, PolicyMode.AUTO)
    store.merge_contacts(other.id, alice.id)
    [row] = store.contact_overview()
    assert row["name"] == "Alice" and row["messages"] == 2
    assert row["handles"] == ["telegram:alice", "slack:ali"]
    assert store.policy(alice.id) is PolicyMode.AUTO
    assert sorted(store.conversations_with(alice.id)) == [1, 2]
    with pytest.raises(ValueError, match="itself"):
        store.merge_contacts(alice.id, alice.id)


def test_a_message_without_sender_belongs_to_nobody(store: Store) -> None:
    store.record(event("s1", "Alice joined", sender="", kind=MessageKind.SYSTEM))
    assert store.contacts() == [] and store.stats()["messages"] == 1
