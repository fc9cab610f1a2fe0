"""BM25 over messages, in memory: the lexical half of recall."""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from twin_core.memory.text import tokenize


@dataclass(frozen=True, slots=True)
class LexicalHit:
    doc_id: int
    score: float
    matched: tuple[str, ...]


class Bm25Index:
    """Okapi BM25 with the usual k1/b; adding a document twice is a no-op."""

    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1 = k1
        self.b = b
        self._postings: dict[str, dict[int, int]] = {}
        self._lengths: dict[int, int] = {}
        self._total_length = 0

    def __len__(self) -> int:
        return len(self._lengths)

    def __contains__(self, doc_id: int) -> bool:
        return doc_id in self._lengths

    def add(self, doc_id: int, text: str) -> None:
        if doc_id in self._lengths:
            return
        counts = Counter(tokenize(text))
        self._lengths[doc_id] = sum(counts.values())
        self._total_length += self._lengths[doc_id]
        for term, tf in counts.items():
            self._postings.setdefault(term, {})[doc_id] = tf

    def search(
        self, query: str, limit: int = 10, allow: Callable[[int], bool] | None = None
    ) -> list[LexicalHit]:
        n = len(self._lengths)
        if n == 0:
            return []
        average = self._total_length / n or 1.0
        scores: dict[int, float] = {}
        matched: dict[int, list[str]] = {}
        for term in dict.fromkeys(tokenize(query)):
            postings = self._postings.get(term)
            if not postings:
                continue
            idf = math.log(1.0 + (n - len(postings) + 0.5) / (len(postings) + 0.5))
            for doc_id, tf in postings.items():
                if allow is not None and not allow(doc_id):
                    continue
                norm = tf + self.k1 * (1 - self.b + self.b * self._lengths[doc_id] / average)
                scores[doc_id] = scores.get(doc_id, 0.0) + idf * tf * (self.k1 + 1) / norm
                matched.setdefault(doc_id, []).append(term)
        best = heapq.nlargest(limit, scores.items(), key=lambda item: (item[1], -item[0]))
        return [LexicalHit(doc_id, score, tuple(matched[doc_id])) for doc_id, score in best]
