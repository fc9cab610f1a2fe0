"""A Qdrant server through qdrant-client (`TWIN_QDRANT_URL`), for an owner who has
outgrown one folder. qdrant-client's own local mode speaks the same API and serves the
tests; it is far too slow to be the default (94 s to upsert 100k points, 136-181 ms per
query, as measured for the recall issue)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from twin_core.memory.index.errors import (
    REINDEX,
    IndexMismatchError,
    IndexUnreachableError,
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
    from qdrant_client import QdrantClient
    from qdrant_client.http import models as qmodels

DEFAULT_COLLECTION = "twin_messages"


def make_client(url: str, api_key: str | None = None) -> QdrantClient:
    """A client for the server at `url`. Its version check runs in a thread of its own
    and only warns; an unreachable server is reported by the first real call instead."""
    from qdrant_client import QdrantClient

    return QdrantClient(url=url, api_key=api_key, check_compatibility=False)


def unreachable(url: str, exc: BaseException) -> IndexUnreachableError:
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return IndexUnreachableError(
        f"cannot reach the Qdrant server at {url} (TWIN_QDRANT_URL): {reason}"
    )


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
        client = make_client(url, api_key)
        try:
            index = cls.open(client, spec, collection=collection, create=create)
        except VectorIndexError:
            client.close()
            raise
        except Exception as exc:
            client.close()
            raise unreachable(url, exc) from exc
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

    def flush(self) -> None:
        """Nothing to do: the server logs every write before it answers."""

    def optimize(self) -> None:
        """The server optimizes in the background."""

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._owns_client:
            self.client.close()
