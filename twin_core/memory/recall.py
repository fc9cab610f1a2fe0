"""Recall: find the moments in the history that matter for a query.

`/recall` in the control chat, `twin recall` and the composer all come through
`Recall.recall()`. This first version is lexical (BM25 in memory, rebuilt from SQL at
start and kept current as messages are recorded); vector search lands behind the same
interface.
"""

from __future__ import annotations

from dataclasses import dataclass

from twin_core.memory.lexical import Bm25Index, LexicalHit
from twin_core.memory.models import Message
from twin_core.memory.store import Store
from twin_core.memory.text import tokenize

MAX_QUERY_CHARS = 2_000


class RecallError(ValueError):
    """A query recall cannot answer; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class RecallHit:
    message: Message
    speaker: str
    """The contact's name, or "you" for the owner."""
    conversation: str
    score: float
    why: str
    context: tuple[Message, ...]
    """The message with its neighbouring turns, oldest first."""


@dataclass(frozen=True, slots=True)
class _DocMeta:
    conversation_id: int
    contact_id: int | None
    from_owner: bool


class Recall:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._index = Bm25Index()
        self._meta: dict[int, _DocMeta] = {}
        self._conversation_contact: dict[int, int | None] = {}

    def rebuild(self) -> int:
        """Index every stored message (idempotent); returns how many are indexed."""
        for message in self.store.iter_messages():
            self.add(message)
        return len(self._index)

    def add(self, message: Message) -> None:
        if message.id is None or message.id in self._index or message.kind != "text":
            return
        contact_id = message.contact_id
        if contact_id is None:
            contact_id = self._contact_of_conversation(message.conversation_id)
        self._meta[message.id] = _DocMeta(message.conversation_id, contact_id, message.from_owner)
        self._index.add(message.id, message.text)

    def _contact_of_conversation(self, conversation_id: int) -> int | None:
        if conversation_id not in self._conversation_contact:
            conversation = self.store.conversation(conversation_id)
            self._conversation_contact[conversation_id] = (
                conversation.contact_id if conversation else None
            )
        return self._conversation_contact[conversation_id]

    def similar_contact_messages(self, text: str, limit: int = 40) -> list[LexicalHit]:
        """Messages from contacts (never the owner's) that share words with `text`."""
        return self._index.search(text, limit=limit, allow=lambda d: not self._meta[d].from_owner)

    def recall(
        self, query: str, *, contact_id: int | None = None, limit: int = 5, context: int = 1
    ) -> list[RecallHit]:
        """The best `limit` moments for `query`, optionally only those with one contact."""
        query = query.strip()
        if not query:
            raise RecallError("empty query: say what to look for, e.g. /recall dinner friday")
        if len(query) > MAX_QUERY_CHARS:
            query = query[:MAX_QUERY_CHARS]
        if not tokenize(query):
            raise RecallError("the query has no words to look for")
        if contact_id is not None and self.store.contact(contact_id) is None:
            raise RecallError(f"no contact with id {contact_id}")

        def allow(doc_id: int) -> bool:
            return contact_id is None or self._meta[doc_id].contact_id == contact_id

        hits = self._index.search(query, limit=limit, allow=allow)
        messages = self.store.messages_by_id([hit.doc_id for hit in hits])
        names = {c.id: c.name for c in self.store.contacts()}
        results: list[RecallHit] = []
        for hit in hits:
            message = messages.get(hit.doc_id)
            if message is None:
                continue
            conversation = self.store.conversation(message.conversation_id)
            around = self.store.neighbours(message, before=context, after=context)
            results.append(
                RecallHit(
                    message=message,
                    speaker="you" if message.from_owner else names.get(message.contact_id, "?"),
                    conversation=(conversation.title if conversation else "")
                    or names.get(self._meta[hit.doc_id].contact_id, "?"),
                    score=hit.score,
                    why="matched words: " + ", ".join(hit.matched),
                    context=tuple(around),
                )
            )
        return results
