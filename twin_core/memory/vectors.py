"""The vector index: a dense and a sparse (BM25-style) vector per message, and the fields
a query is scoped by.

Two implementations of one `VectorIndex` protocol, held to one contract test suite:

* `EdgeVectorIndex`, the embedded default: Qdrant Edge (`qdrant-edge-py`), Qdrant's
  engine in-process on a folder. No server; top-10 in under a millisecond at 100k points
  once `optimize()` has run (benchmarks/vector_index.py).
* `QdrantServerIndex`: qdrant-client against a Qdrant server (`TWIN_QDRANT_URL`), for an
  owner who has outgrown one folder. qdrant-client's own local mode speaks the same API
  and serves the tests; it is far too slow to be the default (94 s to upsert 100k points,
  136-181 ms per query, as measured for the recall issue).

A point is a message: its id is the SQL message id, its payload holds only what a query
is scoped by (contact, channel, conversation, time). Message text stays in the SQL store,
encrypted there; the index never sees it.

Every index records the embedder and sparse encoder that made its vectors (its
`IndexSpec`). Opening it with another, or finding it deleted, raises an error that names
the fix: `twin reindex`, which rebuilds it from the SQL store.

BM25 in a vector index: a sparse encoder (`Bm25Encoder`, or recall's
`ContextBm25Encoder` in `memory.sparse`) turns a text into term-frequency weights over
hashed tokens,
`tf * (k1 + 1) / (tf + k1 * (1 - b + b * len / avg_len))`, and a query into one weight
of 1.0 per distinct token. The inverse document frequency is not baked
into the stored vectors (it changes with every message added): both engines apply it at
query time, from the live index, because the sparse vector is declared with the IDF
modifier (`Modifier.Idf` in Qdrant Edge, `Modifier.IDF` in qdrant-client):
`idf = ln(1 + (N - n + 0.5) / (n + 0.5))`. So the dot product the engine computes is the
Okapi BM25 score.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
import warnings
import zlib
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, Self, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from twin_core.memory.text import tokenize

if TYPE_CHECKING:
    import qdrant_edge
    from qdrant_client import QdrantClient
    from qdrant_client.http import models as qmodels

    from twin_core.memory.embed import Embedder

FORMAT = 1
"""Version of the index layout (vector names, payload fields); bump it to force a rebuild."""

DENSE = "dense"
SPARSE = "sparse"
DEFAULT_COLLECTION = "twin_messages"
REINDEX = "twin reindex"
UPSERT_BATCH = 1000


class VectorIndexError(RuntimeError):
    """The vector index cannot do what was asked; the message says what to do."""


class IndexMissingError(VectorIndexError):
    """The index is not where it should be: never built, or deleted."""


class IndexMismatchError(VectorIndexError):
    """The index was built by another embedding model or sparse encoder, or an older
    layout; mixing its vectors with new ones would give nonsense."""


class IndexBusyError(VectorIndexError):
    """Another process has the embedded index open."""


# --- sparse vectors ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SparseVector:
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


def token_index(token: str) -> int:
    """A token's dimension: CRC-32 of its UTF-8 bytes. Stable across processes and
    versions, unlike `hash()`; collisions in 2^32 slots are rare enough for recall."""
    return zlib.crc32(token.encode("utf-8"))


class Bm25Encoder:
    """BM25 term weights over the project's own tokenizer (`memory.text.tokenize`: the
    same words the lexical index sees, CJK and Thai as bigrams), hashed to indices.

    `avg_len` stands in for the corpus' average document length, which a vector index
    does not keep: about 12 tokens for one chat message, more when messages are indexed
    with their neighbouring turns. Subclasses change the vocabulary by overriding
    `tokens` (and `vocabulary`, which names it in the index manifest).
    """

    vocabulary = "words"

    def __init__(self, *, k1: float = 1.2, b: float = 0.75, avg_len: float = 12.0) -> None:
        if k1 < 0 or not 0.0 <= b <= 1.0 or avg_len <= 0:
            raise ValueError("BM25 needs k1 >= 0, 0 <= b <= 1 and avg_len > 0")
        self.k1 = k1
        self.b = b
        self.avg_len = avg_len

    @staticmethod
    def tokens(text: str) -> list[str]:
        return tokenize(text)

    @property
    def name(self) -> str:
        return f"bm25:{self.vocabulary}-crc32:k1={self.k1:g}:b={self.b:g}:avg_len={self.avg_len:g}"

    def encode_documents(self, texts: Sequence[str]) -> list[SparseVector]:
        return [self.encode_counts(Counter(self.tokens(text))) for text in texts]

    def encode_query(self, text: str) -> SparseVector:
        indices = sorted({token_index(token) for token in self.tokens(text)})
        return SparseVector(tuple(indices), (1.0,) * len(indices))

    def encode_counts(self, counts: Mapping[str, float]) -> SparseVector:
        """BM25 document weights for term counts, which may be fractional (a message's
        context counts its neighbours' words at a lower weight)."""
        length = sum(counts.values())
        if length <= 0:
            return SparseVector((), ())
        norm = self.k1 * (1.0 - self.b + self.b * length / self.avg_len)
        weights: dict[int, float] = {}
        for token, tf in counts.items():
            if tf <= 0:
                continue
            index = token_index(token)
            # Two tokens hashed to one slot share it, as their counts would.
            weights[index] = weights.get(index, 0.0) + tf * (self.k1 + 1.0) / (tf + norm)
        indices = sorted(weights)
        return SparseVector(tuple(indices), tuple(weights[i] for i in indices))


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

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


def _dense_list(vector: NDArray[np.float32] | Sequence[float], dimension: int) -> list[float]:
    values: list[float] = np.asarray(vector, dtype=np.float32).ravel().tolist()
    if len(values) != dimension:
        raise ValueError(f"a dense vector of {dimension} dimensions is needed, got {len(values)}")
    return values


def _check_limit(limit: int) -> None:
    if limit < 1:
        raise ValueError("limit must be at least 1")


def _mismatch(location: str, found: IndexSpec, wanted: IndexSpec) -> IndexMismatchError:
    return IndexMismatchError(
        f"the vector index at {location} was built with {found.describe()}, but the twin "
        f"is configured for {wanted.describe()}. Run `{REINDEX}` to rebuild it from the "
        "message store (or set the embedder back)."
    )


def _missing(location: str, detail: str) -> IndexMissingError:
    return IndexMissingError(
        f"the vector index at {location} {detail}. Run `{REINDEX}` to rebuild it from the "
        "message store."
    )


def _new_manifest(spec: IndexSpec) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "spec": spec.to_json(),
        "index_id": uuid.uuid4().hex,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _checked_manifest(location: str, raw: Any, wanted: IndexSpec) -> dict[str, Any]:
    try:
        found_format = int(raw["format"])
        found = IndexSpec.from_json(raw["spec"])
        str(raw["index_id"])
    except (KeyError, TypeError, ValueError) as exc:
        raise IndexMismatchError(
            f"the vector index at {location} has no readable manifest ({exc!r}). "
            f"Run `{REINDEX}` to rebuild it from the message store."
        ) from exc
    if found_format != FORMAT:
        raise IndexMismatchError(
            f"the vector index at {location} has layout version {found_format}; this twin "
            f"uses {FORMAT}. Run `{REINDEX}` to rebuild it from the message store."
        )
    if found != wanted:
        raise _mismatch(location, found, wanted)
    manifest: dict[str, Any] = raw
    return manifest


# --- What both Qdrant indexes share ------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Where:
    """A scope as conditions, for each engine to write in its own types."""

    any_of: list[tuple[str, list[Any]]]
    """(payload key, the values one of which it must have)."""
    sent: tuple[int | None, int | None] | None
    """sent_at bounds (inclusive, exclusive), if any."""
    not_ids: list[int]

    @classmethod
    def of(cls, scope: Scope | None) -> _Where | None:
        """None for a scope that lets everything through."""
        if scope is None or scope.is_everything:
            return None
        any_of: list[tuple[str, list[Any]]] = [
            (key, list(values))
            for key, values in (
                ("contact_id", scope.contact_ids),
                ("conversation_id", scope.conversation_ids),
                ("channel", scope.channels),
            )
            if values is not None
        ]
        bounded = scope.sent_from is not None or scope.sent_before is not None
        return cls(
            any_of,
            (scope.sent_from, scope.sent_before) if bounded else None,
            list(scope.exclude_message_ids),
        )


NearestQuery = tuple[str, list[float] | SparseVector]
"""(vector name, the query vector): DENSE with floats, SPARSE with a SparseVector."""


class _QdrantIndex(ABC):
    """The `VectorIndex` algorithm over a Qdrant engine: argument checks, batching, empty
    scopes answered without a call. Subclasses speak to their engine in its own types."""

    _spec: IndexSpec
    _index_id: str

    @property
    def spec(self) -> IndexSpec:
        return self._spec

    @property
    def index_id(self) -> str:
        return self._index_id

    def upsert(self, messages: Sequence[IndexedMessage]) -> None:
        for start in range(0, len(messages), UPSERT_BATCH):
            self._upsert_batch(messages[start : start + UPSERT_BATCH])

    def delete(self, message_ids: Sequence[int]) -> None:
        if message_ids:
            self._delete_ids(list(message_ids))

    def count(self, scope: Scope | None = None) -> int:
        if scope is not None and scope.matches_nothing:
            return 0
        return self._count(scope)

    def query_hybrid(
        self,
        dense: NDArray[np.float32] | Sequence[float],
        sparse: SparseVector,
        *,
        scope: Scope | None = None,
        limit: int = 10,
    ) -> HybridHits:
        _check_limit(limit)
        dense_values = _dense_list(dense, self._spec.dimension)
        if scope is not None and scope.matches_nothing:
            return HybridHits([], [])
        queries: list[NearestQuery] = [(DENSE, dense_values)]
        if len(sparse):
            queries.append((SPARSE, sparse))
        answers = self._nearest(queries, scope, limit)
        return HybridHits(answers[0], answers[1] if len(answers) > 1 else [])

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @abstractmethod
    def _upsert_batch(self, messages: Sequence[IndexedMessage]) -> None: ...

    @abstractmethod
    def _delete_ids(self, message_ids: list[int]) -> None: ...

    @abstractmethod
    def _count(self, scope: Scope | None) -> int: ...

    @abstractmethod
    def _nearest(
        self, queries: Sequence[NearestQuery], scope: Scope | None, limit: int
    ) -> list[list[Hit]]:
        """Each query's best `limit` within `scope`, in one round trip."""

    @abstractmethod
    def optimize(self) -> None: ...

    @abstractmethod
    def close(self) -> None: ...


# --- Qdrant Edge: the embedded default ------------------------------------------------


class EdgeVectorIndex(_QdrantIndex):
    """Qdrant Edge on a folder: `manifest.json` beside the shard in `shard/`.

    One process at a time: the shard's write-ahead log is locked while open, and a
    second opener gets `IndexBusyError`. Points written are durable through that log;
    `close()` flushes the rest.
    """

    def __init__(self, path: Path, shard: qdrant_edge.EdgeShard, manifest: dict[str, Any]) -> None:
        """Use `open()` or `recreate()`."""
        self.path = path
        self._shard: qdrant_edge.EdgeShard | None = shard
        self._spec = IndexSpec.from_json(manifest["spec"])
        self._index_id = str(manifest["index_id"])

    @staticmethod
    def manifest_path(path: Path) -> Path:
        return path / "manifest.json"

    @classmethod
    def open(cls, path: Path | str, spec: IndexSpec, *, create: bool = False) -> EdgeVectorIndex:
        """Open the index at `path`. A folder with no index is built empty when `create`
        is true; otherwise it raises `IndexMissingError`, since an index that was there
        and is not any more must be rebuilt from SQL, not silently started empty."""
        path = Path(path)
        manifest_file = cls.manifest_path(path)
        if not manifest_file.is_file():
            if not create:
                raise _missing(str(path), "does not exist (deleted, or never built)")
            return cls._create(path, spec)
        try:
            raw = json.loads(manifest_file.read_text())
        except (OSError, ValueError) as exc:
            raise IndexMismatchError(
                f"the vector index manifest {manifest_file} is unreadable ({exc}). "
                f"Run `{REINDEX}` to rebuild it from the message store."
            ) from exc
        manifest = _checked_manifest(str(path), raw, spec)
        shard_dir = path / "shard"
        if not shard_dir.is_dir():
            raise _missing(str(path), "has lost its data (the shard folder is gone)")
        return cls(path, cls._load(shard_dir), manifest)

    @classmethod
    def recreate(cls, path: Path | str, spec: IndexSpec) -> EdgeVectorIndex:
        """Delete whatever index is at `path` and build an empty one for `spec`."""
        path = Path(path)
        cls.manifest_path(path).unlink(missing_ok=True)
        return cls._create(path, spec)

    @classmethod
    def _create(cls, path: Path, spec: IndexSpec) -> EdgeVectorIndex:
        from qdrant_edge import (
            Distance,
            EdgeConfig,
            EdgeShard,
            EdgeSparseVectorParams,
            EdgeVectorParams,
            IntegerIndexParams,
            Modifier,
            PayloadSchemaType,
            ScalarQuantizationConfig,
            ScalarType,
            UpdateOperation,
            VectorStorageDatatype,
        )

        path.mkdir(parents=True, exist_ok=True)
        shard_dir = path / "shard"
        # No manifest means no finished index: whatever shard is here is a leftover of
        # an interrupted build (the manifest is written last).
        if shard_dir.exists():
            shutil.rmtree(shard_dir)
        # float16 halves the disk, and int8 copies in RAM make both the graph build and
        # the search several times faster (benchmarks/vector_index.py); results are
        # rescored with the stored vectors, so ranking is unchanged in practice.
        dense = EdgeVectorParams(
            size=spec.dimension,
            distance=Distance.Cosine,
            datatype=VectorStorageDatatype.Float16,
            quantization_config=ScalarQuantizationConfig(type=ScalarType.Int8, always_ram=True),
        )
        config = EdgeConfig(
            vectors={DENSE: dense},
            sparse_vectors={SPARSE: EdgeSparseVectorParams(modifier=Modifier.Idf)},
        )
        shard = EdgeShard.create(str(shard_dir), config)
        for field, schema in (
            ("contact_id", IntegerIndexParams(lookup=True, range=False)),
            ("conversation_id", IntegerIndexParams(lookup=True, range=False)),
            ("sent_at", IntegerIndexParams(lookup=False, range=True, is_principal=True)),
            ("channel", PayloadSchemaType.Keyword),
        ):
            shard.update(UpdateOperation.create_field_index(field, schema))
        shard.flush()
        manifest = _new_manifest(spec)
        temporary = path / "manifest.json.tmp"
        temporary.write_text(json.dumps(manifest, indent=2) + "\n")
        os.replace(temporary, cls.manifest_path(path))
        return cls(path, shard, manifest)

    @staticmethod
    def _load(shard_dir: Path) -> qdrant_edge.EdgeShard:
        from qdrant_edge import EdgeShard

        try:
            return EdgeShard.load(str(shard_dir))
        except Exception as exc:  # qdrant-edge raises plain Exception
            if "WouldBlock" in str(exc):
                raise IndexBusyError(
                    f"the vector index at {shard_dir.parent} is open in another process. "
                    "Run one twin process per data folder (jobs run inside the bot unless "
                    "TWIN_REDIS_URL is set), or use a Qdrant server (TWIN_QDRANT_URL)."
                ) from exc
            raise VectorIndexError(
                f"the vector index at {shard_dir.parent} cannot be loaded ({exc}). "
                f"Run `{REINDEX}` to rebuild it from the message store."
            ) from exc

    @contextmanager
    def _use(self) -> Iterator[qdrant_edge.EdgeShard]:
        if self._shard is None:
            raise VectorIndexError(f"the vector index at {self.path} is closed")
        if not self.manifest_path(self.path).is_file():
            raise _missing(str(self.path), "was deleted while the twin was running")
        try:
            yield self._shard
        except VectorIndexError:
            raise
        except Exception as exc:  # qdrant-edge raises plain Exception
            if not self.manifest_path(self.path).is_file():
                raise _missing(str(self.path), "was deleted while the twin was running") from exc
            raise VectorIndexError(f"the vector index at {self.path} failed: {exc}") from exc

    def _filter(self, scope: Scope | None) -> qdrant_edge.Filter | None:
        from qdrant_edge import FieldCondition, Filter, HasIdCondition, MatchAny, RangeFloat

        where = _Where.of(scope)
        if where is None:
            return None
        must: list[Any] = [
            FieldCondition(key=key, match=MatchAny(values)) for key, values in where.any_of
        ]
        if where.sent is not None:
            bounds = RangeFloat(gte=where.sent[0], lt=where.sent[1])
            must.append(FieldCondition(key="sent_at", range=bounds))
        must_not: list[Any] = [HasIdCondition(set(where.not_ids))] if where.not_ids else []
        return Filter(must=must or None, must_not=must_not or None)

    @staticmethod
    def _sparse(vector: SparseVector) -> qdrant_edge.SparseVector:
        from qdrant_edge import SparseVector as EdgeSparse

        return EdgeSparse(list(vector.indices), list(vector.values))

    def _query(self, query: NearestQuery) -> qdrant_edge.Query:
        from qdrant_edge import Query

        name, values = query
        vector = self._sparse(values) if isinstance(values, SparseVector) else values
        return Query.Nearest(vector, name)

    @staticmethod
    def _hits(points: Sequence[qdrant_edge.ScoredPoint]) -> list[Hit]:
        return [Hit(int(str(p.id)), float(p.score)) for p in points]

    def _upsert_batch(self, messages: Sequence[IndexedMessage]) -> None:
        from qdrant_edge import Point, UpdateOperation

        points = [
            Point(
                m.message_id,
                {
                    DENSE: _dense_list(m.dense, self._spec.dimension),
                    SPARSE: self._sparse(m.sparse),
                },
                m.payload(),
            )
            for m in messages
        ]
        with self._use() as shard:
            shard.update(UpdateOperation.upsert_points(points))

    def _delete_ids(self, message_ids: list[int]) -> None:
        from qdrant_edge import UpdateOperation

        points: list[Any] = list(message_ids)
        with self._use() as shard:
            shard.update(UpdateOperation.delete_points(points))

    def _count(self, scope: Scope | None) -> int:
        from qdrant_edge import CountRequest

        with self._use() as shard:
            return shard.count(CountRequest(exact=True, filter=self._filter(scope)))

    def _nearest(
        self, queries: Sequence[NearestQuery], scope: Scope | None, limit: int
    ) -> list[list[Hit]]:
        from qdrant_edge import QueryBatchRequest, QueryRequest

        flt = self._filter(scope)
        requests = [
            QueryRequest(
                limit=limit,
                query=self._query(query),
                filter=flt,
                with_payload=False,
                with_vector=False,
            )
            for query in queries
        ]
        with self._use() as shard:
            answers = shard.query_batch(QueryBatchRequest(requests))
        return [self._hits(answer) for answer in answers]

    def optimize(self) -> None:
        with self._use() as shard:
            shard.optimize()

    def close(self) -> None:
        shard, self._shard = self._shard, None
        if shard is None:
            return
        try:
            if self.manifest_path(self.path).is_file():
                shard.flush()
        finally:
            shard.close()


# --- Qdrant server (or qdrant-client's local mode) ------------------------------------


class QdrantServerIndex(_QdrantIndex):
    """A collection on a Qdrant server, through qdrant-client. The manifest lives in the
    collection's metadata. The client is the caller's unless `connect()` made it."""

    def __init__(
        self,
        client: QdrantClient,
        collection: str,
        manifest: dict[str, Any],
        *,
        owns_client: bool = False,
    ) -> None:
        """Use `open()`, `connect()` or `recreate()`."""
        self.client = client
        self.collection = collection
        self._spec = IndexSpec.from_json(manifest["spec"])
        self._index_id = str(manifest["index_id"])
        self._owns_client = owns_client
        self._closed = False

    @classmethod
    def connect(
        cls,
        url: str,
        spec: IndexSpec,
        *,
        api_key: str | None = None,
        collection: str = DEFAULT_COLLECTION,
        create: bool = False,
    ) -> QdrantServerIndex:
        from qdrant_client import QdrantClient

        client = QdrantClient(url=url, api_key=api_key)
        try:
            index = cls.open(client, spec, collection=collection, create=create)
        except BaseException:
            client.close()
            raise
        index._owns_client = True
        return index

    @classmethod
    def open(
        cls,
        client: QdrantClient,
        spec: IndexSpec,
        *,
        collection: str = DEFAULT_COLLECTION,
        create: bool = False,
    ) -> QdrantServerIndex:
        location = cls._location(client, collection)
        if not client.collection_exists(collection):
            if not create:
                raise _missing(location, "does not exist (deleted, or never built)")
            return cls._create(client, collection, spec)
        metadata = client.get_collection(collection).config.metadata or {}
        if "twin" not in metadata:
            raise IndexMismatchError(
                f"the collection at {location} was not made by the twin (it has no twin "
                f"manifest). Run `{REINDEX}` to rebuild it, or choose another collection."
            )
        manifest = _checked_manifest(location, metadata["twin"], spec)
        return cls(client, collection, manifest)

    @classmethod
    def recreate(
        cls, client: QdrantClient, spec: IndexSpec, *, collection: str = DEFAULT_COLLECTION
    ) -> QdrantServerIndex:
        if client.collection_exists(collection):
            client.delete_collection(collection)
        return cls._create(client, collection, spec)

    @classmethod
    def _create(cls, client: QdrantClient, collection: str, spec: IndexSpec) -> QdrantServerIndex:
        from qdrant_client.http import models

        manifest = _new_manifest(spec)
        client.create_collection(
            collection,
            vectors_config={
                DENSE: models.VectorParams(
                    size=spec.dimension,
                    distance=models.Distance.COSINE,
                    datatype=models.Datatype.FLOAT16,
                    quantization_config=models.ScalarQuantization(
                        scalar=models.ScalarQuantizationConfig(
                            type=models.ScalarType.INT8, always_ram=True
                        )
                    ),
                )
            },
            sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
            metadata={"twin": manifest},
        )
        schemas: list[tuple[str, models.PayloadSchemaType | models.IntegerIndexParams]] = [
            (
                "contact_id",
                models.IntegerIndexParams(
                    type=models.IntegerIndexType.INTEGER, lookup=True, range=False
                ),
            ),
            (
                "conversation_id",
                models.IntegerIndexParams(
                    type=models.IntegerIndexType.INTEGER, lookup=True, range=False
                ),
            ),
            (
                "sent_at",
                models.IntegerIndexParams(
                    type=models.IntegerIndexType.INTEGER,
                    lookup=False,
                    range=True,
                    is_principal=True,
                ),
            ),
            ("channel", models.PayloadSchemaType.KEYWORD),
        ]
        with warnings.catch_warnings():
            # qdrant-client's local mode (tests) has no payload indexes and says so.
            warnings.filterwarnings("ignore", message="Payload indexes have no effect")
            for field, schema in schemas:
                client.create_payload_index(collection, field, field_schema=schema)
        return cls(client, collection, manifest)

    @staticmethod
    def _location(client: QdrantClient, collection: str) -> str:
        init = getattr(client, "init_options", {}) or {}
        where = init.get("url") or init.get("host") or init.get("path") or init.get("location")
        return f"{where or 'qdrant'} (collection {collection})"

    @contextmanager
    def _use(self) -> Iterator[QdrantClient]:
        if self._closed:
            raise VectorIndexError(f"the vector index {self.collection} is closed")
        try:
            yield self.client
        except VectorIndexError:
            raise
        except Exception as exc:  # the server's and the local mode's errors differ
            location = self._location(self.client, self.collection)
            try:
                gone = not self.client.collection_exists(self.collection)
            except Exception:
                gone = False
            if gone:
                raise _missing(location, "was deleted while the twin was running") from exc
            raise VectorIndexError(f"the vector index at {location} failed: {exc}") from exc

    def _filter(self, scope: Scope | None) -> qmodels.Filter | None:
        from qdrant_client.http import models

        where = _Where.of(scope)
        if where is None:
            return None
        must: list[models.Condition] = [
            models.FieldCondition(key=key, match=models.MatchAny(any=values))
            for key, values in where.any_of
        ]
        if where.sent is not None:
            bounds = models.Range(gte=where.sent[0], lt=where.sent[1])
            must.append(models.FieldCondition(key="sent_at", range=bounds))
        must_not: list[models.Condition] = (
            [models.HasIdCondition(has_id=list(where.not_ids))] if where.not_ids else []
        )
        return models.Filter(must=must or None, must_not=must_not or None)

    @staticmethod
    def _sparse(vector: SparseVector) -> qmodels.SparseVector:
        from qdrant_client.http import models

        return models.SparseVector(indices=list(vector.indices), values=list(vector.values))

    def _query(self, query: NearestQuery) -> list[float] | qmodels.SparseVector:
        values = query[1]
        return self._sparse(values) if isinstance(values, SparseVector) else values

    @staticmethod
    def _hits(points: Sequence[qmodels.ScoredPoint]) -> list[Hit]:
        return [Hit(int(p.id), float(p.score)) for p in points]

    def _upsert_batch(self, messages: Sequence[IndexedMessage]) -> None:
        from qdrant_client.http import models

        points = [
            models.PointStruct(
                id=m.message_id,
                vector={
                    DENSE: _dense_list(m.dense, self._spec.dimension),
                    SPARSE: self._sparse(m.sparse),
                },
                payload=m.payload(),
            )
            for m in messages
        ]
        with self._use() as client:
            client.upsert(self.collection, points, wait=True)

    def _delete_ids(self, message_ids: list[int]) -> None:
        from qdrant_client.http import models

        with self._use() as client:
            client.delete(self.collection, models.PointIdsList(points=message_ids), wait=True)

    def _count(self, scope: Scope | None) -> int:
        with self._use() as client:
            return client.count(self.collection, count_filter=self._filter(scope), exact=True).count

    def _nearest(
        self, queries: Sequence[NearestQuery], scope: Scope | None, limit: int
    ) -> list[list[Hit]]:
        from qdrant_client.http import models

        flt = self._filter(scope)
        requests = [
            models.QueryRequest(
                query=self._query(query),
                using=query[0],
                filter=flt,
                limit=limit,
                with_payload=False,
                with_vector=False,
            )
            for query in queries
        ]
        with self._use() as client:
            answers = client.query_batch_points(self.collection, requests)
        return [self._hits(answer.points) for answer in answers]

    def optimize(self) -> None:
        """The server optimizes in the background."""

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._owns_client:
            self.client.close()


def open_vector_index(
    location: Path | str,
    spec: IndexSpec,
    *,
    create: bool = False,
    api_key: str | None = None,
    collection: str = DEFAULT_COLLECTION,
) -> VectorIndex:
    """A Qdrant server when `location` is an http(s) URL, else Qdrant Edge on that folder."""
    if isinstance(location, str) and location.startswith(("http://", "https://")):
        return QdrantServerIndex.connect(
            location, spec, api_key=api_key, collection=collection, create=create
        )
    return EdgeVectorIndex.open(location, spec, create=create)
