"""Recall: find the moments in the history that matter for a query.

`/recall` in the control chat, `twin recall` and the composer all come through
`Recall.recall()`. Retrieval is hybrid: every text message is in the vector index
twice over, as a dense vector (the embedder's, of "speaker: text", averaged with its
neighbouring turns) and as BM25 term weights (its words, its speaker, its month, and
its neighbours' words at a lower weight), so a message is found by what it says and by
what was said around it. The message text stays in SQL; the index holds ids, vectors
and filter fields.

A query asks the index for the best candidates of each side, then fuses them by
score, not by rank: each side's scores are taken as a fraction of that side's best,
and a candidate one side did not return gets that side's last returned score (the
most it could have had). A strong match from either side therefore stays strong;
reciprocal rank fusion, by contrast, pulls a clear first place of one side down to
the level of the other side's noise. Small, general preferences are added on top:
messages written by a person the query names, messages that say something (not "ok"
or a question), messages sent in a period the query names ("on 3 May", "last week":
`memory.period`, which also gets its own search so that day is never crowded out), and
optionally the contact being answered and recent messages. The BM25 query also holds
words related to the query's own ("martial" -> karate, judo: `memory.related`) at a
fraction of their weight.

Indexing follows SQL: `catch_up()` indexes every message whose id is above the highest
one indexed so far (kept in the store's state, per index build), re-indexing the few
older turns whose context a new message changes. `Memory` calls it after each record,
and at start for whatever was imported meanwhile. Each distinct text is embedded once.
"""

from __future__ import annotations

import json
import logging
import re
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from twin_core.memory.embed import Embedder
from twin_core.memory.index import (
    REINDEX,
    ContextBm25Encoder,
    Hit,
    IndexedMessage,
    IndexMissingError,
    IndexSpec,
    Scope,
    SparseVector,
    VectorIndex,
    VectorIndexError,
    epoch_seconds,
    open_vector_index,
    recreate_vector_index,
    token_index,
)
from twin_core.memory.models import Message
from twin_core.memory.period import Period, find_period
from twin_core.memory.related import RelatedWords
from twin_core.memory.store import MessageFacts, Store
from twin_core.memory.text import STOPWORDS, stem, terms, tokenize
from twin_core.types import utcnow

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 2_000
STATE_KEY = "recall.index"
MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]

Mode = Literal["hybrid", "words", "meaning"]
"""Both sides fused, BM25 alone, or the dense embedding alone (for comparisons)."""

Progress = Callable[[int, int], None]
"""Told (messages done, messages in all) while indexing."""


class RecallError(ValueError):
    """A query recall cannot answer; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class Tuning:
    """Everything that shapes what recall finds. The context weights change the indexed
    vectors, so they are part of the index's identity; the rest applies at query time.
    Tuned on LoCoMo conversations 1-5 only (see docs/BENCHMARKS.md)."""

    sparse_context: tuple[float, ...] = (0.5, 0.4, 0.3)
    """Weight of the words of the turns 1, 2, 3 away from a message."""
    dense_context: tuple[float, ...] = (0.5, 0.25)
    """Weight of the vectors of the turns 1, 2 away, added to the message's own."""
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
    min_similarity: float = 0.3
    """A message only the dense side found must be at least this similar to be shown."""
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
        return f"{embedder.name}+context({weights};gap={self.session_gap_s:g}s;speaker)"

    def sparse_name(self, encoder: ContextBm25Encoder) -> str:
        weights = ",".join(f"{w:g}" for w in self.sparse_context)
        return f"{encoder.name}+context({weights};gap={self.session_gap_s:g}s;speaker,month)"


@dataclass(frozen=True, slots=True)
class LexicalHit:
    """A message that shares words with a text (`similar_contact_messages`)."""

    doc_id: int
    score: float
    matched: tuple[str, ...]


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
class _Candidate:
    message_id: int
    sparse: float = 0.0
    dense: float = 0.0
    in_sparse: bool = False
    in_dense: bool = False
    cosine: float = 0.0
    score: float = 0.0
    message: MessageFacts | None = None
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _IndexState:
    index_id: str
    indexed_to: int

    @classmethod
    def load(cls, store: Store) -> _IndexState | None:
        raw = store.get_state(STATE_KEY)
        if not raw:
            return None
        try:
            data = json.loads(raw)
            return cls(str(data["index_id"]), int(data["indexed_to"]))
        except (ValueError, KeyError, TypeError):
            return None

    def save(self, store: Store) -> None:
        store.set_state(
            STATE_KEY, json.dumps({"index_id": self.index_id, "indexed_to": self.indexed_to})
        )


