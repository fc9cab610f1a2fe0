"""A sentence-transformers model, for a machine with a GPU (extra `gpu`)."""

from __future__ import annotations

import importlib
from typing import Any

from twin_core.memory.embed.base import (
    EmbedderError,
    Vectors,
    _InProcessEmbedder,
    _missing_extra,
    normalize_rows,
)


class SentenceTransformerEmbedder(_InProcessEmbedder):
    """A sentence-transformers model, for a machine with a GPU (extra `gpu`; it brings
    torch)."""

    def __init__(self, model: str, *, device: str | None = None, batch_size: int = 64) -> None:
        try:
            sentence_transformers = importlib.import_module("sentence_transformers")
        except ImportError as exc:
            raise _missing_extra("sentence-transformers", "gpu", f"embedder {model!r}") from exc
        self.model = model
        self.batch_size = batch_size
        self._model: Any = sentence_transformers.SentenceTransformer(model, device=device)
        # sentence-transformers 6 renamed the method; older releases have only the old name.
        if hasattr(self._model, "get_embedding_dimension"):
            dimension = self._model.get_embedding_dimension()
        else:
            dimension = self._model.get_sentence_embedding_dimension()
        if dimension is None:
            raise EmbedderError(f"sentence-transformers model {model!r} has no fixed dimension")
        self._dimension = int(dimension)

    @property
    def name(self) -> str:
        return f"sentence-transformers:{self.model}"

    @property
    def dimension(self) -> int:
        return self._dimension

    def _compute(self, texts: list[str]) -> Vectors:
        matrix = self._model.encode(
            texts, batch_size=self.batch_size, convert_to_numpy=True, normalize_embeddings=True
        )
        return normalize_rows(matrix)
