"""What can go wrong with a vector index. Nearly every error names one fix, `twin
reindex`, which rebuilds the index from the SQL store."""

from __future__ import annotations

REINDEX = "twin reindex"


class VectorIndexError(RuntimeError):
    """The vector index cannot do what was asked; the message says what to do."""


class IndexMissingError(VectorIndexError):
    """The index is not where it should be: never built, or deleted."""


class IndexMismatchError(VectorIndexError):
    """The index was built by another embedding model or sparse encoder, or an older
    layout; mixing its vectors with new ones would give nonsense."""


class IndexBusyError(VectorIndexError):
    """Another process has the embedded index open."""


class IndexUnreachableError(VectorIndexError):
    """The Qdrant server does not answer: a setting or a server to fix, not the index."""


def _missing(location: str, detail: str) -> IndexMissingError:
    return IndexMissingError(
        f"the vector index at {location} {detail}. Run `{REINDEX}` to rebuild it from the "
        "message store."
    )
