"""Indexing for recall: SQL is the truth, the vector index follows it.

Every text message is in the vector index twice over: a dense vector (the embedder's,
of its text plus its speaker's name, averaged with its neighbouring turns) and BM25
term weights (its words, its speaker, its month, and its neighbours' words at a lower
weight), so a message is found by what it says and by what was said around it. The
text itself stays in SQL; the index holds ids, vectors and filter fields.

`catch_up()` indexes every message whose id is above the highest one indexed so far
(kept in the store's state, per index build), re-indexing the few older turns whose
context a new message changes. One catch-up runs at a time: a second caller finds it
busy and returns at once, since the running one reads on until nothing is left.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from numpy.typing import NDArray

from twin_core.memory.embed import Embedder
from twin_core.memory.index import (
    ContextBm25Encoder,
    IndexedMessage,
    IndexSpec,
    VectorIndex,
    epoch_seconds,
)
from twin_core.memory.index.heap import release_free_heap
from twin_core.memory.models import Message
from twin_core.memory.recall.queries import RecallQueries
from twin_core.memory.recall.results import Progress
from twin_core.memory.recall.speakers import Speakers
from twin_core.memory.recall.tuning import Tuning
from twin_core.memory.store import Store
from twin_core.memory.text import terms
from twin_core.types import ContactId

STATE_KEY = "recall.index"
REBUILD_KEY = "recall.rebuilding"
"""The id of an index build that `restart()` began and no catch-up has finished yet: an
interrupted rebuild, which `twin reindex` resumes instead of starting over."""
VECTOR_CACHE = 20_000
"""Own vectors of recent messages kept, so a neighbour's context needs no new embedding."""
OPTIMIZE_EVERY = 100_000
"""Points written since the last optimization after which the indexer optimizes, so a
large import is indexed in bounded pieces (memory stays flat, and the owner never waits
for one long optimization at the end)."""
NAME_CACHE = 10_000
"""Speakers' name vectors kept (`Tuning.speaker_weight`)."""
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


def index_spec(embedder: Embedder, encoder: ContextBm25Encoder, tuning: Tuning) -> IndexSpec:
    return IndexSpec(tuning.dense_name(embedder), embedder.dimension, tuning.sparse_name(encoder))


@dataclass(frozen=True, slots=True)
class IndexState:
    """Which index build this store fills, and the highest message id it holds."""

    index_id: str
    indexed_to: int

    @classmethod
    def load(cls, store: Store) -> IndexState | None:
        raw = store.state.get(STATE_KEY)
        if not raw:
            return None
        try:
            data = json.loads(raw)
            return cls(str(data["index_id"]), int(data["indexed_to"]))
        except (ValueError, KeyError, TypeError):
            return None

    def save(self, store: Store) -> None:
        store.state.set(
            STATE_KEY, json.dumps({"index_id": self.index_id, "indexed_to": self.indexed_to})
        )