def index_spec(embedder: Embedder, encoder: ContextBm25Encoder, tuning: Tuning) -> IndexSpec:
    return IndexSpec(tuning.dense_name(embedder), embedder.dimension, tuning.sparse_name(encoder))


class Recall:
    """Hybrid recall over one store and one vector index.

    Built with `Recall.open()`, which also reports a missing or foreign index: then
    `problem` says what is wrong and how to fix it, `recall()` raises it as a
    `RecallError`, and recording goes on (SQL first: nothing is lost; `twin reindex`
    indexes it all later).
    """

    def __init__(
        self,
        store: Store,
        index: VectorIndex | None,
        embedder: Embedder,
        *,
        owner_name: str = "you",
        tuning: Tuning | None = None,
        encoder: ContextBm25Encoder | None = None,
        location: Path | str | None = None,
        problem: str | None = None,
        related: RelatedWords | None = None,
        timezone: tzinfo = UTC,
    ) -> None:
        self.store = store
        self.index = index
        self.embedder = embedder
        self.owner_name = owner_name or "you"
        self.tuning = tuning or Tuning()
        self.encoder = encoder or ContextBm25Encoder()
        self.related = related if related is not None else RelatedWords.shipped()
        self.timezone = timezone
        """The owner's: what "yesterday" and "on 3 May" in a query mean."""
        self.location = location
        self.problem = problem if index is None else None
        if self.index is None and self.problem is None:
            self.problem = f"there is no vector index. Run `{REINDEX}` to build it."
        self._vectors: OrderedDict[int, NDArray[np.float32]] = OrderedDict()
        self._vector_cache = 20_000
        self._contents: OrderedDict[int, float] = OrderedDict()
        self._names: dict[int, str] = {}
        self._name_terms: dict[int, frozenset[str]] = {}
        self._conversation_contact: dict[int, int | None] = {}
        self._state: _IndexState | None = None
        if self.index is not None:
            state = _IndexState.load(store)
            if state is None or state.index_id != self.index.index_id:
                # A new index, or one this store never filled: index everything.
                state = _IndexState(self.index.index_id, 0)
                state.save(store)
            self._state = state

    @property
    def spec(self) -> IndexSpec:
        return index_spec(self.embedder, self.encoder, self.tuning)

    @classmethod
    def open(
        cls,
        store: Store,
        location: Path | str,
        embedder: Embedder,
        *,
        owner_name: str = "you",
        tuning: Tuning | None = None,
        timezone: tzinfo = UTC,
    ) -> Recall:
        """Open the index at `location` (a folder or a Qdrant URL). A first start builds
        an empty one; an index that was built before and is gone, or was built by
        another embedder, is reported (see `problem`), not silently replaced."""
        tuning = tuning or Tuning()
        encoder = ContextBm25Encoder()
        spec = index_spec(embedder, encoder, tuning)
        ever_built = _IndexState.load(store) is not None
        index: VectorIndex | None = None
        problem = None
        try:
            index = open_vector_index(location, spec, create=not ever_built)
        except IndexMissingError as exc:
            problem = str(exc)
        except VectorIndexError as exc:
            problem = str(exc)
        return cls(
            store,
            index,
            embedder,
            owner_name=owner_name,
            tuning=tuning,
            encoder=encoder,
            location=location,
            problem=problem,
            timezone=timezone,
        )

    def close(self) -> None:
        if self.index is not None:
            self.index.close()

    # -- indexing -------------------------------------------------------------------

    @property
    def indexed_to(self) -> int:
        return self._state.indexed_to if self._state else 0

    def pending(self) -> int:
        """Messages stored but not yet indexed."""
        return self.store.count_messages(after=self.indexed_to) if self.index else 0

    def rebuild(self, progress: Progress | None = None) -> int:
        """Throw the index away and index every stored message again (after a model
        change, or when the index was lost). Returns how many messages were indexed."""
        if self.location is None:
            raise RecallError("this recall has no index location to rebuild")
        self.close()
        self.index = None
        self.index = recreate_vector_index(self.location, self.spec)
        self.problem = None
        self._vectors.clear()
        self._state = _IndexState(self.index.index_id, 0)
        self._state.save(self.store)
        return self.catch_up(progress, batch=5_000)

    def optimize(self) -> None:
        """Build the index's search structures after a bulk load (see `VectorIndex`)."""
        if self.index is not None:
            self.index.optimize()

    def refile_contact(self, contact_id: int, batch: int = 1_000) -> int:
        """Index again every message in the conversations of `contact_id`, so points
        carry who they are with now (after two contacts were merged). Returns how many."""
        if self.index is None:
            return 0
        self._refresh_names()
        self._conversation_contact.clear()
        done = 0
        for conversation_id in self.store.conversations_of(contact_id):
            messages = [
                m
                for m in self.store.conversation_messages(conversation_id, limit=None)
                if m.kind == "text" and m.id is not None and m.id <= self.indexed_to
            ]
            for start in range(0, len(messages), batch):
                points = self._points_for(conversation_id, messages[start : start + batch])
                if points:
                    self.index.upsert(points)
                done += len(messages[start : start + batch])
        return done

    def catch_up(self, progress: Progress | None = None, *, batch: int = 2_000) -> int:
        """Index every stored message not indexed yet; returns how many were read.

        Idempotent: a message indexed twice is upserted twice, and an interrupted run
        resumes from the last batch it finished."""
        if self.index is None or self._state is None:
            return 0
        total = self.store.count_messages(after=self._state.indexed_to) if progress else 0
        done = 0
        chunk: list[Message] = []
        for message in self.store.iter_messages(batch, after=self._state.indexed_to):
            chunk.append(message)
            if len(chunk) >= batch:
                done += self._index_chunk(chunk)
                if progress:
                    progress(done, total)
                chunk = []
        if chunk:
            done += self._index_chunk(chunk)
            if progress:
                progress(done, total)
        return done

    def _index_chunk(self, chunk: list[Message]) -> int:
        assert self.index is not None and self._state is not None
        by_conversation: dict[int, list[Message]] = {}
        for message in chunk:
            if message.kind == "text" and message.id is not None:
                by_conversation.setdefault(message.conversation_id, []).append(message)
        # One embedding call for the whole chunk: sorted by length across conversations,
        # the model runs about a fifth faster than conversation by conversation.
        texts = [m for new in by_conversation.values() for m in new]
        if texts:
            self._raw_vectors(texts, [self._speaker(m) for m in texts])
        points: list[IndexedMessage] = []
        for conversation_id, new in by_conversation.items():
            points.extend(self._points_for(conversation_id, new))
        if points:
            self.index.upsert(points)
        self._state = _IndexState(
            self._state.index_id, max(self._state.indexed_to, chunk[-1].id or 0)
        )
        self._state.save(self.store)
        return len(chunk)

    def _points_for(self, conversation_id: int, new: list[Message]) -> list[IndexedMessage]:
        """Points for the new messages and for the older turns whose context they change."""
        radius = self.tuning.radius
        new.sort(key=lambda m: (m.sent_at, m.id or 0))
        span = self.store.text_span(conversation_id, new[0], new[-1], margin=2 * radius)
        position = {m.id: k for k, m in enumerate(span)}
        affected: set[int] = set()
        for message in new:
            k = position.get(message.id)
            if k is not None:
                affected.update(range(max(0, k - radius), min(len(span), k + radius + 1)))
        if not affected:
            return []
        sitting = _sittings(span, self.tuning.session_gap_s)
        speakers = [self._speaker(m) for m in span]
        dense_reach = len(self.tuning.dense_context)
        needed = sorted(
            {
                j
                for k in affected
                for j in range(max(0, k - dense_reach), min(len(span), k + dense_reach + 1))
            }
        )
        raw = self._raw_vectors([span[j] for j in needed], [speakers[j] for j in needed])
        vector_at = dict(zip(needed, raw, strict=True))
        own_terms: dict[int, list[str]] = {}

        def words(j: int) -> list[str]:
            if j not in own_terms:
                own_terms[j] = terms(span[j].text)
            return own_terms[j]

        points = []
        for k in sorted(affected):
            message = span[k]
            assert message.id is not None
            counts: dict[str, float] = {}
            for term in [*words(k), *terms(speakers[k]), *_month_terms(message.sent_at)]:
                counts[term] = counts.get(term, 0.0) + 1.0
            vector = vector_at[k].copy()
            for distance, weight in enumerate(self.tuning.sparse_context, start=1):
                for j in (k - distance, k + distance):
                    if 0 <= j < len(span) and sitting[j] == sitting[k]:
                        for term in words(j):
                            counts[term] = counts.get(term, 0.0) + weight
            for distance, weight in enumerate(self.tuning.dense_context, start=1):
                for j in (k - distance, k + distance):
                    if 0 <= j < len(span) and sitting[j] == sitting[k]:
                        vector += weight * vector_at[j]
            norm = float(np.linalg.norm(vector))
            points.append(
                IndexedMessage(
                    message_id=message.id,
                    dense=vector / norm if norm > 0 else vector,
                    sparse=self.encoder.encode_counts(counts),
                    conversation_id=message.conversation_id,
                    channel=message.channel,
                    sent_at=epoch_seconds(message.sent_at),
                    contact_id=self._contact_of(message),
                )
            )
        return points

    def _raw_vectors(
        self, messages: list[Message], speakers: list[str]
    ) -> list[NDArray[np.float32]]:
        """Each message's own vector ("speaker: text"), from the cache or the embedder."""
        missing = [i for i, m in enumerate(messages) if m.id not in self._vectors]
        if missing:
            texts = [f"{speakers[i]}: {messages[i].text}" for i in missing]
            computed = self.embedder.embed(texts)
            for i, row in zip(missing, computed, strict=True):
                message_id = messages[i].id
                assert message_id is not None
                self._vectors[message_id] = row
        out = []
        for message in messages:
            assert message.id is not None
            self._vectors.move_to_end(message.id)
            out.append(self._vectors[message.id])
        while len(self._vectors) > self._vector_cache:
            self._vectors.popitem(last=False)
        return out

    def _speaker(self, message: Message) -> str:
        if message.from_owner or message.contact_id is None:
            return self.owner_name if message.from_owner else "someone"
        return self._name(message.contact_id)

    def _name(self, contact_id: int) -> str:
        if contact_id not in self._names:
            self._refresh_names()
        return self._names.get(contact_id, "someone")

    def _refresh_names(self) -> None:
        self._names = {c.id: c.name for c in self.store.contacts() if c.id is not None}
        self._name_terms = {
            contact_id: frozenset(t for t in terms(name) if len(t) > 2)
            for contact_id, name in self._names.items()
        }

    def _contact_of(self, message: Message | MessageFacts) -> int | None:
        if message.contact_id is not None and not message.from_owner:
            return message.contact_id
        conversation_id = message.conversation_id
        if conversation_id not in self._conversation_contact:
            conversation = self.store.conversation(conversation_id)
            self._conversation_contact[conversation_id] = (
                conversation.contact_id if conversation else None
            )
        return self._conversation_contact[conversation_id]

    # -- querying -------------------------------------------------------------------

    def similar_contact_messages(self, text: str, limit: int = 40) -> list[LexicalHit]:
        """Messages from contacts (never the owner's) most like `text`, by words and
        meaning; `matched` holds the words they share."""
        query = " ".join(text.split())[:MAX_QUERY_CHARS]
        if not query or self.index is None:
            return []
        try:
            # A date in the message is not what makes another message like it.
            ranked = self._rank(query, None, limit, exclude_owner=True, periods=False)
        except VectorIndexError as exc:
            log.warning("recall for examples failed: %s", exc)
            return []
        return [
            LexicalHit(c.message_id, c.score, tuple(_matched(query, c.message.text)))
            for c in ranked
            if c.message is not None
        ]

    def recall(
        self,
        query: str,
        *,
        contact_id: int | None = None,
        limit: int = 5,
        context: int = 1,
        prefer_contact_id: int | None = None,
        half_life_days: float | None = None,
        mode: Mode = "hybrid",
    ) -> list[RecallHit]:
        """The best `limit` moments for `query`, optionally only those with one contact.

        `prefer_contact_id` favours (without limiting to) one contact's conversations;
        `half_life_days` favours recent messages. `mode` picks one side alone."""
        query = " ".join(query.split())
        if not query:
            raise RecallError("empty query: say what to look for, e.g. /recall dinner friday")
        if len(query) > MAX_QUERY_CHARS:
            query = query[:MAX_QUERY_CHARS]
        if not tokenize(query):
            raise RecallError("the query has no words to look for")
        if limit < 1:
            raise RecallError("ask for at least one result")
        if contact_id is not None and self.store.contact(contact_id) is None:
            raise RecallError(f"no contact with id {contact_id}")
        if self.index is None:
            raise RecallError(f"recall is unavailable: {self.problem}")
        scope = Scope.contact(contact_id) if contact_id is not None else None
        sparse_query, related = self._sparse_query(query)
        try:
            ranked = self._rank(
                query,
                scope,
                limit,
                prefer_contact_id=prefer_contact_id,
                half_life_days=half_life_days,
                mode=mode,
                sparse_query=sparse_query,
            )
        except VectorIndexError as exc:
            raise RecallError(f"recall is unavailable: {exc}") from exc
        if not ranked and self.pending():
            raise RecallError(
                f"nothing found, and {self.pending()} messages are not indexed yet; "
                f"run `{REINDEX}` or wait for indexing to finish"
            )
        return self._hits(query, ranked, context, related)

    def _rank(
        self,
        query: str,
        scope: Scope | None,
        limit: int,
        *,
        exclude_owner: bool = False,
        periods: bool = True,
        prefer_contact_id: int | None = None,
        half_life_days: float | None = None,
        mode: Mode = "hybrid",
        sparse_query: SparseVector | None = None,
    ) -> list[_Candidate]:
        assert self.index is not None
        tuning = self.tuning
        depth = max(tuning.candidates, limit * 2)
        if sparse_query is None:
            sparse_query, _ = self._sparse_query(query)
        dense_query = self.embedder.embed([query])[0]
        found = self.index.query_hybrid(dense_query, sparse_query, scope=scope, limit=depth)
        sparse_hits = found.sparse if mode != "meaning" else []
        dense_hits = found.dense if mode != "words" else []
        best = (_best(sparse_hits), _best(dense_hits))
        candidates: dict[int, _Candidate] = {}
        # A candidate one side did not return scores at most that side's last.
        floors = (
            _collect(candidates, sparse_hits, "sparse", best[0], depth),
            _collect(candidates, dense_hits, "dense", best[1], depth),
        )
        now = utcnow()
        period = (
            find_period(query, now, self.timezone) if periods and tuning.period_boost > 0 else None
        )
        window_floors: tuple[float, float] | None = None
        window_ids: set[int] = set()
        if period is not None:
            # The period's own best matches, which years of other messages may hide.
            window = _within(scope, period)
            if not window.matches_nothing:
                extra = self.index.query_hybrid(
                    dense_query, sparse_query, scope=window, limit=tuning.period_candidates
                )
                sparse_extra = extra.sparse if mode != "meaning" else []
                dense_extra = extra.dense if mode != "words" else []
                window_ids = {h.message_id for h in [*sparse_extra, *dense_extra]}
                asked = tuning.period_candidates
                window_floors = (
                    _collect(candidates, sparse_extra, "sparse", best[0], asked),
                    _collect(candidates, dense_extra, "dense", best[1], asked),
                )
        messages = self.store.message_facts(list(candidates))
        named = self._named_speakers(query)
        asks_when = bool(_ASKS_WHEN.search(query))
        for candidate in candidates.values():
            message = messages.get(candidate.message_id)
            candidate.message = message
            if message is None:
                continue
            if mode == "hybrid":
                sparse_floor, dense_floor = (
                    window_floors
                    if window_floors is not None and candidate.message_id in window_ids
                    else floors
                )
                sparse = candidate.sparse if candidate.in_sparse else sparse_floor
                dense = candidate.dense if candidate.in_dense else dense_floor
                score = tuning.sparse_weight * sparse + tuning.dense_weight * dense
            else:
                score = candidate.sparse if mode == "words" else candidate.dense
            speaker = "owner" if message.from_owner else message.contact_id
            if speaker in named:
                score += tuning.speaker_boost
                candidate.notes.append("written by the person named")
            score += tuning.content_weight * self._content(message)
            if asks_when and _SAYS_WHEN.search(message.text):
                score += tuning.when_boost
            if period is not None and period.near(message.sent_at):
                inside = period.holds(message.sent_at)
                score += tuning.period_boost if inside else tuning.period_boost / 2
                candidate.notes.append(f"sent {'in' if inside else 'just after'} {period.text}")
            if prefer_contact_id is not None and self._contact_of(message) == prefer_contact_id:
                score += tuning.contact_boost
            if half_life_days:
                age_days = max(0.0, (now - message.sent_at).total_seconds() / 86_400)
                score += tuning.recency_weight * 0.5 ** (age_days / half_life_days)
            candidate.score = score
        ranked = [
            c
            for c in candidates.values()
            if c.message is not None
            and c.message.kind == "text"
            and not (exclude_owner and c.message.from_owner)
            # A message only the embedding found, and only faintly, is noise.
            and (c.in_sparse or c.cosine >= tuning.min_similarity)
        ]
        ranked.sort(key=lambda c: (-c.score, c.message_id))
        return ranked[:limit]

    def _sparse_query(self, query: str) -> tuple[SparseVector, dict[str, tuple[float, str]]]:
        """The BM25 query: the query's own terms at weight 1, and the words related to
        them (`memory.related`) at their cosine times `related_weight`, names of people
        left as they are. Returns it with the related terms used."""
        base = self.encoder.encode_query(query)
        if self.tuning.related_weight <= 0:
            return base, {}
        if not self._name_terms:
            self._refresh_names()
        names = set().union(*self._name_terms.values(), terms(self.owner_name))
        related = self.related.expand(query, names=names)
        if not related:
            return base, {}
        weights = dict(zip(base.indices, base.values, strict=True))
        for term, (cosine, _) in related.items():
            index = token_index(term)
            weights[index] = max(weights.get(index, 0.0), self.tuning.related_weight * cosine)
        indices = sorted(weights)
        return SparseVector(tuple(indices), tuple(weights[i] for i in indices)), related

    def _content(self, message: MessageFacts) -> float:
        amount = self._contents.get(message.id)
        if amount is None:
            amount = self._contents[message.id] = _content(message.text)
            if len(self._contents) > self._vector_cache:
                self._contents.popitem(last=False)
        return amount

    def _named_speakers(self, query: str) -> set[int | str]:
        """The contacts (and "owner") whose name the query mentions."""
        words = set(terms(query))
        if not self._name_terms:
            self._refresh_names()
        named: set[int | str] = {
            contact_id for contact_id, name in self._name_terms.items() if name & words
        }
        if {t for t in terms(self.owner_name) if len(t) > 2} & words:
            named.add("owner")
        return named

    def _hits(
        self,
        query: str,
        ranked: list[_Candidate],
        context: int,
        related: dict[str, tuple[float, str]],
    ) -> list[RecallHit]:
        facts = [c.message for c in ranked if c.message is not None]
        around = self.store.neighbours_of(facts, before=context, after=context)
        conversations: dict[int, str] = {}
        results: list[RecallHit] = []
        for candidate in ranked:
            turns = around.get(candidate.message_id)
            if not turns:
                continue
            message = next(m for m in turns if m.id == candidate.message_id)
            if message.conversation_id not in conversations:
                conversation = self.store.conversation(message.conversation_id)
                contact_id = self._contact_of(message)
                conversations[message.conversation_id] = (
                    conversation.title if conversation else ""
                ) or (self._name(contact_id) if contact_id is not None else "?")
            matched = tuple(_matched(query, message.text))
            sides = tuple(
                side
                for side, present in (
                    ("words", candidate.in_sparse),
                    ("meaning", candidate.in_dense),
                )
                if present
            )
            results.append(
                RecallHit(
                    message=message,
                    speaker="you"
                    if message.from_owner
                    else self._name(message.contact_id)
                    if message.contact_id is not None
                    else "?",
                    conversation=conversations[message.conversation_id],
                    score=candidate.score,
                    why=_why(candidate, matched, _related_in(related, message.text)),
                    context=tuple(turns),
                    matched=matched,
                    sides=sides,
                )
            )
        return results


