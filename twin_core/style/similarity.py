"""How alike two short messages are, in [0, 1]: shared words and shared letter runs,
so "dinner fri?" still resembles "are we on for dinner on friday"."""

from __future__ import annotations

import math

from twin_core.memory.text import normalize, tokenize


def _trigrams(text: str) -> set[str]:
    padded = f"  {' '.join(normalize(text).split())}  "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def _cosine(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / math.sqrt(len(a) * len(b))


def similarity(a: str, b: str) -> float:
    words = _cosine(set(tokenize(a)), set(tokenize(b)))
    letters = _cosine(_trigrams(a), _trigrams(b))
    return round(0.5 * words + 0.5 * letters, 4)