class Indexer:
    def __init__(
        self,
        store: Store,
        index: VectorIndex,
        embedder: Embedder,
        encoder: ContextBm25Encoder,
        tuning: Tuning,
        speakers: Speakers,
    ) -> None:
        self.store = store
        self.queries = RecallQueries(store)
        self.index = index
        self.embedder = embedder
        self.encoder = encoder
        self.tuning = tuning
        self.speakers = speakers
        self._vectors: OrderedDict[int, NDArray[np.float32]] = OrderedDict()
        self._names: dict[str, NDArray[np.float32]] = {}
        self._busy = threading.Lock()
        self._since_optimize = 0
        state = IndexState.load(store)
        if state is None or state.index_id != index.index_id:
            # A new index, or one this store never filled: index everything.
            state = IndexState(index.index_id, 0)
            state.save(store)
        self.state = state

    @property
    def indexed_to(self) -> int:
        return self.state.indexed_to

    @property
    def rebuilding(self) -> bool:
        """This index is a rebuild that was begun and not finished (interrupted)."""
        return self.store.state.get(REBUILD_KEY) == self.index.index_id

    def pending(self) -> int:
        """Messages stored but not yet indexed."""
        return self.store.messages.count(after=self.state.indexed_to)

    def catch_up(
        self, progress: Progress | None = None, *, batch: int = 2_000, wait: bool = True
    ) -> int:
        """Index every stored message not indexed yet; returns how many were read.

        Idempotent: a message indexed twice is upserted twice, and an interrupted run
        resumes from the last batch it finished. With `wait=False` it returns 0 at once
        when another catch-up is running (that one will reach the new messages)."""
        if not self._busy.acquire(blocking=wait):
            return 0
        try:
            total = self.pending() if progress else 0
            done = 0
            chunk: list[Message] = []
            for message in self.store.messages.iter_after(self.state.indexed_to, batch=batch):
                chunk.append(message)
                if len(chunk) >= batch:
                    done += self._index_chunk(chunk)
                    if progress:
                        progress(done, max(total, done))
                    chunk = []
            if chunk:
                done += self._index_chunk(chunk)
                if progress:
                    progress(done, max(total, done))
            if self.rebuilding:
                self.store.state.set(REBUILD_KEY, "")  # everything is in: finished
            return done
        finally:
            self._busy.release()

    def restart(self, index: VectorIndex) -> None:
        """Fill `index` (just built, empty) from the first message on, marked as a
        rebuild under way until a catch-up reaches the last message."""
        with self._busy:
            self.index = index
            self._vectors.clear()
            self._since_optimize = 0
            self.state = IndexState(index.index_id, 0)
            self.state.save(self.store)
            self.store.state.set(REBUILD_KEY, index.index_id)

    def refile_contact(self, contact_id: ContactId, batch: int = 1_000) -> int:
        """Index again every message in the conversations of `contact_id`, so points
        carry who they are with now (after two contacts were merged). Returns how many."""
        with self._busy:
            self.speakers.refresh()
            done = 0
            for conversation_id in self.queries.conversations_of(contact_id):
                messages = [
                    m
                    for m in self.store.messages.in_conversation(conversation_id, limit=None)
                    if m.kind == "text" and m.id is not None and m.id <= self.state.indexed_to
                ]
                for start in range(0, len(messages), batch):
                    points = self._points_for(conversation_id, messages[start : start + batch])
                    if points:
                        self.index.upsert(points)
                    done += len(messages[start : start + batch])
            self.index.flush()
            return done

    def _index_chunk(self, chunk: list[Message]) -> int:
        by_conversation: dict[int, list[Message]] = {}
        for message in chunk:
            if message.kind == "text" and message.id is not None:
                by_conversation.setdefault(message.conversation_id, []).append(message)
        # One embedding call for the whole chunk: sorted by length across conversations,
        # the model runs about a fifth faster than conversation by conversation.
        texts = [m for new in by_conversation.values() for m in new]
        if texts:
            self._raw_vectors(texts, [self.speakers.of(m) for m in texts])
        points: list[IndexedMessage] = []
        for conversation_id, new in by_conversation.items():
            points.extend(self._points_for(conversation_id, new))
        if points:
            self.index.upsert(points)
        # Durable before recorded: a crash now costs this batch again, never a gap.
        self.index.flush()
        self.state = IndexState(self.state.index_id, max(self.state.indexed_to, chunk[-1].id or 0))
        self.state.save(self.store)
        self._since_optimize += len(points)
        if self._since_optimize >= OPTIMIZE_EVERY:
            self.index.optimize()
            release_free_heap()  # what the build freed, back to the system
            self._since_optimize = 0
        return len(chunk)

    def _points_for(self, conversation_id: int, new: list[Message]) -> list[IndexedMessage]:
        """Points for the new messages and for the older turns whose context they change."""
        radius = self.tuning.radius
        new.sort(key=lambda m: (m.sent_at, m.id or 0))
        span = self.queries.text_span(conversation_id, new[0], new[-1], margin=2 * radius)
        position = {m.id: k for k, m in enumerate(span)}
        affected: set[int] = set()
        for message in new:
            k = position.get(message.id)
            if k is not None:
                affected.update(range(max(0, k - radius), min(len(span), k + radius + 1)))
        if not affected:
            return []
        sitting = sittings(span, self.tuning.session_gap_s)
        speakers = [self.speakers.of(m) for m in span]
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
            for term in [*words(k), *terms(speakers[k]), *month_terms(message.sent_at)]:
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
                    contact_id=self.speakers.contact_of(message),
                )
            )
        return points

    def _raw_vectors(
        self, messages: list[Message], speakers: list[str]
    ) -> list[NDArray[np.float32]]:
        """Each message's own vector, from the cache or the embedder: what it says plus
        `speaker_weight` times its speaker's name (or "speaker: text" embedded whole, for
        an index built that way)."""
        missing = [i for i, m in enumerate(messages) if m.id not in self._vectors]
        if missing:
            weight = self.tuning.speaker_weight
            if weight is None:
                computed = self.embedder.embed(
                    [f"{speakers[i]}: {messages[i].text}" for i in missing]
                )
            else:
                # Each distinct text once: "ok" is one text whoever said it.
                rows: dict[str, int] = {}
                at = [rows.setdefault(messages[i].text, len(rows)) for i in missing]
                computed = self.embedder.embed(list(rows))[at]
                computed = computed + weight * self._name_vectors([speakers[i] for i in missing])
                computed /= np.maximum(np.linalg.norm(computed, axis=1, keepdims=True), 1e-12)
            for i, row in zip(missing, computed, strict=True):
                message_id = messages[i].id
                assert message_id is not None
                self._vectors[message_id] = row
        out = []
        for message in messages:
            assert message.id is not None
            self._vectors.move_to_end(message.id)
            out.append(self._vectors[message.id])
        while len(self._vectors) > VECTOR_CACHE:
            self._vectors.popitem(last=False)
        return out

    def _name_vectors(self, names: list[str]) -> NDArray[np.float32]:
        """The speakers' name vectors, row for row; each name is embedded once."""
        unknown = sorted({name for name in names if name not in self._names})
        if unknown:
            if len(self._names) + len(unknown) > NAME_CACHE:
                self._names.clear()
            self._names.update(zip(unknown, self.embedder.embed(unknown), strict=True))
        return np.stack([self._names[name] for name in names])


def sittings(span: Sequence[Message], gap_s: float) -> list[int]:
    """A number per message, the same for turns of one sitting (no long pause between)."""
    out: list[int] = []
    current = 0
    for k, message in enumerate(span):
        if k and (message.sent_at - span[k - 1].sent_at).total_seconds() > gap_s:
            current += 1
        out.append(current)
    return out


def month_terms(moment: datetime) -> list[str]:
    return [MONTHS[moment.month - 1], str(moment.year)]
