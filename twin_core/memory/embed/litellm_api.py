"""Embeddings from any model litellm can reach: a hosted API, Ollama, a llama.cpp
server, a proxy."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from twin_core.memory.embed.base import (
    EmbedderError,
    Vectors,
    _check_texts,
    embed_distinct,
    normalize_rows,
)


def _import_litellm() -> Any:
    # Without this litellm fetches its model cost map from the network at import.
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    return litellm


class LiteLLMEmbedder:
    """Any embedding model litellm can reach: `openai/text-embedding-3-small`,
    `ollama/nomic-embed-text`, a llama.cpp server, a proxy.

    The dimension is given, or learned from the model's first answer (which costs one
    call when `dimension` is read before anything was embedded).
    """

    def __init__(
        self,
        model: str,
        *,
        dimension: int | None = None,
        batch_size: int = 128,
        concurrency: int = 4,
        api_key: str | None = None,
        api_base: str | None = None,
        timeout_s: float = 60.0,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        if not model:
            raise ValueError("a litellm model string is needed, e.g. openai/text-embedding-3-small")
        self.model = model
        self.batch_size = batch_size
        self._dimension = dimension
        # At most this many requests in flight from `aembed`, to stay under rate limits.
        self._concurrency = max(1, concurrency)
        self._kwargs: dict[str, Any] = {"timeout": timeout_s, **(options or {})}
        if api_key is not None:
            self._kwargs["api_key"] = api_key
        if api_base is not None:
            self._kwargs["api_base"] = api_base
        self._litellm = _import_litellm()

    @property
    def name(self) -> str:
        return f"litellm:{self.model}"

    @property
    def dimension(self) -> int:
        if self._dimension is None:
            self._dimension = int(self._call(["dimension probe"]).shape[1])
        return self._dimension

    def embed(self, texts: Sequence[str]) -> Vectors:
        if not _check_texts(texts):
            return np.empty((0, self.dimension), dtype=np.float32)
        return embed_distinct(texts, self.dimension, self._compute)

    async def aembed(self, texts: Sequence[str]) -> Vectors:
        texts = _check_texts(texts)
        if self._dimension is None:
            self._dimension = int((await self._acall(["dimension probe"])).shape[1])
        if not texts:
            return np.empty((0, self._dimension), dtype=np.float32)
        # Gather the distinct texts' vectors concurrently, batch by batch, then lay them
        # out with the same helper the synchronous path uses.
        distinct = list(dict.fromkeys(texts))
        batches = [
            distinct[i : i + self.batch_size] for i in range(0, len(distinct), self.batch_size)
        ]
        gate = asyncio.Semaphore(self._concurrency)

        async def one(batch: list[str]) -> Vectors:
            async with gate:
                return await self._acall(batch)

        rows = await asyncio.gather(*(one(batch) for batch in batches))
        table = dict(zip(distinct, np.vstack(rows), strict=True))
        return embed_distinct(
            texts, self._dimension, lambda missing: np.vstack([table[t] for t in missing])
        )

    def _compute(self, texts: list[str]) -> Vectors:
        rows = [
            self._call(texts[i : i + self.batch_size])
            for i in range(0, len(texts), self.batch_size)
        ]
        return np.vstack(rows)

    def _call(self, batch: list[str]) -> Vectors:
        try:
            response = self._litellm.embedding(
                model=self.model, input=_non_empty(batch), **self._kwargs
            )
        except Exception as exc:
            raise EmbedderError(f"{self.name} failed: {exc}") from exc
        return self._rows(response, len(batch))

    async def _acall(self, batch: list[str]) -> Vectors:
        try:
            response = await self._litellm.aembedding(
                model=self.model, input=_non_empty(batch), **self._kwargs
            )
        except Exception as exc:
            raise EmbedderError(f"{self.name} failed: {exc}") from exc
        return self._rows(response, len(batch))

    def _rows(self, response: Any, expected: int) -> Vectors:
        data = sorted(response.data, key=lambda item: _field(item, "index"))
        if len(data) != expected:
            raise EmbedderError(f"{self.name} returned {len(data)} vectors for {expected} texts")
        matrix = np.asarray([_field(item, "embedding") for item in data], dtype=np.float32)
        if matrix.ndim != 2 or (self._dimension is not None and matrix.shape[1] != self._dimension):
            raise EmbedderError(
                f"{self.name} returned vectors of shape {matrix.shape}; "
                f"expected dimension {self._dimension}"
            )
        return normalize_rows(matrix)


def _non_empty(batch: list[str]) -> list[str]:
    """Hosted APIs refuse an empty input string; a blank embeds as what it is."""
    return [text if text else " " for text in batch]


def _field(item: Any, key: str) -> Any:
    """litellm hands back embedding items as dicts or as objects, depending on provider."""
    return item[key] if isinstance(item, Mapping) else getattr(item, key)
