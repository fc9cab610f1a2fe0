"""The inbound pipeline and the control chat, driven through a real Twin."""

from __future__ import annotations

import asyncio

from sqlmodel import Session, select

from tests.conftest import TwinFactory
from tests.support.harness import Harness
from tests.support.history import HISTORY
from twin_core.memory.models import DraftStatus, Message
from twin_core.memory.store import Recorded


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
    [draft] = h.drafts()
    assert draft.status == DraftStatus.SENT
    sent = [m for m in messages(h) if m.draft_id == draft.id]
    assert len(sent) == 1 and sent[0].from_owner and sent[0].text == draft.text
    assert sent[0].contact_id is None  # recorded as the twin's own send, not an inbound


async def test_edit_sends_the_owners_text(h: Harness) -> None:
    h.seed(HISTORY)
    await h.says("bob", "can you review my PR today?")
    h.control()
    assert await h.command("/edit 1 yes, after lunch") == ["Sent to Bob."]
    assert h.sent_to("bob") == ["yes, after lunch"]
    assert h.drafts()[0].text == "yes, after lunch"


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
    await h.push(event)
    await h.push(event)
    assert len([m for m in messages(h) if m.external_id == "wamid-1"]) == 1
    assert len(h.drafts()) == 1


async def test_owner_replying_directly_expires_pending_drafts(h: Harness) -> None:
    h.seed(HISTORY)
    await h.says("alice", "dinner friday?")
    await h.owner_writes("alice", "yes, 8 this time")
    [draft] = h.drafts()
    assert draft.status == DraftStatus.EXPIRED
    assert await h.command("/approve 1") == ["Draft 1 is expired; nothing to do."]
    assert h.sent_to("alice") == []
    assert any(e.action == "draft_expired" for e in h.twin.store.audit.entries())


async def test_a_burst_gets_one_draft_that_answers_all_of_it(h: Harness) -> None:
    h.seed(HISTORY)
    await h.burst("alice", "hey", "are we still on", "for dinner on friday?")
    drafts = h.drafts()
    assert len(drafts) == 1
    [card] = h.control()
    assert "Alice: hey\nAlice: are we still on\nAlice: for dinner on friday?" in card
    [entry] = h.twin.store.audit.entries(action="drafted")
    assert len(entry.detail["answers"]) == 3


async def test_a_later_message_supersedes_the_waiting_draft(h: Harness) -> None:
    h.seed(HISTORY)
    await h.says("alice", "are we still on for friday?")
    await h.says("alice", "dinner on friday still?")
    first, second = h.drafts()
    assert first.status == DraftStatus.SUPERSEDED and second.status == DraftStatus.PENDING
    told = h.control()
    assert "Draft 1 for Alice is replaced: they wrote again." in told
    assert "Alice: are we still on for friday?\nAlice: dinner on friday still?" in told[-1]
    assert await h.command("/approve 1") == ["Draft 1 is superseded; nothing to do."]


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
    assert h.drafts()[1].status == DraftStatus.PENDING

    assert await h.command("/resume") == ["Resumed. Sent 1 held draft(s)."]
    assert h.sent_to("alice") == ["yes! 7pm at Luigi's, I booked a table"]


async def test_auto_policy_sends_confident_replies_without_asking(make_twin: TwinFactory) -> None:
    # The offline responder's confidence is calibrated (at most 0.46 on held-out
    # history, docs/BENCHMARKS.md): an owner who wants its drafts sent sets a threshold.
    h = await make_twin(auto_confidence=0.3)
    h.seed(HISTORY)
    assert (await h.command("/auto bob on"))[0].startswith("Bob: auto")
    await h.says("bob", "running late for the 1:1")
    await h.twin.jobs.drain()
    assert h.sent_to("bob") == ["no worries, see you soon"]
    [draft] = h.drafts()
    assert draft.status == DraftStatus.SENT and draft.auto
    assert any(e.action == "auto_approved" for e in h.twin.store.audit.entries())


