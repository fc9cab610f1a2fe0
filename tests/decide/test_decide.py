from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support.events import T0, event
from twin_core.decide import decider as decider_module
from twin_core.decide.decider import Decider
from twin_core.decide.reply import should_reply
from twin_core.decide.route import Route, route
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


def test_send_time_follows_the_owner(tmp_path: object) -> None:
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
    alice = store.contacts.find("alice").id
    decider = Decider(store, seed=1)
    decider.refresh()
    drawn = {
        decider.send_time(alice, T0, fixed=None, ceiling=3600, quiet=None).delay_s
        for _ in range(30)
    }
    assert drawn == {120.0, 240.0, 1800.0}
    capped = decider.send_time(alice, T0, fixed=None, ceiling=60, quiet=None)
    assert capped.delay_s == 60.0 and "capped" in capped.why
    assert decider.send_time(alice, T0, fixed=5.0, ceiling=60, quiet=None).delay_s == 5.0
    stranger = Decider(Store.open(f"sqlite:///{tmp_path}/empty.db"))  # type: ignore[str-bytes-safe]
    assert stranger.send_time(None, T0, fixed=None, ceiling=60, quiet=None).delay_s == 6.0


def test_a_model_with_too_little_history_is_trained_once_there_is_enough(
    tmp_path: object,
) -> None:
    """A twin that started on an empty store (nothing to learn from) learns an import
    that comes in later at the next refresh, not 200 outcomes later."""
    store = Store.open(f"sqlite:///{tmp_path}/t.db")  # type: ignore[str-bytes-safe]
    decider = Decider(store, seed=1)
    decider.refresh()  # at start: an empty store
    assert not decider.model.ready
    for day in range(40):  # Alice asks and is answered; the newsletter never is
        at = T0 + timedelta(days=day)
        store.messages.record(event(f"a{day}", f"lunch at {day % 3 + 12}?", at=at))
        store.messages.record(
            event(f"o{day}", "sure!", sender="me", from_owner=True, at=at + timedelta(minutes=4))
        )
        store.messages.record(event(f"n{day}", "gardening news", sender="news", chat="news", at=at))
    decider.refresh()
    assert decider.model.ready and decider.model.trained_on >= 40
    store.close()


def test_the_model_learns_from_the_latest_outcomes_only(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long history trains on its latest `MAX_TRAIN` outcomes, so a start (and every
    retrain) takes bounded time whatever the history's size."""
    monkeypatch.setattr(decider_module, "MAX_TRAIN", 50)
    store = Store.open(f"sqlite:///{tmp_path}/t.db")  # type: ignore[str-bytes-safe]
    for day in range(60):  # 60 answered questions and 60 unanswered newsletters
        at = T0 + timedelta(days=day)
        store.messages.record(event(f"a{day}", f"lunch at {day % 3 + 12}?", at=at))
        store.messages.record(
            event(f"o{day}", "sure!", sender="me", from_owner=True, at=at + timedelta(minutes=4))
        )
        store.messages.record(event(f"n{day}", "gardening news", sender="news", chat="news", at=at))
    decider = Decider(store, seed=1)
    decider.refresh()
    known = [s for s in decider.history.samples if s.replied is not None]
    assert len(known) > 100
    assert decider.model.ready and decider.model.trained_on == 50
    store.close()