def _best(hits: Sequence[Hit]) -> float:
    return hits[0].score if hits else 0.0


def _collect(
    candidates: dict[int, _Candidate],
    hits: Sequence[Hit],
    side: Literal["sparse", "dense"],
    best: float,
    asked: int,
) -> float:
    """Adds one side's hits to `candidates`, each scored as a fraction of `best` (that
    side's best over the whole query, 0 when not positive). Returns the most a message
    this list did not return could score: its last fraction if the list is full (there
    were more), else 0."""
    last = 0.0
    for hit in hits:
        value = max(0.0, hit.score / best) if best > 0 else 0.0
        candidate = candidates.setdefault(hit.message_id, _Candidate(hit.message_id))
        if side == "sparse":
            candidate.sparse, candidate.in_sparse = value, True
        else:
            candidate.dense, candidate.in_dense, candidate.cosine = value, True, hit.score
        last = value
    return last if len(hits) >= asked else 0.0


def _within(scope: Scope | None, period: Period) -> Scope:
    """`scope` narrowed to the period and the days just after it."""
    start = epoch_seconds(period.start)
    end = epoch_seconds(period.end + period.after)
    base = scope or Scope()
    return replace(
        base,
        sent_from=max(start, base.sent_from) if base.sent_from is not None else start,
        sent_before=min(end, base.sent_before) if base.sent_before is not None else end,
    )


