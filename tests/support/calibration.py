"""A small history of the owner's reply pairs, for the draft-confidence calibration."""

from __future__ import annotations

from datetime import timedelta

from tests.support.events import T0, event
from twin_core.memory.store import Store


def record_thanks(store: Store, count: int, *, first: int = 0) -> None:
    """`count` exchanges an hour apart: a contact writes "thanks!", the owner answers
    "anytime 🙂" a minute later (external ids from `first`, so more can follow)."""
    for i in range(first, first + count):
        at = T0 + timedelta(hours=i)
        store.messages.record(event(f"q{i}", "thanks!", at=at))
        store.messages.record(
            event(f"a{i}", "anytime 🙂", sender="me", from_owner=True, at=at + timedelta(minutes=1))
        )
