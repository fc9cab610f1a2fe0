"""Text normalization shared by every index: one tokenizer, used everywhere."""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"\w+", re.UNICODE)
# Scripts written without spaces between words: index them as character bigrams.
_NO_SPACES = re.compile(
    r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\u0e00-\u0e7f\uf900-\ufaff]"
)


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens; runs of CJK or Thai become overlapping bigrams."""
    tokens: list[str] = []
    for word in _WORD.findall(normalize(text)):
        if _NO_SPACES.search(word) and len(word) > 1:
            tokens.extend(word[i : i + 2] for i in range(len(word) - 1))
        else:
            tokens.append(word)
    return tokens


def shorten(text: str, limit: int = 120) -> str:
    """One line, at most `limit` characters, for showing a message in a list."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
