"""Sparse encoders the twin does not index with, kept for comparing against the one it does.

Recall indexes messages with `ContextBm25Encoder` (the words of a message and of its
neighbours, no stopwords, lightly stemmed). Qdrant Edge's own BM25 was measured next to
plain hashed words on LoCoMo (docs/BENCHMARKS.md, "Sparse encoders on LoCoMo"); it lives
here so that comparison can be run again: `make_sparse_encoder(spec)` builds either, and
benchmarks/vector_index.py takes the same spec as `--sparse`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from twin_core.memory.index import Bm25Encoder, SparseEncoder, SparseVector

if TYPE_CHECKING:
    import qdrant_edge


class EdgeBm25Encoder:
    """Qdrant Edge's built-in BM25 (the same as Qdrant server's `Bm25` inference): the
    language's stopwords and Snowball stemmer ("running" matches "run"), in Rust. The
    multilingual tokenizer also splits Chinese and Japanese into words.

    On LoCoMo (turn level, categories 1-4) it finds the evidence in the top 10 for 0.61
    of questions against 0.50 for `Bm25Encoder`: stopwords and stems matter for
    questions ("What did she..."). `make_sparse_encoder()` builds it by default.
    """

    def __init__(
        self,
        language: str = "english",
        *,
        multilingual: bool = True,
        k1: float = 1.2,
        b: float = 0.75,
        avg_len: float = 12.0,
    ) -> None:
        from qdrant_edge import Bm25, Bm25Config, TokenizerType

        self.language = language
        self.multilingual = multilingual
        self.k1 = k1
        self.b = b
        self.avg_len = avg_len
        tokenizer = TokenizerType.Multilingual if multilingual else TokenizerType.Word
        config = Bm25Config(k=k1, b=b, avg_len=avg_len, language=language, tokenizer=tokenizer)
        self._model = Bm25(config)

    @property
    def name(self) -> str:
        words = "multilingual" if self.multilingual else "words"
        weights = f"k1={self.k1:g}:b={self.b:g}:avg_len={self.avg_len:g}"
        return f"bm25:edge-{self.language}-{words}:{weights}"

    def encode_documents(self, texts: Sequence[str]) -> list[SparseVector]:
        return [self._convert(self._model.embed_document(text)) for text in texts]

    def encode_query(self, text: str) -> SparseVector:
        return self._convert(self._model.embed_query(text))

    @staticmethod
    def _convert(vector: qdrant_edge.SparseVector) -> SparseVector:
        return SparseVector(tuple(vector.indices), tuple(vector.values))


DEFAULT_SPARSE = "bm25"


def make_sparse_encoder(spec: str = DEFAULT_SPARSE) -> SparseEncoder:
    """`bm25` or `bm25:LANGUAGE` (Qdrant Edge's BM25, English by default), or `bm25-words`
    (the project's tokenizer, no stemming or stopwords: for languages Snowball lacks)."""
    kind, _, language = spec.strip().partition(":")
    if kind in ("", "bm25"):
        return EdgeBm25Encoder(language.strip() or "english")
    if kind == "bm25-words":
        return Bm25Encoder()
    raise ValueError(f"unknown sparse encoder {spec!r}; use bm25, bm25:LANGUAGE or bm25-words")
