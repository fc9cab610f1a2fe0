"""Qdrant Edge (`qdrant-edge-py`), the embedded default: Qdrant's engine in-process on
a folder. No server; top-10 in under a millisecond at 100k points once `optimize()` has
run (benchmarks/vector_index.py)."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from twin_core.memory.index.errors import (
    REINDEX,
    IndexBusyError,
    IndexMismatchError,
    VectorIndexError,
    _missing,
)
from twin_core.memory.index.manifest import _checked_manifest, _new_manifest
from twin_core.memory.index.protocol import Hit, IndexedMessage, IndexSpec, Scope, SparseVector
from twin_core.memory.index.qdrant import (
    DENSE,
    SPARSE,
    NearestQuery,
    _dense_list,
    _QdrantIndex,
    _Where,
)

if TYPE_CHECKING:
    import qdrant_edge


SEGMENT_KB = 200_000
"""The largest segment an optimization builds (about 100k messages with their context
terms), so memory during `optimize()` stays bounded however large the history."""


class EdgeVectorIndex(_QdrantIndex):
    """Qdrant Edge on a folder: `manifest.json` beside the shard in `shard/`.

    One process at a time: the folder is locked (`.lock`) while open, and a second
    opener gets `IndexBusyError`. Indexes built now keep no write-ahead log: points are
    durable once `flush()` (or `close()`) returns; indexes built before keep theirs.
    """

    def __init__(
        self,
        path: Path,
        shard: qdrant_edge.EdgeShard,
        manifest: dict[str, Any],
        lock: IO[bytes] | None = None,
    ) -> None:
        """Use `open()` or `recreate()`."""
        self.path = path
        self._shard: qdrant_edge.EdgeShard | None = shard
        self._lock = lock
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
        lock = _lock_folder(path)
        try:
            return cls(path, cls._load(shard_dir), manifest, lock)
        except BaseException:
            lock.close()
            raise

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
            EdgeOptimizersConfig,
            EdgeShard,
            EdgeSparseVectorParams,
            EdgeVectorParams,
            HnswIndexConfig,
            IntegerIndexParams,
            KeywordIndexParams,
            Memory,
            Modifier,
            UpdateOperation,
            VectorStorageDatatype,
        )

        path.mkdir(parents=True, exist_ok=True)
        lock = _lock_folder(path)
        shard_dir = path / "shard"
        # No manifest means no finished index: whatever shard is here is a leftover of
        # an interrupted build (the manifest is written last).
        if shard_dir.exists():
            shutil.rmtree(shard_dir)
        # The dense vectors are stored once, as TurboQuant 8-bit codes (Qdrant's own
        # primary-storage quantization: a rotation, then 8 bits a coordinate; the
        # float originals are never kept). Against float16 originals plus int8 copies
        # for search, this halves the dense part on disk (1,543 -> 780 B a point at
        # 210k) and the graph builds in half the time, at the same top-10 agreement
        # with exact search (docs/BENCHMARKS.md, issue 16). Nothing of a finished
        # segment lives on the heap: the codes, the sparse index and the graph are
        # memory-mapped (`Cached`: the kernel keeps the pages it can and drops them
        # under pressure); payload, payload indexes and id tracker are read from disk
        # when needed (`Cold`). Held in RAM, they grew with the history (1.3 KB per
        # message, 2.8 GB peak at 1M).
        dense = EdgeVectorParams(
            size=spec.dimension,
            distance=Distance.Cosine,
            datatype=VectorStorageDatatype.Turbo8,
            memory=Memory.Cached,
        )
        # No write-ahead log: the index is derived from SQL, and the indexer flushes
        # before it records how far it got (`flush()`), so the log only doubled every
        # write and held most of the disk (32 MB files). Segments are capped, so the
        # indexer can optimize as the index grows (`Indexer.OPTIMIZE_EVERY`) instead of
        # holding every point in one in-memory appendable segment until the end
        # (docs/BENCHMARKS.md, issue 16).
        config = EdgeConfig(
            vectors={DENSE: dense},
            sparse_vectors={
                SPARSE: EdgeSparseVectorParams(modifier=Modifier.Idf, memory=Memory.Cached)
            },
            hnsw_config=HnswIndexConfig(
                m=16, ef_construct=100, full_scan_threshold=10_000, memory=Memory.Cached
            ),
            payload_memory=Memory.Cold,
            id_tracker_memory=Memory.Cold,
            wal_enabled=False,
            optimizers=EdgeOptimizersConfig(max_segment_size=SEGMENT_KB),
        )
        shard = EdgeShard.create(str(shard_dir), config)
        cold = Memory.Cold
        for field, schema in (
            ("contact_id", IntegerIndexParams(lookup=True, range=False, memory=cold)),
            ("conversation_id", IntegerIndexParams(lookup=True, range=False, memory=cold)),
            (
                "sent_at",
                IntegerIndexParams(lookup=False, range=True, is_principal=True, memory=cold),
            ),
            ("channel", KeywordIndexParams(memory=cold)),
        ):
            shard.update(UpdateOperation.create_field_index(field, schema))
        shard.flush()
        manifest = _new_manifest(spec)
        temporary = path / "manifest.json.tmp"
        temporary.write_text(json.dumps(manifest, indent=2) + "\n")
        os.replace(temporary, cls.manifest_path(path))
        return cls(path, shard, manifest, lock)

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

    def flush(self) -> None:
        with self._use() as shard:
            shard.flush()

    def close(self) -> None:
        shard, self._shard = self._shard, None
        if shard is None:
            return
        try:
            if self.manifest_path(self.path).is_file():
                shard.flush()
        finally:
            shard.close()
            if self._lock is not None:
                self._lock.close()  # releases the folder for the next process
                self._lock = None


def _lock_folder(path: Path) -> IO[bytes]:
    """Hold `path` for this process (an exclusive lock on `path/.lock`, released when the
    file is closed, or by the kernel when the process dies). With no write-ahead log the
    engine locks nothing itself, and two processes writing one folder would corrupt it."""
    handle = (path / ".lock").open("ab")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        handle.close()
        raise IndexBusyError(
            f"the vector index at {path} is open in another process. Run one twin "
            "process per data folder (jobs run inside the bot unless TWIN_REDIS_URL is "
            "set), or use a Qdrant server (TWIN_QDRANT_URL)."
        ) from exc
    return handle
