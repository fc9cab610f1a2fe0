"""Each contact's style profile, kept up to date incrementally.

A profile is stored as JSON in the state table (`style:<contact id>`) with the id of
the last message it counted; reading it counts only the messages recorded since, so a
draft pays for the few newest messages, not for the whole history. Only the owner's
text messages in their one-to-one conversations with the contact are counted: what the
owner wrote to them, nobody else's.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import timedelta

from sqlmodel import col, select

from twin_core.memory.models import Message
from twin_core.memory.store import Store
from twin_core.style.pairing import NOT_TURNS
from twin_core.style.profile import StyleProfile
from twin_core.types import ContactId

STATE_PREFIX = "style:"
READ_BATCH = 5000


@dataclass(slots=True)
class ContactStyle:
    """A contact's profile overall and per channel."""

    overall: StyleProfile = field(default_factory=StyleProfile)
    channels: dict[str, StyleProfile] = field(default_factory=dict)
    last_id: int = 0

    def for_channel(self, channel: str | None) -> StyleProfile:
        """The channel's own profile where it differs from the overall one."""
        own = self.channels.get(channel or "")
        return own if own is not None and own.differs_from(self.overall) else self.overall

    def differing_channels(self) -> dict[str, StyleProfile]:
        return {k: v for k, v in self.channels.items() if v.differs_from(self.overall)}

    def to_json(self) -> str:
        return json.dumps(
            {
                "overall": json.loads(self.overall.to_json()),
                "channels": {k: json.loads(v.to_json()) for k, v in self.channels.items()},
                "last_id": self.last_id,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> ContactStyle:
        data = json.loads(text)
        return cls(
            overall=StyleProfile.from_json(json.dumps(data["overall"])),
            channels={
                k: StyleProfile.from_json(json.dumps(v)) for k, v in data["channels"].items()
            },
            last_id=int(data.get("last_id", 0)),
        )


def learn(style: ContactStyle, history: list[Message], previous: Message | None) -> None:
    """Count the owner's messages of `history` (one conversation, time order) into
    `style`; `previous` is the message before the first of them, when known."""
    before = previous
    for message in history:
        if message.kind in NOT_TURNS:
            continue
        if message.from_owner and message.kind == "text":
            new_turn = before is None or not before.from_owner
            delay: timedelta | None = None
            if before is not None and not before.from_owner:
                delay = message.sent_at - before.sent_at
            style.overall.add(message.text, new_turn=new_turn, delay=delay)
            channel = style.channels.setdefault(message.channel, StyleProfile())
            channel.add(message.text, new_turn=new_turn, delay=delay)
        before = message
        style.last_id = max(style.last_id, message.id or 0)


SAVE_EVERY = 20
"""A profile kept in memory is written back after this many newly counted messages."""


class StyleProfiles:
    """Profiles read once from the state table, then kept in memory and brought up to
    date with one indexed query per draft (a long-lived instance: the composer's)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._known: dict[ContactId, tuple[ContactStyle, int]] = {}
        self._lock = threading.Lock()
        self._counted_at_save: dict[ContactId, int] = {}

    def of(self, contact_id: ContactId) -> ContactStyle:
        """The contact's profile, brought up to date with what was recorded since."""
        with self._lock:
            return self._of(contact_id)

    def _of(self, contact_id: ContactId) -> ContactStyle:
        key = f"{STATE_PREFIX}{contact_id}"
        known = self._known.get(contact_id)
        if known is None:
            stored = self.store.state.get(key)
            style = ContactStyle.from_json(stored) if stored else ContactStyle()
            saved = style.last_id if stored else -1
        else:
            style, saved = known
        seen = style.last_id
        for conversation_id in self.store.conversations.with_contact(contact_id):
            after = seen
            while True:
                with self.store.database.session() as session:
                    batch = list(
                        session.exec(
                            select(Message)
                            .where(
                                Message.conversation_id == conversation_id,
                                col(Message.id) > after,
                            )
                            .order_by(col(Message.id))
                            .limit(READ_BATCH)
                        ).all()
                    )
                if not batch:
                    break
                after = batch[-1].id or after
                batch.sort(key=lambda m: (m.sent_at, m.id or 0))
                first = batch[0]
                earlier = self.store.messages.in_conversation(
                    conversation_id, around=first.sent_at, limit=2
                )
                previous = next((m for m in reversed(earlier) if m.id != first.id), None)
                learn(style, batch, previous if previous and previous.id != first.id else None)
        counted = style.overall.messages
        due = saved < 0 or counted - self._counted_at_save.get(contact_id, 0) >= SAVE_EVERY
        if style.last_id != saved and due:
            self.store.state.set(key, style.to_json())
            saved = style.last_id
            self._counted_at_save[contact_id] = counted
        self._known[contact_id] = (style, saved)
        return style

    def forget(self, contact_id: ContactId) -> None:
        """Drop a profile (after a merge or `/forget`): it is learned again from scratch."""
        with self._lock:
            self._known.pop(contact_id, None)
            self.store.state.set(f"{STATE_PREFIX}{contact_id}", "")
