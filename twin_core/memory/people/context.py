"""What of people memory may go into a draft for one contact (DESIGN.md, invariant 6).

A fact is served for contact X only when it is filed under X *and* its source message
is X's own, or the owner's in a one-to-one conversation with X. The second check is
made against the message table at read time, so a row filed under the wrong contact
(a merge gone wrong, a bug elsewhere) still never reaches Bob's draft with Alice's
words in it. This is the one way drafting reads facts.
"""

from __future__ import annotations

from sqlmodel import col, select

from twin_core.memory.models import Conversation, Message
from twin_core.memory.people.models import Fact
from twin_core.memory.store import Store
from twin_core.types import ContactId


def facts_for_draft(store: Store, contact_id: ContactId) -> list[Fact]:
    """The facts that still hold, said in `contact_id`'s own conversations."""
    with store.database.session() as session:
        rows = session.exec(
            select(Fact)
            .join(Message, col(Message.id) == col(Fact.message_id))
            .join(Conversation, col(Conversation.id) == col(Message.conversation_id))
            .where(Fact.contact_id == contact_id)
            .where(col(Fact.valid_until).is_(None))
            .where(
                (col(Message.contact_id) == contact_id)
                | (
                    col(Message.from_owner)
                    & (col(Conversation.contact_id) == contact_id)
                    & ~col(Conversation.is_group)
                )
            )
            .order_by(col(Fact.stated_at).desc())
        )
        return list(rows)
