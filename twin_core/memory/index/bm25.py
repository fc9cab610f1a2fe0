"""BM25 in a vector index: the sparse encoders of the index's lexical half.

A sparse encoder turns a text into term-frequency weights over hashed tokens
(`token_index`), `tf * (k1 + 1) / (tf + k1 * (1 - b + b * len / avg_len))`, and a query
into one weight of 1.0 per distinct token. The inverse document frequency is not baked
into the stored vectors (it changes with every message added): both engines apply it at
query time, from the live index, because the sparse vector is declared with the IDF
modifier (`Modifier.Idf` in Qdrant Edge, `Modifier.IDF` in qdrant-client):
`idf = ln(1 + (N - n + 0.5) / (n + 0.5))`. So the dot product the engine computes is the
Okapi BM25 score.

Recall indexes a message as a bag of weighted terms (`ContextBm25Encoder` over
`text.terms`: no stopwords, lightly stemmed): its own words, who said it and when
("caroline", "may", "2023"), and the words of its neighbouring turns at a lower weight,
so "which one?" followed by "the lemon pasta" can be found by either half.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Mapping, Sequence

from twin_core.memory.index.protocol import SparseVector
from twin_core.memory.text import terms, tokenize


def token_index(token: str) -> int:
    """A token's dimension: CRC-32 of its UTF-8 bytes. Stable across processes and
    versions, unlike `hash()`; collisions in 2^32 slots are rare enough for recall."""
    return zlib.crc32(token.encode("utf-8"))


class Bm25Encoder:
    """BM25 term weights over the project's own tokenizer (`memory.text.tokenize`: the
    same words the lexical index sees, CJK and Thai as bigrams), hashed to indices.

    `avg_len` stands in for the corpus' average document length, which a vector index
    does not keep: about 12 tokens for one chat message, more when messages are indexed
    with their neighbouring turns. Subclasses change the vocabulary by overriding
    `tokens` (and `vocabulary`, which names it in the index manifest).
    """

    vocabulary = "words"

    def __init__(self, *, k1: float = 1.2, b: float = 0.75, avg_len: float = 12.0) -> None:
        if k1 < 0 or not 0.0 <= b <= 1.0 or avg_len <= 0:
            raise ValueError("BM25 needs k1 >= 0, 0 <= b <= 1 and avg_len > 0")
        self.k1 = k1
        self.b = b
        self.avg_len = avg_len

    @staticmethod
    def tokens(text: str) -> list[str]:
        return tokenize(text)

    @property
    def name(self) -> str:
        return f"bm25:{self.vocabulary}-crc32:k1={self.k1:g}:b={self.b:g}:avg_len={self.avg_len:g}"

    def encode_documents(self, texts: Sequence[str]) -> list[SparseVector]:
        return [self.encode_counts(Counter(self.tokens(text))) for text in texts]

    def encode_query(self, text: str) -> SparseVector:
        indices = sorted({token_index(token) for token in self.tokens(text)})
        return SparseVector(tuple(indices), (1.0,) * len(indices))

    def encode_counts(self, counts: Mapping[str, float]) -> SparseVector:
        """BM25 document weights for term counts, which may be fractional (a message's
        context counts its neighbours' words at a lower weight)."""
        length = sum(counts.values())
        if length <= 0:
            return SparseVector((), ())
        norm = self.k1 * (1.0 - self.b + self.b * length / self.avg_len)
        weights: dict[int, float] = {}
        for token, tf in counts.items():
            if tf <= 0:
                continue
            index = token_index(token)
            # Two tokens hashed to one slot share it, as their counts would.
            weights[index] = weights.get(index, 0.0) + tf * (self.k1 + 1.0) / (tf + norm)
        indices = sorted(weights)
        return SparseVector(tuple(indices), tuple(weights[i] for i in indices))


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
