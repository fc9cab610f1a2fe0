"""What both Qdrant indexes share: the `VectorIndex` algorithm, once, over two engines
(`edge`, `server`) that each speak to Qdrant in their own types."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import numpy as np
from numpy.typing import NDArray

from twin_core.memory.index.protocol import (
    Hit,
    HybridHits,
    IndexedMessage,
    IndexSpec,
    Scope,
    SparseVector,
)

DENSE = "dense"
SPARSE = "sparse"
UPSERT_BATCH = 1000


def _dense_list(vector: NDArray[np.float32] | Sequence[float], dimension: int) -> list[float]:
    values: list[float] = np.asarray(vector, dtype=np.float32).ravel().tolist()
    if len(values) != dimension:
        raise ValueError(f"a dense vector of {dimension} dimensions is needed, got {len(values)}")
    return values


def _check_limit(limit: int) -> None:
    if limit < 1:
        raise ValueError("limit must be at least 1")


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
    def flush(self) -> None: ...

    @abstractmethod
    def close(self) -> None: ...
