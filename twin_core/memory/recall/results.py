"""What recall answers with: hits, and the errors it raises."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from twin_core.memory.models import Message
from twin_core.memory.recall.queries import MessageFacts

Mode = Literal["hybrid", "words", "meaning"]
"""Both sides fused, BM25 alone, or the dense embedding alone (for comparisons)."""

Progress = Callable[[int, int], None]
"""Told (messages done, messages in all) while indexing."""


class RecallError(ValueError):
    """A query recall cannot answer; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class LexicalHit:
    """A contact's message like a text (`Recall.similar_contact_messages`), with what
    the caller needs to sift it before reading more."""

    doc_id: int
    score: float
    text: str
    contact_id: int | None


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
    matched: tuple[str, ...] = ()
    """Words of the query found in the message itself."""
    sides: tuple[str, ...] = ()
    """"words" (BM25), "meaning" (the embedding), or both."""


@dataclass(slots=True)
class Candidate:
    """A message on its way through ranking: each side's score and the notes for why."""

    message_id: int
    sparse: float = 0.0
    dense: float = 0.0
    in_sparse: bool = False
    in_dense: bool = False
    cosine: float = 0.0
    score: float = 0.0
    message: MessageFacts | None = None
    notes: list[str] = field(default_factory=list)
