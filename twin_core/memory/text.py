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


# Function words that carry no memory of their own ("what did she say about the
# trip" is about the trip). English only: in other languages the inverse document
# frequency still keeps such words from mattering much.
STOPWORDS = frozenset(
    """a an the and or but if of at by for with about to from in on into onto is are was
    were be been being am do does did doing have has had having i you he she it we they
    me him her us them my your his its our their mine yours hers ours theirs this that
    these those what which who whom whose when where why how there here so than too very
    can could will would shall should just not no yes as also then s t d ll m re ve""".split()  # noqa: SIM905
)


def stem(word: str) -> str:
    """A light English stemmer: plurals and -ing/-ed/-ies endings ("camping", "camped"
    and "camps" become "camp"). Words with non-ASCII letters are left alone, so other
    languages are never mangled."""
    if len(word) <= 3 or not word.isascii() or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            root = word[: -len(suffix)]
            # "running" -> "run", but "falling" -> "fall", "passed" -> "pass".
            if root[-1] == root[-2] and root[-1] not in "lsz":
                root = root[:-1]
            return root
    if word.endswith("es") and len(word) > 4 and word[-3] in "sxz":
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def terms(text: str) -> list[str]:
    """The words recall matches on: tokens without stopwords, lightly stemmed."""
    return [stem(token) for token in tokenize(text) if token not in STOPWORDS]
