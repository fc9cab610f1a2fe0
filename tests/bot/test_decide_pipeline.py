"""Deciding in the running twin: reasons, verdicts, the undo window, the gate, groups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.conftest import TwinFactory
from tests.support.cli import Cli
from tests.support.harness import Harness
from tests.support.history import HISTORY
from twin_core.memory.models import DraftStatus


async def test_why_tells_the_whole_reasoning(h: Harness) -> None:
    h.seed(HISTORY)
    await h.says("alice", "are we still on for dinner on friday?")
    [why] = await h.command("/why 1")
    assert why.startswith("Why draft 1 for Alice (pending):")
    for step in (
        "Alice has no policy of their own: the default draft",
        "rules: a message to you that expects an answer",
        "reply or not: too little history to learn from yet",
        "what it saw: a direct message, a question",
        "the safety gate: the safety gate found nothing sensitive",
        "confidence ",
        "route: approve, policy for this contact is draft: you decide",
    ):
        assert step in why
    assert await h.command("/why 9") == ["There is no draft 9 (see /drafts)."]
    # Alone, /why is about the one draft waiting (a Why button says it with its number).
    [alone] = await h.command("/why")
    assert alone.startswith("Why draft 1 for Alice")


async def test_teach_records_the_verdict_and_the_twin_learns_it(h: Harness) -> None:
    h.seed(HISTORY)
    await h.says("alice", "are we still on for dinner on friday?")
    [taught] = await h.command("/teach 1 good")
    assert taught.startswith("Noted for draft 1 to Alice: good, answering like this was right")
    [again] = await h.command("/teach 1 bad")
    assert "bad (was good)" in again
    [judged] = h.twin.store.decisions.judged()
    assert judged.verdict == "bad" and judged.features
    assert await h.command("/teach 1 maybe") == ["usage: /teach N good|bad"]
    assert any(e.action == "taught" for e in h.twin.store.audit.entries())
    await h.says("bob", "running late for the 1:1")  # the next decision retrains first
    assert h.twin.inbound.decider.verdicts_learned == 1


async def test_an_auto_reply_waits_the_undo_window_and_cancel_stops_it(
    make_twin: TwinFactory,
) -> None:
    h = await make_twin(undo_window_s=3600.0)
    h.seed(HISTORY)
    await h.command("/auto bob on 0.3")
    await h.says("bob", "running late for the 1:1")
    card = h.control()[-1]
    assert "Goes out on its own in 3600s · /cancel 1 to stop it" in card
    [sent_card] = [m for m in h.channel.sent if m.chat_id == "control" and m.text == card]
    assert [b.command for b in sent_card.buttons] == ["/cancel 1", "/why 1"]
    assert await h.command("/cancel 1") == ["Draft 1 to Bob is cancelled: it will not go out."]
    await h.twin.jobs.drain()
    assert h.sent_to("bob") == []
    assert h.drafts()[0].status == DraftStatus.REJECTED
    assert any(e.action == "cancelled" for e in h.twin.store.audit.entries())
    assert await h.command("/cancel") == ["Nothing to cancel."]


async def test_the_safety_gate_keeps_a_sensitive_message_from_going_out_alone(
    h: Harness,
) -> None:
    history = {
        **HISTORY,
        "bob": [*HISTORY["bob"], ("bob", "can you lend me 50 bucks till friday?"), ("me", "sure")],
    }
    h.seed(history)
    await h.command("/auto bob on")
    await h.says("bob", "can you lend me 50 bucks till friday?")
    await h.twin.jobs.drain()
    assert h.sent_to("bob") == []
    [draft] = h.drafts()
    assert draft.status == DraftStatus.PENDING and draft.confidence <= 0.3
    card = h.control()[-1]
    assert "the safety gate flagged it (commitment, money): you decide" in card
    [why] = await h.command(f"/why {draft.id}")
    assert 'their message involves money or payment details ("lend")' in why


async def test_groups_are_off_unless_the_owner_is_named_or_configured(
    make_twin: TwinFactory,
) -> None:
    h = await make_twin()
    h.seed(HISTORY)
    await h.says("alice", "dinner on friday, anyone?", chat="friends", is_group=True)
    assert h.drafts() == []
    entry = [e for e in h.twin.store.audit.entries() if e.action == "no_reply"][-1]
    assert entry.why.endswith("a group conversation: at most off (TWIN_GROUP_POLICY)")
    # Named, the message is addressed to the owner: a draft, never an automatic reply.
    await h.command("/auto alice on 0.0")
    await h.says("alice", "Sam, dinner on friday?", chat="friends", is_group=True)
    [draft] = h.drafts()
    assert draft.status == DraftStatus.PENDING and not draft.auto
    allowed = await make_twin(group_policy="draft")
    allowed.seed(HISTORY)
    await allowed.says("alice", "Sam, dinner on friday?", chat="friends", is_group=True)
    assert len(allowed.drafts()) == 1


async def test_a_contact_can_have_their_own_threshold(h: Harness) -> None:
    h.seed(HISTORY)
    [answer] = await h.command("/auto bob on 0.99")
    assert answer.startswith("Bob: auto") and "their own threshold 0.99" in answer
    await h.says("bob", "fixed the comments in the PR")
    await h.twin.jobs.drain()
    assert h.sent_to("bob") == []  # below Bob's own 0.99
    assert "below the auto threshold 0.99" in h.control()[-1]


def test_why_and_teach_from_the_cli(tmp_path: Path, cli: Cli) -> None:
    home = ["--home", str(tmp_path)]
    assert cli(*home, "why", "3").stdout.strip() == "There is no draft 3 (see /drafts)."
    refused = cli(*home, "teach", "3", "meh")
    assert refused.exit_code != 0 and "VERDICT is good or bad" in refused.stderr


async def test_a_message_the_owner_would_leave_unanswered_gets_no_draft(h: Harness) -> None:
    """Learned from history: Sam answers Alice's questions within minutes and never
    the newsletter. A new newsletter gets no draft; a new question from Alice does."""
    start = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
    events = []
    for day in range(40):
        at = start + timedelta(days=day)
        events.append(
            h.channel.event("alice", f"lunch at {day % 3 + 12}?", external_id=f"a{day}", sent_at=at)
        )
        events.append(
            h.channel.event(
                "owner",
                "sure!",
                chat="alice",
                from_owner=True,
                external_id=f"o{day}",
                sent_at=at + timedelta(minutes=4),
            )
        )
        events.append(
            h.channel.event(
                "news",
                f"Issue {day}: this week in gardening",
                external_id=f"n{day}",
                sent_at=at + timedelta(hours=3),
            )
        )
    h.twin.store.messages.record_many(events)
    await h.says("news", "Issue 41: this week in gardening")
    assert h.drafts() == []
    entry = [e for e in h.twin.store.audit.entries() if e.action == "no_reply"][-1]
    assert entry.why.startswith("you would likely not answer this")
    await h.says("alice", "lunch at 1?")
    assert len(h.drafts()) == 1
    [why] = await h.command("/why 1")
    assert "the model learned from your history says you answer messages like this" in why
