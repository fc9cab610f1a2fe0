"""`Tuning`: everything that shapes what recall finds, in one place."""

from __future__ import annotations

from dataclasses import dataclass

from twin_core.memory.embed import Embedder
from twin_core.memory.index import ContextBm25Encoder


@dataclass(frozen=True, slots=True)
class Tuning:
    """The context weights change the indexed vectors, so they are part of the index's
    identity; the rest applies at query time. Tuned on LoCoMo conversations 1-5 only
    (see docs/BENCHMARKS.md)."""

    sparse_context: tuple[float, ...] = (0.5, 0.4, 0.3)
    """Weight of the words of the turns 1, 2, 3 away from a message."""
    dense_context: tuple[float, ...] = (0.5, 0.25)
    """Weight of the vectors of the turns 1, 2 away, added to the message's own."""
    speaker_weight: float | None = 0.6
    """Weight of the speaker's name vector, added to the vector of what a message says:
    who said it counts in what it means, at the cost of one embedding per name, not one
    per (speaker, text) pair (a contact's "ok" and the owner's are one text to embed).
    None writes the speaker into the text instead ("Anna: ok"), as indexes built before
    2026-12-02 were. Tuned on LoCoMo 1-5 (0.3, 0.6, 0.8, 1.0 tried; docs/BENCHMARKS.md)."""
    session_gap_s: float = 8 * 3600
    """Turns further apart than this belong to different sittings: no shared context."""
    candidates: int = 150
    """How many of each side's best are fused."""
    sparse_weight: float = 0.5
    dense_weight: float = 0.5
    speaker_boost: float = 0.15
    """Added for a message written by a person the query names."""
    when_boost: float = 0.1
    """Added, for a "when ..." query, to a message that says when (a day, a month,
    "yesterday", "last week"): the answer to "when" is a moment."""
    content_weight: float = 0.1
    """Added in proportion to how much a message says (a question counts half)."""
    contact_boost: float = 0.1
    """Added for a message with the contact the caller prefers (the one being answered)."""
    recency_weight: float = 0.1
    """Added in proportion to freshness, when the caller gives a half-life."""
    min_similarity: float = 0.4
    """A message only the dense side found must be at least this similar to be shown.
    The speaker's name in a message's vector (`speaker_weight`) lifts a short query's
    similarity to everything by about 0.1, so this floor is 0.1 above the 0.3 it was
    before; LoCoMo recall is the same at 0.3 and 0.4."""
    period_boost: float = 0.1
    """Added to a message sent in the period the query names ("on 3 May", "last week";
    `memory.period`), half as much to one sent in the days just after it."""
    period_candidates: int = 50
    """How many of each side's best within that period are fused too."""
    related_weight: float = 0.25
    """Weight in the BM25 query of a word related to a query word (`memory.related`),
    times its cosine to that word; a query word weighs 1. 0 matches exact words only."""

    @property
    def radius(self) -> int:
        return max(len(self.sparse_context), len(self.dense_context))

    def dense_name(self, embedder: Embedder) -> str:
        weights = ",".join(f"{w:g}" for w in self.dense_context)
        speaker = "speaker" if self.speaker_weight is None else f"speaker={self.speaker_weight:g}"
        return f"{embedder.name}+context({weights};gap={self.session_gap_s:g}s;{speaker})"

    def sparse_name(self, encoder: ContextBm25Encoder) -> str:
        weights = ",".join(f"{w:g}" for w in self.sparse_context)
        return f"{encoder.name}+context({weights};gap={self.session_gap_s:g}s;speaker,month)"