def _sittings(span: Sequence[Message], gap_s: float) -> list[int]:
    """A number per message, the same for turns of one sitting (no long pause between)."""
    out: list[int] = []
    current = 0
    for k, message in enumerate(span):
        if k and (message.sent_at - span[k - 1].sent_at).total_seconds() > gap_s:
            current += 1
        out.append(current)
    return out


def _month_terms(moment: datetime) -> list[str]:
    return [MONTHS[moment.month - 1], str(moment.year)]


_QUESTION = re.compile(r"\?\s*$")
_ASKS_WHEN = re.compile(r"^\W*(when|what (time|date|day|month|year)|how long ago)\b", re.I)
_SAYS_WHEN = re.compile(
    r"\b(yesterday|today|tonight|tomorrow|ago|weekend|week|month|year|recently|since|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"january|february|march|april|may|june|july|august|september|october|november|"
    r"december|\d{1,2}(:\d\d)?\s?(am|pm)|\d{4})\b",
    re.I,
)


def _content(text: str) -> float:
    """How much a message says, 0..1: content words up to twelve, halved for a question."""
    words = sum(1 for token in tokenize(text) if token not in STOPWORDS)
    amount = min(1.0, words / 12)
    return amount / 2 if _QUESTION.search(text) else amount


def _matched(query: str, text: str) -> list[str]:
    """The words of `text` that match a word of the query, as written in `text`."""
    wanted = set(terms(query))
    seen: dict[str, None] = {}
    for token in tokenize(text):
        if token not in STOPWORDS and stem(token) in wanted:
            seen.setdefault(token, None)
    return list(seen)


def _related_in(related: dict[str, tuple[float, str]], text: str) -> list[str]:
    """The words of `text` related to a query word, as "karate (~martial)"."""
    seen: dict[str, None] = {}
    for token in tokenize(text):
        found = related.get(stem(token)) if token not in STOPWORDS else None
        if found:
            seen.setdefault(f"{token} (~{found[1]})", None)
    return list(seen)


def _why(candidate: _Candidate, matched: Sequence[str], related: Sequence[str] = ()) -> str:
    parts = []
    if candidate.in_sparse:
        if matched or related:
            words = ", ".join([*matched, *related])
            parts.append(f"matched words: {words}")
        else:
            parts.append("matched words in the turns around it")
    if candidate.in_dense and candidate.cosine >= 0:
        parts.append(f"similar meaning ({candidate.cosine:.2f})")
    parts.extend(candidate.notes)
    return "; ".join(parts) or "close to other matches"
