"""Related words: the lexical half of recall also looks for words near the query's own.

"What martial arts has John done?" should find "I'm doing kickboxing" and "off to do
some taekwondo", which share no word with it. The table behind this lists, for about
21,000 English words, the few words the shipped embedding model (all-MiniLM-L6-v2)
places nearest to each, with their cosine: "martial" -> karate, kung, judo; "bought" ->
purchased, buy; "beach" -> ocean, coast. It is built offline by
`scripts/build_related_words.py` and shipped with the package, so a query pays one
dictionary look-up per word, not a model call.

A related word joins the BM25 query at a fraction of a query word's weight (its cosine
times `Tuning.related_weight`), so it can lift a message that has no query word at all,
and never outweighs one that has them. Names of people are not widened ("John" must not
find "James"); the caller says which words are names.
"""

from __future__ import annotations

import gzip
import logging
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

from twin_core.memory.text import STOPWORDS, stem, tokenize

log = logging.getLogger(__name__)

DEFAULT_TABLE = (
    Path(__file__).resolve().parent / "weights" / "related-words" / "related-words.tsv.gz"
)

Related = tuple[tuple[str, float], ...]


class RelatedWords:
    """Each word's nearest words with their cosine, best first."""

    def __init__(self, table: Mapping[str, Related]) -> None:
        self._table = dict(table)

    def __len__(self) -> int:
        return len(self._table)

    def of(self, word: str) -> Related:
        """The words related to `word` (lower case, as written), best first."""
        return self._table.get(word, ())

    @classmethod
    def read(cls, path: Path) -> RelatedWords:
        """A table as `scripts/build_related_words.py` writes it (gzip, tab-separated)."""
        table: dict[str, Related] = {}
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                word, *fields = line.rstrip("\n").split("\t")
                try:
                    table[word] = tuple(
                        (neighbour, float(score))
                        for neighbour, _, score in (f.rpartition(":") for f in fields)
                    )
                except ValueError as exc:
                    raise ValueError(f"{path}:{number}: not `word<TAB>word:cosine`") from exc
        return cls(table)

    @staticmethod
    @cache
    def shipped() -> RelatedWords:
        """The table shipped with the package (read once per process). A missing file
        (a broken install) leaves recall working without it, with a warning."""
        try:
            return RelatedWords.read(DEFAULT_TABLE)
        except OSError as exc:
            log.warning("related words unavailable (%s): recall matches exact words only", exc)
            return RelatedWords({})

    def expand(self, query: str, *, names: Iterable[str] = ()) -> dict[str, tuple[float, str]]:
        """The related terms (stemmed, as `text.terms` gives them) of the words of
        `query`, each with its cosine and the query word it came from; the query's own
        terms and any word in `names` (stemmed or not) are left out."""
        tokens = [t for t in tokenize(query) if t not in STOPWORDS]
        own = {stem(t) for t in tokens}
        skip = set(names)
        found: dict[str, tuple[float, str]] = {}
        for token in tokens:
            if token in skip or stem(token) in skip:
                continue
            for neighbour, cosine in self.of(token):
                term = stem(neighbour)
                if term in own or term in skip:
                    continue
                if cosine > found.get(term, (0.0, ""))[0]:
                    found[term] = (cosine, token)
        return found
