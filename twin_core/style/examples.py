"""Which of the owner's past replies the composer may show the model as examples.

This is where "what one contact was told stays with that contact" (DESIGN.md,
invariant 6) is enforced for drafting. A draft for X is built from:

* X's own exchanges with the owner: X's messages and the owner's answers *to X*
  (`style.queries`: addressed to X, not merely next in a thread);
* and, from anyone else, only phatic exchanges: both the other person's message and
  the owner's answer carry no information (`memory.phatic`: thanks, greetings,
  laughter, "sounds good"), and the owner has sent those very words to at least
  `MIN_PEOPLE_FOR_SHARING` different people.

Nothing else of another person's, neither what they told the owner nor what the owner
told them, reaches a draft, an auto-reply or a model prompt for X.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from twin_core.memory.models import Message
from twin_core.memory.phatic import is_phatic
from twin_core.memory.recall import LexicalHit
from twin_core.memory.service import Memory
from twin_core.style.queries import StyleQueries
from twin_core.types import ContactId, MessageId

OWN_CANDIDATES = 12
"""This contact's messages most like the new one, whose answers are looked up."""
SHARED_CANDIDATES = 16
"""Everyone's answered messages most like it; only the phatic ones are looked at."""
SHARED_POOL = 64
"""How many of everyone's messages most like it are read to find those answered: the
same "thanks!" from many people, most never answered, must not crowd out the few the
owner did answer (a newcomer's "thanks!" would get no example at all)."""
MIN_PEOPLE_FOR_SHARING = 3
"""A phatic reply serves anyone once the owner has used it with this many people."""


@dataclass(frozen=True, slots=True)
class Example:
    """One earlier exchange: a contact wrote `their_text`, the owner answered `reply`."""

    their_text: str
    reply: str
    contact_id: ContactId
    contact_name: str
    sent_at: datetime
    same_contact: bool
    message_id: MessageId
    people: int = 1
    """How many people the owner sent `reply` to (counted for shared examples only)."""


def select_examples(
    memory: Memory,
    contact_id: ContactId,
    incoming: str,
    *,
    limit: int = 8,
    exclude: set[MessageId] | None = None,
    queries: StyleQueries | None = None,
) -> list[Example]:
    """Past exchanges most like `incoming`: this contact's first, then phatic ones."""
    queries = queries or StyleQueries(memory.store)
    names = queries.names()
    excluded = exclude or set()
    own = _examples(
        memory,
        queries,
        names,
        memory.recall_index.similar_contact_messages(
            incoming, limit=OWN_CANDIDATES, contact_id=contact_id
        ),
        excluded,
        only=contact_id,
    )
    if len(own) < limit:
        seen = {e.message_id for e in own} | excluded
        for earlier, later in queries.exchanges_with(
            contact_id, limit=limit - len(own), exclude=seen
        ):
            own.append(_example(earlier, later, names, same=True))
    shared: list[Example] = []
    told: dict[str, int] = {}
    phatic = [
        hit
        for hit in memory.recall_index.similar_contact_messages(incoming, limit=SHARED_POOL)
        if hit.contact_id != contact_id and is_phatic(hit.text)
    ]
    answered = _examples(memory, queries, names, phatic, excluded, only=None)
    for example in answered[:SHARED_CANDIDATES]:
        if example.contact_id == contact_id:
            continue
        if not (is_phatic(example.their_text) and is_phatic(example.reply)):
            continue
        if example.reply not in told:
            told[example.reply] = queries.people_told(example.reply)
        if told[example.reply] >= MIN_PEOPLE_FOR_SHARING:
            shared.append(replace(example, people=told[example.reply]))
    return (own + shared)[:limit]


def _examples(
    memory: Memory,
    queries: StyleQueries,
    names: dict[ContactId, str],
    hits: list[LexicalHit],
    exclude: set[MessageId],
    *,
    only: ContactId | None,
) -> list[Example]:
    candidates = [MessageId(h.doc_id) for h in hits if h.doc_id not in exclude]
    messages = memory.store.messages.by_ids(candidates)
    replies = queries.replies_to(list(messages.values()))
    found: list[Example] = []
    for message_id in candidates:
        message, reply = messages.get(message_id), replies.get(message_id)
        if message is None or reply is None or message.contact_id is None:
            continue
        if only is not None and message.contact_id != only:
            continue
        found.append(_example(message, reply, names, same=message.contact_id == only))
    return found


def _example(
    message: Message, reply: Message, names: dict[ContactId, str], *, same: bool
) -> Example:
    assert message.contact_id is not None and message.id is not None
    return Example(
        their_text=message.text,
        reply=reply.text,
        contact_id=message.contact_id,
        contact_name=names.get(ContactId(message.contact_id), "?"),
        sent_at=message.sent_at,
        same_contact=same,
        message_id=message.id,
    )
