"""Who the owner is: from settings, or paired with a one-time code sent to the bot;
strangers who write to the bot get one fixed answer and an audit entry."""

from __future__ import annotations

from dataclasses import replace

from bot.handlers.dispatch import STRANGER_ANSWER
from bot.handlers.owner import MAX_ATTEMPTS
from tests.conftest import TwinFactory


async def test_a_pairing_code_makes_its_sender_the_owner_and_the_chat_the_control_chat(
    make_twin: TwinFactory,
) -> None:
    h = await make_twin()
    identity = h.twin.services.identity()
    code = identity.issue_code("fake")
    assert not identity.is_owner("fake", "u77")
    dm = h.channel.event("u77", f"  {code.lower()} ", chat="dm-77", to_bot=True)
    await h.push(dm)
    assert h.sent_to("dm-77") == ["Paired: you are the owner here, and this is your control chat."]
    assert identity.is_owner("fake", "u77")
    control = identity.control_chat()
    assert (control.channel, control.chat_id) == ("fake", "dm-77")
    # the control chat now is that chat: commands there work, and the owner is told there
    await h.push(h.channel.event("u77", "/status", chat="dm-77", to_bot=True))
    assert h.sent_to("dm-77")[-1].startswith("Running")
    [paired] = h.twin.store.audit.entries(action="paired")
    assert paired.subject == "fake:u77"
    # the code is single use
    await h.push(h.channel.event("u88", code, chat="dm-88", to_bot=True))
    assert h.sent_to("dm-88") == [STRANGER_ANSWER]
    assert not identity.is_owner("fake", "u88")


async def test_wrong_codes_are_limited_and_strangers_get_one_fixed_answer(
    make_twin: TwinFactory,
) -> None:
    h = await make_twin()
    identity = h.twin.services.identity()
    code = identity.issue_code("fake")
    for attempt in range(MAX_ATTEMPTS):
        await h.push(h.channel.event("eve", f"GUESS{attempt}", chat="dm-eve", to_bot=True))
    assert not identity.pairing_open("fake")  # too many wrong tries: the code is gone
    await h.push(h.channel.event("eve", code, chat="dm-eve", to_bot=True))
    assert not identity.is_owner("fake", "eve")
    assert set(h.sent_to("dm-eve")) == {STRANGER_ANSWER}
    refused = h.twin.store.audit.entries(action="refused")
    assert len(refused) == MAX_ATTEMPTS + 1 and all(e.actor == "fake:eve" for e in refused)
    # nothing a stranger sent the bot is a contact's message, or drafted for
    assert h.twin.store.messages.count() == 0 and h.drafts() == []


async def test_a_stranger_in_a_direct_chat_with_the_bot_is_not_a_contact(
    make_twin: TwinFactory,
) -> None:
    h = await make_twin()
    event = h.channel.event("mallory", "/auto mallory on", chat="dm-m", to_bot=True)
    await h.push(replace(event, text="/pause"))
    assert not h.twin.outbox.paused()
    assert h.sent_to("dm-m") == [STRANGER_ANSWER]
    assert h.twin.store.contacts.all() == []
