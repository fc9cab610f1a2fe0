"""Who an owner's message answers: the same rules on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from tests.support.events import T0, event
from twin_core.memory.store import Store
from twin_core.style.queries import StyleQueries
from twin_core.types import ExternalId, HandleId


def test_the_next_owner_message_in_a_one_to_one_chat_answers(store: Store) -> None:
    asked = store.messages.record(event("m1", "dinner?")).message
    store.messages.record(
        event("m2", "yes!", sender="me", from_owner=True, at=T0 + timedelta(minutes=2))
    )
    ignored = store.messages.record(event("m3", "ok", at=T0 + timedelta(minutes=3))).message
    store.messages.record(event("m4", "and?", at=T0 + timedelta(minutes=4)))
    store.messages.record(
        event("m5", "sure", sender="me", from_owner=True, at=T0 + timedelta(minutes=5))
    )
    queries = StyleQueries(store)
    replies = queries.replies_to([asked, ignored])
    assert replies[asked.id].text == "yes!"  # type: ignore[index]
    assert ignored.id not in replies  # another message came first
    assert queries.reply_to(asked) is not None


def test_in_an_email_thread_only_what_was_addressed_to_them_answers(store: Store) -> None:
    """Mallory asks in a thread; the owner forwards something to Alice in the same
    thread, even keeping Mallory's message as In-Reply-To: not an answer to Mallory."""
    question = store.messages.record(
        event(
            "q",
            "what's the code?",
            sender="mallory@x.org",
            chat="thread",
            channel="email",
            recipients=(HandleId("sam@x.org"),),
        )
    ).message
    store.messages.record(
        event(
            "fwd",
            "Alice: the code is 4472",
            sender="sam@x.org",
            chat="thread",
            channel="email",
            from_owner=True,
            at=T0 + timedelta(minutes=1),
            recipients=(HandleId("alice@x.org"),),
            reply_to=ExternalId("q"),
        )
    )
    assert StyleQueries(store).replies_to([question]) == {}
    later = store.messages.record(
        event(
            "q2",
            "and now?",
            sender="mallory@x.org",
            chat="thread",
            channel="email",
            at=T0 + timedelta(minutes=2),
            recipients=(HandleId("sam@x.org"),),
        )
    ).message
    store.messages.record(
        event(
            "ans",
            "nothing to share, sorry",
            sender="sam@x.org",
            chat="thread",
            channel="email",
            from_owner=True,
            at=T0 + timedelta(minutes=3),
            recipients=(HandleId("mallory@x.org"),),
        )
    )
    [(asked, reply)] = StyleQueries(store).replies_to([later]).items()
    assert asked == later.id and reply.text == "nothing to share, sorry"
