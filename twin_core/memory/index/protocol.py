"""The `VectorIndex` protocol and the values that cross it: what goes in (an
`IndexedMessage`, with its dense vector and its `SparseVector`), what a query may see
(`Scope`), what comes out (`Hit`, `HybridHits`), and what made an index's vectors
(`IndexSpec`: an embedder and a `SparseEncoder`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, Self, runtime_checkable

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from twin_core.memory.embed import Embedder

# --- sparse vectors ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SparseVector:
    """Weights of a few dimensions (hashed tokens), every other dimension zero."""

    indices: tuple[int, ...]
    values: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.indices) != len(self.values):
            raise ValueError("a sparse vector needs one value per index")

    def __len__(self) -> int:
        return len(self.indices)


@runtime_checkable
class SparseEncoder(Protocol):
    """Turns texts into sparse vectors for the index's lexical half.

    `name` identifies everything that changes the vectors (tokenizer, hashing,
    parameters): the index records it next to the embedder's.
    """

    @property
    def name(self) -> str: ...

    def encode_documents(self, texts: Sequence[str]) -> list[SparseVector]: ...

    def encode_query(self, text: str) -> SparseVector: ...


# --- what goes in and what comes out -------------------------------------------------


@dataclass(frozen=True, slots=True)
class IndexSpec:
    """What made an index's vectors. Two specs that differ cannot share an index."""

    embedder: str
    dimension: int
    sparse: str

    @classmethod
    def of(cls, embedder: Embedder, sparse: SparseEncoder) -> IndexSpec:
        return cls(embedder.name, embedder.dimension, sparse.name)

    def describe(self) -> str:
        return f"embedder {self.embedder} ({self.dimension} dimensions), sparse {self.sparse}"

    def to_json(self) -> dict[str, Any]:
        return {"embedder": self.embedder, "dimension": self.dimension, "sparse": self.sparse}

    @classmethod
    def from_json(cls, raw: Any) -> IndexSpec:
        return cls(str(raw["embedder"]), int(raw["dimension"]), str(raw["sparse"]))


@dataclass(frozen=True, slots=True)
class IndexedMessage:
    """One message as the index holds it: ids, vectors and filter fields, no text."""

    message_id: int
    dense: NDArray[np.float32] | Sequence[float]
    sparse: SparseVector
    conversation_id: int
    channel: str
    sent_at: int
    """Epoch seconds (`epoch_seconds(message.sent_at)`)."""
    contact_id: int | None = None

    def payload(self) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "conversation_id": self.conversation_id,
            "channel": self.channel,
            "sent_at": self.sent_at,
        }
        if self.contact_id is not None:
            fields["contact_id"] = self.contact_id
        return fields


def epoch_seconds(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("a timezone-aware datetime is needed")
    return int(moment.timestamp())


@dataclass(frozen=True, slots=True)
class Scope:
    """Which messages a query may see. `None` leaves a field free; an empty tuple
    matches nothing (a scope built from an empty allow-list must not widen to all)."""

    contact_ids: tuple[int, ...] | None = None
    conversation_ids: tuple[int, ...] | None = None
    channels: tuple[str, ...] | None = None
    sent_from: int | None = None
    """Inclusive, epoch seconds."""
    sent_before: int | None = None
    """Exclusive, epoch seconds."""
    exclude_message_ids: tuple[int, ...] = ()

    @classmethod
    def contact(cls, contact_id: int) -> Scope:
        return cls(contact_ids=(contact_id,))

    @property
    def matches_nothing(self) -> bool:
        empty = any(
            ids is not None and len(ids) == 0
            for ids in (self.contact_ids, self.conversation_ids, self.channels)
        )
        inverted = (
            self.sent_from is not None
            and self.sent_before is not None
            and self.sent_from >= self.sent_before
        )
        return empty or inverted

    @property
    def is_everything(self) -> bool:
        return (
            self.contact_ids is None
            and self.conversation_ids is None
            and self.channels is None
            and self.sent_from is None
            and self.sent_before is None
            and not self.exclude_message_ids
        )


@dataclass(frozen=True, slots=True)
class Hit:
    """One message a query found, and its score."""

    message_id: int
    score: float


@dataclass(frozen=True, slots=True)
class HybridHits:
    """Both ranked lists of one query, for the caller to fuse as it sees fit."""

    dense: list[Hit]
    sparse: list[Hit]


@runtime_checkable
class VectorIndex(Protocol):
    """Dense and sparse vectors of messages, scoped queries over them.

    Writes are idempotent (upserting a message again replaces it). Queries return
    message ids with scores, best first: cosine for dense, BM25 for sparse. Methods are
    synchronous and fast (milliseconds); async callers hand bulk upserts to a thread.
    """

    @property
    def spec(self) -> IndexSpec: ...

    @property
    def index_id(self) -> str:
        """Unique per build: a rebuilt index gets a new one, so a caller that remembers
        it can tell "this is the index I filled" from "an empty one in its place"."""
        ...

    def upsert(self, messages: Sequence[IndexedMessage]) -> None: ...

    def delete(self, message_ids: Sequence[int]) -> None: ...

    def count(self, scope: Scope | None = None) -> int: ...

    def query_hybrid(
        self,
        dense: NDArray[np.float32] | Sequence[float],
        sparse: SparseVector,
        *,
        scope: Scope | None = None,
        limit: int = 10,
    ) -> HybridHits:
        """Both ranked lists in one round trip."""
        ...

    def optimize(self) -> None:
        """Build the search structures; call it after a bulk load (an import, a
        reindex). Until then the points written since the last call are searched by
        brute force: 10-15 ms per dense query at 100k such points, and linear beyond.
        Blocking (about 50 s per 100k points on 2 cores); a no-op for a server, which
        optimizes in the background."""
        ...

    def flush(self) -> None:
        """Make every write so far durable. The embedded index keeps no write-ahead log
        (it is derived from SQL): the indexer flushes before it records how far it got,
        so a crash costs a re-index of the last batch, never a point silently missing.
        A no-op for a server, which logs its own writes."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
