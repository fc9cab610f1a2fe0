"""What every embedder shares: the `Embedder` protocol and its error, rows of unit
length, each distinct text computed once (short ones remembered across calls), and the
base class of the embedders that run in this process."""

from __future__ import annotations

import asyncio
import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

Vectors = NDArray[np.float32]
"""Shape (n, dimension), float32, each row L2-normalized."""

MODELS = Path(__file__).resolve().parent.parent / "weights"
"""The models shipped in the package, `twin_core/memory/weights`."""


class EmbedderError(RuntimeError):
    """An embedder that cannot be built or cannot answer; the message says what to do."""


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit vectors.

    `name` identifies the model and everything that changes its vectors: a vector index
    records it, and refuses to mix vectors of two embedders. `embed` is synchronous and
    CPU- or network-bound: async code calls `aembed`, which never blocks the event loop.
    """

    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> Vectors: ...

    async def aembed(self, texts: Sequence[str]) -> Vectors: ...


def normalize_rows(matrix: NDArray[Any]) -> Vectors:
    """float32 rows of unit length; an all-zero row stays zero instead of becoming NaN."""
    out = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    result: Vectors = np.divide(out, norms, out=np.zeros_like(out), where=norms > 0)
    return result


def _check_texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("embed() takes a sequence of texts, not one string")
    return list(texts)


class _ShortTextCache:
    """Vectors of recently seen short texts ("ok", "haha", "lol"), which make up a large
    share of any chat and would otherwise be embedded again in every batch."""

    def __init__(self, capacity: int, max_chars: int = 32) -> None:
        self.capacity = capacity
        self.max_chars = max_chars
        self._items: OrderedDict[str, Vectors] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str) -> Vectors | None:
        with self._lock:
            row = self._items.get(text)
            if row is not None:
                self._items.move_to_end(text)
            return row

    def put(self, text: str, row: Vectors) -> None:
        if self.capacity <= 0 or len(text) > self.max_chars:
            return
        with self._lock:
            self._items[text] = row
            self._items.move_to_end(text)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)


def embed_distinct(
    texts: Sequence[str],
    dimension: int,
    compute: Callable[[list[str]], Vectors],
    cache: _ShortTextCache | None = None,
) -> Vectors:
    """Embed each distinct text once (and short texts seen lately not at all), then lay
    the rows out in input order."""
    texts = _check_texts(texts)
    out = np.empty((len(texts), dimension), dtype=np.float32)
    if not texts:
        return out
    positions: dict[str, list[int]] = {}
    for i, text in enumerate(texts):
        positions.setdefault(text, []).append(i)
    missing: list[str] = []
    for text, where in positions.items():
        row = cache.get(text) if cache is not None else None
        if row is None:
            missing.append(text)
        else:
            out[where] = row
    if missing:
        computed = compute(missing)
        if computed.shape != (len(missing), dimension):
            raise EmbedderError(
                f"the model returned shape {computed.shape} for {len(missing)} texts; "
                f"expected ({len(missing)}, {dimension})"
            )
        for text, row in zip(missing, computed, strict=True):
            out[positions[text]] = row
            if cache is not None:
                cache.put(text, row.copy())
    return out


class _InProcessEmbedder(ABC):
    """What the embedders that run in this process share: each distinct text computed
    once (short ones cached when `_cache` is set), and `aembed` off the event loop."""

    _cache: _ShortTextCache | None = None

    @property
    @abstractmethod
    def dimension(self) -> int: ...

    @abstractmethod
    def _compute(self, texts: list[str]) -> Vectors: ...

    def embed(self, texts: Sequence[str]) -> Vectors:
        return embed_distinct(texts, self.dimension, self._compute, self._cache)

    async def aembed(self, texts: Sequence[str]) -> Vectors:
        return await asyncio.to_thread(self.embed, texts)


def _missing_extra(package: str, extra: str, what: str) -> EmbedderError:
    return EmbedderError(
        f"{what} needs the optional package {package!r}, which is not installed: "
        f"pip install 'twin[{extra}]'"
    )
