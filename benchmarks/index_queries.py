"""Vector index queries that only the benchmarks make: one ranked list alone, and fusion
inside the engine.

Recall asks the index for both lists in one call (`VectorIndex.query_hybrid`) and fuses
them itself, by score; reciprocal rank fusion was measured on LoCoMo and dropped
(docs/BENCHMARKS.md). benchmarks/vector_index.py still times each list alone and the
engine's fusion next to `query_hybrid`, so those queries live here, as functions that
take an index, rather than as product methods nothing in the twin calls.

`query_dense` needs only the `VectorIndex` protocol. The others speak to each engine
through the adapters its index class keeps for itself (`_nearest`, `_filter`, `_query`,
`_hits`, `_use`, in `twin_core.memory.index.edge` and `.server`): this module is their
one user outside the index, and has to follow them when they change
(tests/memory/test_vectors.py runs it on both engines).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from twin_core.memory.index import (
    EdgeVectorIndex,
    Hit,
    QdrantServerIndex,
    Scope,
    SparseVector,
    VectorIndex,
)
from twin_core.memory.index.qdrant import DENSE, SPARSE, NearestQuery, _check_limit, _dense_list

Fusion = Literal["rrf", "dbsf"]

QdrantIndex = EdgeVectorIndex | QdrantServerIndex
"""The engines these queries know how to speak to."""


def query_dense(
    index: VectorIndex,
    vector: NDArray[np.float32] | Sequence[float],
    *,
    scope: Scope | None = None,
    limit: int = 10,
) -> list[Hit]:
    """The dense list alone: `query_hybrid` with no words."""
    return index.query_hybrid(vector, SparseVector((), ()), scope=scope, limit=limit).dense


def query_sparse(
    index: QdrantIndex, vector: SparseVector, *, scope: Scope | None = None, limit: int = 10
) -> list[Hit]:
    """The BM25 list alone, without the dense query `query_hybrid` always makes."""
    _check_limit(limit)
    if not len(vector) or (scope is not None and scope.matches_nothing):
        return []
    (hits,) = index._nearest([(SPARSE, vector)], scope, limit)
    return hits


def query_fused(
    index: QdrantIndex,
    dense: NDArray[np.float32] | Sequence[float],
    sparse: SparseVector,
    *,
    scope: Scope | None = None,
    limit: int = 10,
    candidates: int | None = None,
    fusion: Fusion = "rrf",
    weights: tuple[float, float] = (1.0, 1.0),
) -> list[Hit]:
    """Prefetch `candidates` from each side and fuse them in the engine: weighted
    reciprocal rank fusion (k=60), or distribution-based score fusion."""
    _check_limit(limit)
    dense_values = _dense_list(dense, index.spec.dimension)
    if scope is not None and scope.matches_nothing:
        return []
    queries: list[NearestQuery] = [(DENSE, dense_values)]
    if len(sparse):
        queries.append((SPARSE, sparse))
    depth = _candidates(limit, candidates)
    rrf_weights = _rrf_weights(weights, len(queries))
    if isinstance(index, EdgeVectorIndex):
        return _fused_edge(index, queries, scope, limit, depth, fusion, rrf_weights)
    return _fused_server(index, queries, scope, limit, depth, fusion, rrf_weights)


def _rrf_weights(weights: tuple[float, float], sources: int) -> list[float] | None:
    """Equal weights are sent as none at all: Qdrant servers before 1.17 know plain
    RRF only, and the result is the same."""
    chosen = list(weights[:sources])
    return None if all(w == 1.0 for w in chosen) else chosen


def _candidates(limit: int, candidates: int | None) -> int:
    return max(candidates or 0, limit * 5, 50)


def _fused_edge(
    index: EdgeVectorIndex,
    queries: Sequence[NearestQuery],
    scope: Scope | None,
    limit: int,
    depth: int,
    fusion: Fusion,
    rrf_weights: list[float] | None,
) -> list[Hit]:
    from qdrant_edge import Fusion as EdgeFusion
    from qdrant_edge import Prefetch, QueryRequest

    flt = index._filter(scope)
    prefetches = [Prefetch(limit=depth, query=index._query(q), filter=flt) for q in queries]
    # The stubs type `query` as the Fusion class, though the engine takes its
    # nested Rrf and Dbsf instances.
    fuse: Any = EdgeFusion.Rrf(k=60, weights=rrf_weights) if fusion == "rrf" else EdgeFusion.Dbsf()
    request = QueryRequest(
        limit=limit, prefetches=prefetches, query=fuse, with_payload=False, with_vector=False
    )
    with index._use() as shard:
        return index._hits(shard.query(request))


def _fused_server(
    index: QdrantServerIndex,
    queries: Sequence[NearestQuery],
    scope: Scope | None,
    limit: int,
    depth: int,
    fusion: Fusion,
    rrf_weights: list[float] | None,
) -> list[Hit]:
    from qdrant_client.http import models

    flt = index._filter(scope)
    prefetch = [
        models.Prefetch(query=index._query(q), using=q[0], filter=flt, limit=depth) for q in queries
    ]
    query: models.RrfQuery | models.FusionQuery = (
        models.RrfQuery(rrf=models.Rrf(k=60, weights=rrf_weights))
        if fusion == "rrf"
        else models.FusionQuery(fusion=models.Fusion.DBSF)
    )
    with index._use() as client:
        answer = client.query_points(
            index.collection,
            prefetch=prefetch,
            query=query,
            limit=limit,
            with_payload=False,
            with_vectors=False,
        )
    return index._hits(answer.points)
