"""Ranking: which indexed messages best answer a query.

A query asks the index for the best candidates of each side (BM25 and the embedding),
then fuses them by score, not by rank: each side's scores are taken as a fraction of
that side's best, and a candidate one side did not return gets that side's last
returned score (the most it could have had). A strong match from either side therefore
stays strong; reciprocal rank fusion, by contrast, pulls a clear first place of one side
down to the level of the other side's noise. Small, general preferences are added on
top: messages written by a person the query names, messages that say something (not
"ok" or a question), messages sent in a period the query names ("on 3 May", "last
week": `memory.period`, which also gets its own search so that day is never crowded
out), and optionally the contact being answered and recent messages. The BM25 query also
holds words related to the query's own ("martial" -> karate, judo: `memory.related`) at
a fraction of their weight.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, tzinfo
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from twin_core.memory.embed import Embedder
from twin_core.memory.index import (
    ContextBm25Encoder,
    Hit,
    Scope,
    SparseVector,
    VectorIndex,
    epoch_seconds,
    token_index,
)
from twin_core.memory.period import Period, find_period
from twin_core.memory.recall.queries import MessageFacts, RecallQueries
from twin_core.memory.recall.results import Candidate, Mode
from twin_core.memory.recall.speakers import Speakers
from twin_core.memory.recall.tuning import Tuning
from twin_core.memory.related import RelatedWords
from twin_core.memory.text import STOPWORDS, terms, tokenize
from twin_core.types import utcnow

CONTENT_CACHE = 20_000
QUERY_CACHE = 16

Related = dict[str, tuple[float, str]]
"""A related term -> (its cosine to the query word, that query word)."""


class Ranker:
    def __init__(
        self,
        queries: RecallQueries,
        embedder: Embedder,
        encoder: ContextBm25Encoder,
        tuning: Tuning,
        speakers: Speakers,
        related: RelatedWords,
        timezone: tzinfo = UTC,
    ) -> None:
        self.queries = queries
        self.embedder = embedder
        self.encoder = encoder
        self.tuning = tuning
        self.speakers = speakers
        self.related = related
        self.timezone = timezone
        """The owner's: what "yesterday" and "on 3 May" in a query mean."""
        self._contents: OrderedDict[int, float] = OrderedDict()
        self._queries: OrderedDict[str, NDArray[np.float32]] = OrderedDict()

    def rank(
        self,
        index: VectorIndex,
        query: str,
        scope: Scope | None,
        limit: int,
        *,
        exclude_owner: bool = False,
        periods: bool = True,
        prefer_contact_id: int | None = None,
        half_life_days: float | None = None,
        mode: Mode = "hybrid",
        sparse_query: SparseVector | None = None,
        depth: int | None = None,
    ) -> list[Candidate]:
        """The best `limit` candidates for `query` within `scope`, best first, from
        each side's best `depth` (default: the tuning's, at least twice `limit`)."""
        tuning = self.tuning
        depth = depth or max(tuning.candidates, limit * 2)
        if sparse_query is None:
            sparse_query, _ = self.sparse_query(query)
        dense_query = self._embedded(query)
        found = index.query_hybrid(dense_query, sparse_query, scope=scope, limit=depth)
        sparse_hits = found.sparse if mode != "meaning" else []
        dense_hits = found.dense if mode != "words" else []
        best = (_best(sparse_hits), _best(dense_hits))
        candidates: dict[int, Candidate] = {}
        # A candidate one side did not return scores at most that side's last.
        floors = (
            _collect(candidates, sparse_hits, "sparse", best[0], depth),
            _collect(candidates, dense_hits, "dense", best[1], depth),
        )
        now = utcnow()
        period = (
            find_period(query, now, self.timezone) if periods and tuning.period_boost > 0 else None
        )
        window_floors: tuple[float, float] | None = None
        window_ids: set[int] = set()
        if period is not None:
            # The period's own best matches, which years of other messages may hide.
            window = _within(scope, period)
            if not window.matches_nothing:
                extra = index.query_hybrid(
                    dense_query, sparse_query, scope=window, limit=tuning.period_candidates
                )
                sparse_extra = extra.sparse if mode != "meaning" else []
                dense_extra = extra.dense if mode != "words" else []
                window_ids = {h.message_id for h in [*sparse_extra, *dense_extra]}
                asked = tuning.period_candidates
                window_floors = (
                    _collect(candidates, sparse_extra, "sparse", best[0], asked),
                    _collect(candidates, dense_extra, "dense", best[1], asked),
                )
        messages = self.queries.facts(list(candidates))
        named = self.speakers.named_in(query)
        asks_when = bool(_ASKS_WHEN.search(query))
        for candidate in candidates.values():
            message = messages.get(candidate.message_id)
            candidate.message = message
            if message is None:
                continue
            if mode == "hybrid":
                sparse_floor, dense_floor = (
                    window_floors
                    if window_floors is not None and candidate.message_id in window_ids
                    else floors
                )
                sparse = candidate.sparse if candidate.in_sparse else sparse_floor
                dense = candidate.dense if candidate.in_dense else dense_floor
                score = tuning.sparse_weight * sparse + tuning.dense_weight * dense
            else:
                score = candidate.sparse if mode == "words" else candidate.dense
            speaker = "owner" if message.from_owner else message.contact_id
            if speaker in named:
                score += tuning.speaker_boost
                candidate.notes.append("written by the person named")
            score += tuning.content_weight * self._content(message)
            if asks_when and _SAYS_WHEN.search(message.text):
                score += tuning.when_boost
            if period is not None and period.near(message.sent_at):
                inside = period.holds(message.sent_at)
                score += tuning.period_boost if inside else tuning.period_boost / 2
                candidate.notes.append(f"sent {'in' if inside else 'just after'} {period.text}")
            if (
                prefer_contact_id is not None
                and self.speakers.contact_of(message) == prefer_contact_id
            ):
                score += tuning.contact_boost
            if half_life_days:
                age_days = max(0.0, (now - message.sent_at).total_seconds() / 86_400)
                score += tuning.recency_weight * 0.5 ** (age_days / half_life_days)
            candidate.score = score
        ranked = [
            c
            for c in candidates.values()
            if c.message is not None
            and c.message.kind == "text"
            and not (exclude_owner and c.message.from_owner)
            # A message only the embedding found, and only faintly, is noise.
            and (c.in_sparse or c.cosine >= tuning.min_similarity)
        ]
        ranked.sort(key=lambda c: (-c.score, c.message_id))
        return ranked[:limit]

    def _embedded(self, query: str) -> NDArray[np.float32]:
        """The query's vector; the last few are kept (a draft asks twice: this
        contact's messages, then everyone's)."""
        vector = self._queries.get(query)
        if vector is None:
            vector = self._queries[query] = self.embedder.embed([query])[0]
            while len(self._queries) > QUERY_CACHE:
                self._queries.popitem(last=False)
        return vector

    def sparse_query(self, query: str) -> tuple[SparseVector, Related]:
        """The BM25 query: the query's own terms at weight 1, and the words related to
        them (`memory.related`) at their cosine times `related_weight`, names of people
        left as they are. Returns it with the related terms used."""
        base = self.encoder.encode_query(query)
        if self.tuning.related_weight <= 0:
            return base, {}
        names = set().union(*self.speakers.name_terms.values(), terms(self.speakers.owner_name))
        related = self.related.expand(query, names=names)
        if not related:
            return base, {}
        weights = dict(zip(base.indices, base.values, strict=True))
        for term, (cosine, _) in related.items():
            index = token_index(term)
            weights[index] = max(weights.get(index, 0.0), self.tuning.related_weight * cosine)
        indices = sorted(weights)
        return SparseVector(tuple(indices), tuple(weights[i] for i in indices)), related

    def _content(self, message: MessageFacts) -> float:
        amount = self._contents.get(message.id)
        if amount is None:
            amount = self._contents[message.id] = content(message.text)
            if len(self._contents) > CONTENT_CACHE:
                self._contents.popitem(last=False)
        return amount


