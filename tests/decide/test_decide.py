from __future__ import annotations

from datetime import timedelta

from tests.support.events import T0, event
from twin_core.decide.reply import should_reply
from twin_core.decide.route import Route, route
from twin_core.decide.timing import reply_delay
from twin_core.memory.models import Conversation, Message
from twin_core.memory.store import Store
from twin_core.types import PolicyMode


def message(text: str = "hi", **kwargs: object) -> Message:
    return Message(channel="x", external_id="1", conversation_id=1, text=text, sent_at=T0, **kwargs)  # type: ignore[arg-type]


def test_should_reply() -> None:
    dm = Conversation(channel="x", external_id="c")
    group = Conversation(channel="x", external_id="g", is_group=True)
    assert should_reply(message(), dm, PolicyMode.DRAFT, "Sam").reply
    assert not should_reply(message(from_owner=True), dm, PolicyMode.DRAFT, "Sam").reply
    assert not should_reply(message(), dm, PolicyMode.OFF, "Sam").reply
    assert not should_reply(message("  "), dm, PolicyMode.DRAFT, "Sam").reply
    assert not should_reply(message(kind="media"), dm, PolicyMode.DRAFT, "Sam").reply
    assert not should_reply(message("lunch?"), group, PolicyMode.DRAFT, "Sam Lee").reply
    assert should_reply(message("sam, lunch?"), group, PolicyMode.DRAFT, "Sam Lee").reply


def test_route_only_auto_confident_and_running_skips_the_owner() -> None:
    assert route(PolicyMode.AUTO, 0.9, 0.8, paused=False).route is Route.AUTO
    assert route(PolicyMode.AUTO, 0.79, 0.8, paused=False).route is Route.APPROVE
    assert route(PolicyMode.AUTO, 0.99, 0.8, paused=True).route is Route.APPROVE
    assert route(PolicyMode.DRAFT, 1.0, 0.8, paused=False).route is Route.APPROVE


def test_reply_delay_follows_the_owner(tmp_path: object) -> None:
    store = Store.open(f"sqlite:///{tmp_path}/t.db")  # type: ignore[str-bytes-safe]
    for number, minutes in enumerate([2, 4, 30]):
        at = T0 + timedelta(hours=number)
        store.messages.record(event(f"in{number}", "q", at=at))
        store.messages.record(
            event(
                f"out{number}",
                "a",
                sender="me",
                from_owner=True,
                at=at + timedelta(minutes=minutes),
            )
        )
    [conversation_id] = store.conversations.with_contact(store.contacts.find("alice").id or 0)
    assert reply_delay(store, conversation_id, fixed=None, ceiling=3600) == 240.0
    assert reply_delay(store, conversation_id, fixed=None, ceiling=60) == 60.0
    assert reply_delay(store, conversation_id, fixed=5.0, ceiling=60) == 5.0
    assert reply_delay(store, 999, fixed=None, ceiling=60) == 6.0
