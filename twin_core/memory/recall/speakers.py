"""Who said a message, and whose conversation it is, as recall indexes and ranks it:
names (and their words) cached, refreshed when an unknown contact shows up."""

from __future__ import annotations

from twin_core.memory.models import Message
from twin_core.memory.recall.queries import MessageFacts, RecallQueries
from twin_core.memory.text import terms


class Speakers:
    def __init__(self, queries: RecallQueries, owner_name: str) -> None:
        self.queries = queries
        self.owner_name = owner_name or "you"
        self._names: dict[int, str] = {}
        self._name_terms: dict[int, frozenset[str]] = {}
        self._conversation_contact: dict[int, int | None] = {}

    def of(self, message: Message) -> str:
        """The speaker written into a message's vectors: a name, the owner's, or someone."""
        if message.from_owner or message.contact_id is None:
            return self.owner_name if message.from_owner else "someone"
        return self.name(message.contact_id)

    def name(self, contact_id: int) -> str:
        if contact_id not in self._names:
            self.refresh()
        return self._names.get(contact_id, "someone")

    @property
    def name_terms(self) -> dict[int, frozenset[str]]:
        if not self._name_terms:
            self.refresh()
        return self._name_terms

    def refresh(self) -> None:
        """Read names again (after a contact was added, renamed or merged)."""
        names = {int(k): v for k, v in self.queries.store.contacts.names().items()}
        self._name_terms = {
            contact_id: frozenset(t for t in terms(name) if len(t) > 2)
            for contact_id, name in names.items()
        }
        self._names = names
        self._conversation_contact = {}

    def contact_of(self, message: Message | MessageFacts) -> int | None:
        """The contact a message is filed under: its sender, or for the owner's own
        messages the other person of the one-to-one conversation."""
        if message.contact_id is not None and not message.from_owner:
            return message.contact_id
        conversation_id = message.conversation_id
        if conversation_id not in self._conversation_contact:
            self._conversation_contact.update(self.queries.conversation_contacts([conversation_id]))
            self._conversation_contact.setdefault(conversation_id, None)
        return self._conversation_contact[conversation_id]

    def named_in(self, query: str) -> set[int | str]:
        """The contacts (and "owner") whose name the query mentions."""
        words = set(terms(query))
        named: set[int | str] = {
            contact_id for contact_id, name in self.name_terms.items() if name & words
        }
        if {t for t in terms(self.owner_name) if len(t) > 2} & words:
            named.add("owner")
        return named
