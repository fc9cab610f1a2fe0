"""The lexical half of recall: BM25 term weights for a message read in its context.

A message is indexed as a bag of weighted terms (`text.terms`: no stopwords, lightly
stemmed): its own words, who said it and when ("caroline", "may", "2023"), and the
words of its neighbouring turns at a lower weight, so "which one?" followed by "the
lemon pasta" can be found by either half. The weights go through BM25's saturation and
length normalization here; the inverse document frequency is applied by the vector
index at query time (see `twin_core.memory.vectors`), so the dot product it computes
is the BM25 score.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from twin_core.memory.text import terms
from twin_core.memory.vectors import SparseVector, token_index


class ContextBm25Encoder:
    """`SparseEncoder` over weighted term counts. `avg_len` stands in for the average
    weighted length of an indexed message with its context, which a vector index does
    not keep."""

    def __init__(self, *, k1: float = 1.2, b: float = 0.75, avg_len: float = 24.0) -> None:
        if k1 < 0 or not 0.0 <= b <= 1.0 or avg_len <= 0:
            raise ValueError("BM25 needs k1 >= 0, 0 <= b <= 1 and avg_len > 0")
        self.k1 = k1
        self.b = b
        self.avg_len = avg_len

    @property
    def name(self) -> str:
        return f"bm25:terms-crc32:k1={self.k1:g}:b={self.b:g}:avg_len={self.avg_len:g}"

    def encode_documents(self, texts: Sequence[str]) -> list[SparseVector]:
        return [self.encode_counts(Counter(terms(text))) for text in texts]

    def encode_query(self, text: str) -> SparseVector:
        indices = sorted({token_index(term) for term in terms(text)})
        return SparseVector(tuple(indices), (1.0,) * len(indices))

    def encode_counts(self, counts: Mapping[str, float]) -> SparseVector:
        """BM25 document weights for term counts that may be fractional (context)."""
        length = sum(counts.values())
        if length <= 0:
            return SparseVector((), ())
        norm = self.k1 * (1.0 - self.b + self.b * length / self.avg_len)
        weights: dict[int, float] = {}
        for term, tf in counts.items():
            if tf <= 0:
                continue
            index = token_index(term)
            weights[index] = weights.get(index, 0.0) + tf * (self.k1 + 1.0) / (tf + norm)
        indices = sorted(weights)
        return SparseVector(tuple(indices), tuple(weights[i] for i in indices))