async def test_auto_policy_still_asks_when_unsure(h: Harness) -> None:
    h.seed(HISTORY)
    await h.command("/auto bob on")
    await h.says("bob", "can you review my other PR too?")
    await h.twin.jobs.drain()
    assert h.sent_to("bob") == []
    assert h.drafts()[0].status == DraftStatus.PENDING
    assert "below the auto threshold" in h.control()[-1]
    # and when nothing fits there is no draft at all: the closest moment instead
    await h.says("bob", "what do you think about the quarterly budget numbers")
    await h.twin.jobs.drain()
    assert h.sent_to("bob") == [] and len(h.drafts()) == 1
    assert "No draft: no good match" in h.control()[-1]


async def test_off_policy_records_but_never_drafts(h: Harness) -> None:
    h.seed(HISTORY)
    await h.command("/auto alice off")
    await h.says("alice", "dinner friday?")
    assert h.drafts() == []
    assert any(m.text == "dinner friday?" for m in messages(h))


async def test_a_contact_with_no_history_gets_no_invented_reply(h: Harness) -> None:
    await h.says("zoe", "hello, we met at the conference")
    [notice] = h.control()
    assert "No draft" in notice and "Answer them yourself" in notice
    assert h.drafts() == []


async def test_the_callback_returns_before_drafting(make_twin: TwinFactory) -> None:
    """The channel's callback records and returns; drafting happens after, off it."""
    h = await make_twin(burst_window_s=0.3)
    h.seed(HISTORY)
    await h.channel.push(h.channel.event("alice", "dinner friday?"))
    assert any(m.text == "dinner friday?" for m in messages(h))  # recorded already
    assert h.drafts() == []  # not drafted yet: the callback did not wait for it
    await h.twin.idle()
    assert len(h.drafts()) == 1


async def test_conversations_are_handled_concurrently_each_in_order(
    make_twin: TwinFactory,
) -> None:
    """Messages pushed one after another: each conversation's batches are handled in
    the order they came, and two conversations are handled at the same time."""
    h = await make_twin(inbound_concurrency=2)
    h.seed(HISTORY)
    handled: list[tuple[str, list[str]]] = []
    running: set[int] = set()
    overlapped: list[bool] = []
    real = h.twin.inbound.handle

    async def slow_handle(batch: list[Recorded]) -> None:
        conversation = batch[-1].conversation.id or 0
        running.add(conversation)
        overlapped.append(len(running) > 1)
        await asyncio.sleep(0.05)  # a slow model: the other conversation goes on
        handled.append((batch[-1].conversation.external_id, [r.message.text for r in batch]))
        await real(batch)
        running.discard(conversation)

    h.twin.inbound.handle = slow_handle  # type: ignore[method-assign]
    for n in range(3):
        for who in ("alice", "bob"):
            await h.channel.push(h.channel.event(who, f"note {n} from {who}"))
    await h.twin.idle()
    for who in ("alice", "bob"):
        texts = [text for chat, batch in handled if chat == who for text in batch]
        assert texts == [f"note {n} from {who}" for n in range(3)]
    assert any(overlapped)
    assert h.twin.inbound.busy == 0


async def test_edit_alone_takes_the_next_message_as_the_text(h: Harness) -> None:
    """What a platform's Edit button does: `/edit N`, then the owner's next message."""
    h.seed(HISTORY)
    await h.says("bob", "can you review my PR today?")
    assert await h.command("/edit 1") == [
        "Send the text for draft 1 as your next message (/cancel to keep it)."
    ]
    assert await h.command("after lunch, promise") == ["Sent to Bob."]
    assert h.sent_to("bob") == ["after lunch, promise"]
    await h.says("bob", "and the other PR?")
    await h.command("/edit 2")
    await h.command("/drafts")  # anything else first: the pending edit is dropped
    assert await h.command("tomorrow") == ["Commands start with '/'. /help lists them."]
    assert h.sent_to("bob") == ["after lunch, promise"]