def _best(hits: Sequence[Hit]) -> float:
    return hits[0].score if hits else 0.0


def _collect(
    candidates: dict[int, Candidate],
    hits: Sequence[Hit],
    side: Literal["sparse", "dense"],
    best: float,
    asked: int,
) -> float:
    """Adds one side's hits to `candidates`, each scored as a fraction of `best` (that
    side's best over the whole query, 0 when not positive). Returns the most a message
    this list did not return could score: its last fraction if the list is full (there
    were more), else 0."""
    last = 0.0
    for hit in hits:
        value = max(0.0, hit.score / best) if best > 0 else 0.0
        candidate = candidates.setdefault(hit.message_id, Candidate(hit.message_id))
        if side == "sparse":
            candidate.sparse, candidate.in_sparse = value, True
        else:
            candidate.dense, candidate.in_dense, candidate.cosine = value, True, hit.score
        last = value
    return last if len(hits) >= asked else 0.0


def _within(scope: Scope | None, period: Period) -> Scope:
    """`scope` narrowed to the period and the days just after it."""
    start = epoch_seconds(period.start)
    end = epoch_seconds(period.end + period.after)
    base = scope or Scope()
    return replace(
        base,
        sent_from=max(start, base.sent_from) if base.sent_from is not None else start,
        sent_before=min(end, base.sent_before) if base.sent_before is not None else end,
    )


_QUESTION = re.compile(r"\?\s*$")
_ASKS_WHEN = re.compile(r"^\W*(when|what (time|date|day|month|year)|how long ago)\b", re.I)
_SAYS_WHEN = re.compile(
    r"\b(yesterday|today|tonight|tomorrow|ago|weekend|week|month|year|recently|since|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"january|february|march|april|may|june|july|august|september|october|november|"
    r"december|\d{1,2}(:\d\d)?\s?(am|pm)|\d{4})\b",
    re.I,
)


def content(text: str) -> float:
    """How much a message says, 0..1: content words up to twelve, halved for a question."""
    words = sum(1 for token in tokenize(text) if token not in STOPWORDS)
    amount = min(1.0, words / 12)
    return amount / 2 if _QUESTION.search(text) else amount
