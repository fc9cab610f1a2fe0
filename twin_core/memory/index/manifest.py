"""The manifest every index keeps: its layout version, the `IndexSpec` that made its
vectors, and an id unique to its build. Qdrant Edge keeps it in `manifest.json` beside
the shard, a Qdrant server in the collection's metadata; both check it alike on open."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from twin_core.memory.index.errors import REINDEX, IndexMismatchError
from twin_core.memory.index.protocol import IndexSpec

FORMAT = 1
"""Version of the index layout (vector names, payload fields); bump it to force a rebuild."""


def _mismatch(location: str, found: IndexSpec, wanted: IndexSpec) -> IndexMismatchError:
    return IndexMismatchError(
        f"the vector index at {location} was built with {found.describe()}, but the twin "
        f"is configured for {wanted.describe()}. Run `{REINDEX}` to rebuild it from the "
        "message store (or set the embedder back)."
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
