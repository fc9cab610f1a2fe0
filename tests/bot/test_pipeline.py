"""The inbound pipeline and the control chat, driven through a real Twin."""

from __future__ import annotations

from sqlmodel import Session, select

from tests.conftest import Harness
from twin_core.memory.models import Draft, DraftStatus, Message

HISTORY = {
    "alice": [
        ("alice", "are we still on for dinner on friday?"),
        ("me", "yes! 7pm at Luigi's, I booked a table"),
        ("alice", "running late, sorry"),
        ("me", "no worries, see you soon"),
        ("alice", "thanks for the help today"),
        ("me", "sounds good!"),
    ],
    "bob": [
        ("bob", "can you review my PR?"),
        ("me", "on it, give me 20 minutes"),
        ("bob", "fixed the comments"),
        ("me", "sounds good!"),
        ("bob", "running late for the 1:1"),
        ("me", "no worries, see you soon"),
    ],
}


def drafts(h: Harness) -> list[Draft]:
    return h.twin.store.drafts(limit=1000)


def messages(h: Harness) -> list[Message]:
    with Session(h.twin.store.engine) as session:
        return list(session.exec(select(Message).order_by(Message.id)))  # type: ignore[arg-type]


async def test_contact_writes_owner_approves_reply_goes_out_and_is_recorded(h: Harness) -> None:
    h.seed(HISTORY)
    await h.says("alice", "hey, are we still on for dinner friday?")
    [card] = h.control()
    assert card.startswith("Draft 1 for Alice")
    assert "Reply: yes! 7pm at Luigi's, I booked a table" in card
    assert "your own reply to them" in card  # the reasons travel with the draft
    assert h.sent_to("alice") == []  # nothing goes out before the owner says so

    assert await h.command("/approve 1") == ["Sent to Alice."]
    assert h.sent_to("alice") == ["yes! 7pm at Luigi's, I booked a table"]
    [draft] = drafts(h)
    assert draft.status == DraftStatus.SENT
    sent = [m for m in messages(h) if m.draft_id == draft.id]
    assert len(sent) == 1 and sent[0].from_owner and sent[0].text == draft.text


async def test_edit_sends_the_owners_text(h: Harness) -> None:
    h.seed(HISTORY)
    await h.says("bob", "can you review my PR today?")
    h.control()
    assert await h.command("/edit 1 yes, after lunch") == ["Sent to Bob."]
    assert h.sent_to("bob") == ["yes, after lunch"]
    assert drafts(h)[0].text == "yes, after lunch"


async def test_reject_drops_the_draft(h: Harness) -> None:
    h.seed(HISTORY)
    await h.says("bob", "can you review my PR today?")
    assert await h.command("/reject 1") == ["Draft 1 rejected."]
    assert await h.command("/approve 1") == ["Draft 1 is rejected; nothing to do."]
    assert h.sent_to("bob") == []


async def test_approving_twice_sends_once(h: Harness) -> None:
    h.seed(HISTORY)
    await h.says("alice", "dinner on friday still?")
    await h.command("/approve 1")
    assert await h.command("/approve 1") == ["Draft 1 is sent; nothing to do."]
    assert len(h.sent_to("alice")) == 1


async def test_same_event_twice_is_stored_and_answered_once(h: Harness) -> None:
    h.seed(HISTORY)
    event = h.channel.event("alice", "dinner friday?", external_id="wamid-1")
    await h.channel.push(event)
    await h.channel.push(event)
    assert len([m for m in messages(h) if m.external_id == "wamid-1"]) == 1
    assert len(drafts(h)) == 1


async def test_owner_replying_directly_expires_pending_drafts(h: Harness) -> None:
    h.seed(HISTORY)
    await h.says("alice", "dinner friday?")
    await h.owner_writes("alice", "yes, 8 this time")
    [draft] = drafts(h)
    assert draft.status == DraftStatus.EXPIRED
    assert await h.command("/approve 1") == ["Draft 1 is expired; nothing to do."]
    assert h.sent_to("alice") == []
    assert any(e.action == "draft_expired" for e in h.twin.store.audit_entries())


async def test_pause_holds_every_outgoing_message_until_resume(h: Harness) -> None:
    h.seed(HISTORY)
    await h.command("/pause")
    await h.says("alice", "dinner friday?")
    [reply] = (await h.command("/approve 1"))[-1:]
    assert "on /resume" in reply
    # an auto contact gets no auto-send while paused either
    await h.command("/auto bob on")
    await h.says("bob", "running late for the 1:1")
    assert h.sent_to("alice") == [] and h.sent_to("bob") == []
    assert drafts(h)[1].status == DraftStatus.PENDING

    assert await h.command("/resume") == ["Resumed. Sent 1 held draft(s)."]
    assert h.sent_to("alice") == ["yes! 7pm at Luigi's, I booked a table"]


async def test_auto_policy_sends_confident_replies_without_asking(h: Harness) -> None:
    h.seed(HISTORY)
    assert (await h.command("/auto bob on"))[0].startswith("Bob: auto")
    await h.says("bob", "running late for the 1:1")
    await h.twin.services.queue.drain()
    assert h.sent_to("bob") == ["no worries, see you soon"]
    [draft] = drafts(h)
    assert draft.status == DraftStatus.SENT
    assert any(e.action == "auto_approved" for e in h.twin.store.audit_entries())


async def test_auto_policy_still_asks_when_unsure(h: Harness) -> None:
    h.seed(HISTORY)
    await h.command("/auto bob on")
    await h.says("bob", "what do you think about the quarterly budget numbers")
    await h.twin.services.queue.drain()
    assert h.sent_to("bob") == []
    assert drafts(h)[0].status == DraftStatus.PENDING
    assert "below the auto threshold" in h.control()[-1]


async def test_off_policy_records_but_never_drafts(h: Harness) -> None:
    h.seed(HISTORY)
    await h.command("/auto alice off")
    await h.says("alice", "dinner friday?")
    assert drafts(h) == []
    assert any(m.text == "dinner friday?" for m in messages(h))


async def test_a_contact_with_no_history_gets_no_invented_reply(h: Harness) -> None:
    await h.says("zoe", "hello, we met at the conference")
    [notice] = h.control()
    assert "No draft" in notice and "Answer them yourself" in notice
    assert drafts(h) == []
