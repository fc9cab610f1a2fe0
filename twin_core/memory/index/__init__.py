"""The vector index: a dense and a sparse (BM25-style) vector per message, and the fields
a query is scoped by.

Two implementations of one `VectorIndex` protocol (`protocol`), held to one contract
test suite; both are one algorithm (`qdrant`), each over its own Qdrant engine:

* `EdgeVectorIndex` (`edge`), the embedded default: Qdrant Edge, in-process on a folder.
* `QdrantServerIndex` (`server`): qdrant-client against a Qdrant server
  (`TWIN_QDRANT_URL`), for an owner who has outgrown one folder.

`open_vector_index` and `recreate_vector_index` pick one from a location: an http(s) URL
or a folder.

A point is a message: its id is the SQL message id, its payload holds only what a query
is scoped by (contact, channel, conversation, time). Message text stays in the SQL store,
encrypted there; the index never sees it. The sparse vector is BM25, scored by the
engine (`bm25`).

Every index records the embedder and sparse encoder that made its vectors (its
`IndexSpec`, in its `manifest`). Opening it with another, or finding it deleted, raises
an error (`errors`) that names the fix: `twin reindex`, which rebuilds it from the SQL
store.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from twin_core.memory.index.bm25 import Bm25Encoder, ContextBm25Encoder, token_index
from twin_core.memory.index.edge import EdgeVectorIndex
from twin_core.memory.index.errors import (
    REINDEX,
    IndexBusyError,
    IndexMismatchError,
    IndexMissingError,
    IndexUnreachableError,
    VectorIndexError,
)
from twin_core.memory.index.manifest import FORMAT
from twin_core.memory.index.protocol import (
    Hit,
    HybridHits,
    IndexedMessage,
    IndexSpec,
    Scope,
    SparseEncoder,
    SparseVector,
    VectorIndex,
    epoch_seconds,
)
from twin_core.memory.index.server import (
    DEFAULT_COLLECTION,
    QdrantServerIndex,
    make_client,
    unreachable,
)

__all__ = [
    "DEFAULT_COLLECTION",
    "FORMAT",
    "REINDEX",
    "Bm25Encoder",
    "ContextBm25Encoder",
    "EdgeVectorIndex",
    "Hit",
    "HybridHits",
    "IndexBusyError",
    "IndexMismatchError",
    "IndexMissingError",
    "IndexSpec",
    "IndexUnreachableError",
    "IndexedMessage",
    "QdrantServerIndex",
    "Scope",
    "SparseEncoder",
    "SparseVector",
    "VectorIndex",
    "VectorIndexError",
    "epoch_seconds",
    "open_vector_index",
    "recreate_vector_index",
    "token_index",
]


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


def recreate_vector_index(location: Path | str, spec: IndexSpec) -> VectorIndex:
    """An empty index at `location` (a folder, or a Qdrant server URL), replacing any."""
    if isinstance(location, str) and location.startswith(("http://", "https://")):
        client = make_client(location)
        try:
            QdrantServerIndex.recreate(client, spec)
        except VectorIndexError:
            raise
        except Exception as exc:
            raise unreachable(location, exc) from exc
        finally:
            client.close()
        return QdrantServerIndex.connect(location, spec)
    path = Path(location)
    if path.exists() and not EdgeVectorIndex.manifest_path(path).is_file():
        # Whatever is there is not a finished index: start clean.
        shutil.rmtree(path / "shard", ignore_errors=True)
    return EdgeVectorIndex.recreate(path, spec)
