"""Which of the owner's past replies the composer may show the model as examples.

This is where "what one contact was told stays with that contact" is enforced for
drafting: a reply the owner wrote to someone else is an example only when it is
shareable (see `twin_core.memory.personal`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime

from twin_core.memory.models import Message
from twin_core.memory.personal import is_shareable
from twin_core.memory.service import Memory

MAX_CANDIDATES = 40


@dataclass(frozen=True, slots=True)
class Example:
    """One earlier exchange: a contact wrote `their_text`, the owner answered `reply`."""

    their_text: str
    reply: str
    contact_id: int
    contact_name: str
    sent_at: datetime
    same_contact: bool
    message_id: int


def select_examples(
    memory: Memory, contact_id: int, incoming: str, *, limit: int = 8, exclude: int | None = None
) -> list[Example]:
    """Past exchanges most like `incoming`: this contact's first, then shareable others."""
    store = memory.store
    names = {c.id: c.name for c in store.contacts() if c.id is not None}
    hits = memory.recall_index.similar_contact_messages(incoming, limit=MAX_CANDIDATES)
    candidates = [h.doc_id for h in hits if h.doc_id != exclude]
    replies = store.owner_replies_to(candidates)
    messages = store.messages_by_id(candidates)
    own: list[Example] = []
    shared: list[Example] = []
    told: dict[str, int] = {}
    for message_id in candidates:
        reply = replies.get(message_id)
        message = messages.get(message_id)
        if reply is None or message is None or message.contact_id is None:
            continue
        example = _example(message, reply, names, same=message.contact_id == contact_id)
        if example.same_contact:
            own.append(example)
            continue
        if reply.text not in told:
            told[reply.text] = len(store.owner_text_contacts(reply.text))
        if is_shareable(reply.text, told[reply.text], names.values()):
            shared.append(example)
    if len(own) < limit:
        own.extend(_recent_exchanges(memory, contact_id, names, limit - len(own), exclude, own))
    return (own + shared)[:limit]


def _example(message: Message, reply: Message, names: dict[int, str], *, same: bool) -> Example:
    assert message.contact_id is not None and message.id is not None
    return Example(
        their_text=message.text,
        reply=reply.text,
        contact_id=message.contact_id,
        contact_name=names.get(message.contact_id, "?"),
        sent_at=message.sent_at,
        same_contact=same,
        message_id=message.id,
    )


def _recent_exchanges(
    memory: Memory,
    contact_id: int,
    names: dict[int, str],
    limit: int,
    exclude: int | None,
    already: list[Example],
) -> list[Example]:
    """This contact's latest exchanges, so the model sees how the owner writes to them
    even when nothing they said before resembles the new message."""
    if limit <= 0:
        return []
    seen = {e.message_id for e in already}
    found: list[Example] = []
    for conversation_id in memory.store.conversations_with(contact_id):
        history = memory.store.conversation_messages(conversation_id, limit=200)
        for earlier, later in itertools.pairwise(history):
            if (
                earlier.contact_id == contact_id
                and later.from_owner
                and earlier.id not in seen
                and earlier.id != exclude
                and earlier.kind == later.kind == "text"
            ):
                found.append(_example(earlier, later, names, same=True))
    return found[-limit:]
