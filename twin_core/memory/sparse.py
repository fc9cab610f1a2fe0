"""The lexical half of recall: BM25 term weights for a message read in its context.

A message is indexed as a bag of weighted terms (`text.terms`: no stopwords, lightly
stemmed): its own words, who said it and when ("caroline", "may", "2023"), and the
words of its neighbouring turns at a lower weight, so "which one?" followed by "the
lemon pasta" can be found by either half. The weights go through BM25's saturation and
length normalization here; the inverse document frequency is applied by the vector
index at query time (see `twin_core.memory.index`), so the dot product it computes
is the BM25 score.
"""

from __future__ import annotations

from twin_core.memory.index import Bm25Encoder
from twin_core.memory.text import terms


class ContextBm25Encoder(Bm25Encoder):
    """`Bm25Encoder` over `text.terms` (no stopwords, lightly stemmed), fed weighted term
    counts with `encode_counts`. `avg_len` stands in for the average weighted length of
    an indexed message with its context, which a vector index does not keep."""

    vocabulary = "terms"

    def __init__(self, *, k1: float = 1.2, b: float = 0.75, avg_len: float = 24.0) -> None:
        super().__init__(k1=k1, b=b, avg_len=avg_len)

    @staticmethod
    def tokens(text: str) -> list[str]:
        return terms(text)
