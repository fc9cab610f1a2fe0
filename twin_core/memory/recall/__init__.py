"""Recall: find the moments in the history that matter for a query.

`/recall` in the control chat, `twin recall` and the composer all come through
`Recall.recall()` (or `similar_contact_messages()` for the composer's examples). The
parts, one concept each:

* `indexer`: SQL is the truth; the vector index follows it (`catch_up`), each message
  indexed in the context of its neighbouring turns;
* `ranking`: hybrid retrieval (BM25 + embedding) fused by score, with small, general
  preferences on top;
* `explain`: why each hit was found, in words, with the turns around it;
* `queries`: the SQL shaped for recall; `speakers`: names, cached; `tuning`: the knobs.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, tzinfo
from pathlib import Path

from twin_core.memory.embed import Embedder
from twin_core.memory.index import (
    REINDEX,
    ContextBm25Encoder,
    IndexMismatchError,
    IndexSpec,
    IndexUnreachableError,
    Scope,
    VectorIndex,
    VectorIndexError,
    open_vector_index,
    recreate_vector_index,
)
from twin_core.memory.recall.explain import hits
from twin_core.memory.recall.indexer import (
    REBUILD_KEY,
    STATE_KEY,
    Indexer,
    IndexState,
    index_spec,
)
from twin_core.memory.recall.queries import MessageFacts, RecallQueries
from twin_core.memory.recall.ranking import Ranker
from twin_core.memory.recall.results import (
    LexicalHit,
    Mode,
    Progress,
    RecallError,
    RecallHit,
)
from twin_core.memory.recall.speakers import Speakers
from twin_core.memory.recall.tuning import Tuning
from twin_core.memory.related import RelatedWords
from twin_core.memory.store import Store
from twin_core.memory.text import tokenize
from twin_core.types import ContactId

__all__ = [
    "STATE_KEY",
    "LexicalHit",
    "MessageFacts",
    "Mode",
    "Progress",
    "Recall",
    "RecallError",
    "RecallHit",
    "Tuning",
]

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 2_000


class Recall:
    """Hybrid recall over one store and one vector index.

    Built with `Recall.open()`, which also reports a missing or foreign index: then
    `problem` says what is wrong and how to fix it, `recall()` raises it as a
    `RecallError`, and recording goes on (SQL first: nothing is lost; `twin reindex`
    indexes it all later).
    """

    def __init__(
        self,
        store: Store,
        index: VectorIndex | None,
        embedder: Embedder,
        *,
        owner_name: str = "you",
        tuning: Tuning | None = None,
        encoder: ContextBm25Encoder | None = None,
        location: Path | str | None = None,
        problem: str | None = None,
        related: RelatedWords | None = None,
        timezone: tzinfo = UTC,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self._tuning = tuning or Tuning()
        self.encoder = encoder or ContextBm25Encoder()
        self.location = location
        self.queries = RecallQueries(store)
        self.speakers = Speakers(self.queries, owner_name)
        self.ranker = Ranker(
            self.queries,
            embedder,
            self.encoder,
            self.tuning,
            self.speakers,
            related if related is not None else RelatedWords.shipped(),
            timezone,
        )
        self.rebuild_tuning: Tuning | None = None
        """The tuning a rebuild uses, when the open index was built another way."""
        self.problem = problem if index is None else None
        if index is None and self.problem is None:
            self.problem = f"there is no vector index. Run `{REINDEX}` to build it."
        self.indexer = (
            Indexer(store, index, embedder, self.encoder, self.tuning, self.speakers)
            if index is not None
            else None
        )

    @property
    def tuning(self) -> Tuning:
        return self._tuning

    @tuning.setter
    def tuning(self, tuning: Tuning) -> None:
        """Query-time knobs may change on a live recall (the benchmarks sweep them)."""
        self._tuning = self.ranker.tuning = tuning
        if self.indexer is not None:
            self.indexer.tuning = tuning

    @property
    def index(self) -> VectorIndex | None:
        return self.indexer.index if self.indexer is not None else None

    @property
    def timezone(self) -> tzinfo:
        return self.ranker.timezone

    @property
    def spec(self) -> IndexSpec:
        return index_spec(self.embedder, self.encoder, self.tuning)

    @classmethod
    def open(
        cls,
        store: Store,
        location: Path | str,
        embedder: Embedder,
        *,
        owner_name: str = "you",
        tuning: Tuning | None = None,
        timezone: tzinfo = UTC,
    ) -> Recall:
        """Open the index at `location` (a folder or a Qdrant URL). A first start builds
        an empty one; an index that was built before and is gone, or was built by
        another embedder, is reported (see `problem`), not silently replaced."""
        tuning = tuning or Tuning()
        encoder = ContextBm25Encoder()
        spec = index_spec(embedder, encoder, tuning)
        ever_built = IndexState.load(store) is not None
        index: VectorIndex | None = None
        problem = None
        opened = tuning
        try:
            index = open_vector_index(location, spec, create=not ever_built)
        except IndexUnreachableError:
            raise  # a setting to fix before anything can run
        except IndexMismatchError as exc:
            index, opened = _built_before(location, embedder, encoder, tuning)
            problem = None if index is not None else str(exc)
        except VectorIndexError as exc:
            problem = str(exc)
        recall = cls(
            store,
            index,
            embedder,
            owner_name=owner_name,
            tuning=opened,
            encoder=encoder,
            location=location,
            problem=problem,
            timezone=timezone,
        )
        if opened != tuning:
            recall.rebuild_tuning = tuning
        return recall

    def close(self) -> None:
        if self.index is not None:
            self.index.close()

    # -- indexing -------------------------------------------------------------------

    @property
    def indexed_to(self) -> int:
        return self.indexer.indexed_to if self.indexer else 0

    def pending(self) -> int:
        """Messages stored but not yet indexed."""
        return self.indexer.pending() if self.indexer else 0

    def catch_up(
        self, progress: Progress | None = None, *, batch: int = 2_000, wait: bool = True
    ) -> int:
        """Index what SQL has and the index has not (see `Indexer.catch_up`)."""
        if self.indexer is None:
            return 0
        return self.indexer.catch_up(progress, batch=batch, wait=wait)

    def rebuild(self, progress: Progress | None = None, *, batch: int = 5_000) -> int:
        """Throw the index away and index every stored message again (after a model
        change, or when the index was lost). Returns how many messages were indexed.

        A rebuild that was interrupted (Ctrl-C, a crash) is resumed, not started over:
        every finished batch is durable and recorded (`Indexer.catch_up`), so only the
        messages after the last one are read, embedded and written."""
        if self.location is None:
            raise RecallError("this recall has no index location to rebuild")
        self.close()
        if self.rebuild_tuning is not None:  # an index built the earlier way: built anew now
            self.tuning, self.rebuild_tuning = self.rebuild_tuning, None
        unfinished = self._unfinished_rebuild()
        if unfinished is not None:
            log.info("resuming the interrupted rebuild of %s", self.location)
            self.indexer = self._indexer_for(unfinished)  # resumes from its recorded state
        else:
            index = recreate_vector_index(self.location, self.spec)
            if self.indexer is None:
                self.indexer = self._indexer_for(index)
            self.indexer.restart(index)
        self.problem = None
        return self.indexer.catch_up(progress, batch=batch)

    def _unfinished_rebuild(self) -> VectorIndex | None:
        """The index at `location` when it is a rebuild begun and not finished, for this
        embedder and tuning; None when there is none to resume."""
        assert self.location is not None
        under_way = self.store.state.get(REBUILD_KEY)
        if not under_way:
            return None
        try:
            index = open_vector_index(self.location, self.spec)
        except VectorIndexError:
            return None  # gone, or built for another model: start over
        if index.index_id != under_way:
            index.close()
            return None
        return index

    def _indexer_for(self, index: VectorIndex) -> Indexer:
        return Indexer(self.store, index, self.embedder, self.encoder, self.tuning, self.speakers)

    def optimize(self) -> None:
        """Build the index's search structures after a bulk load (see `VectorIndex`)."""
        if self.index is not None:
            self.index.optimize()

    def refile_contact(self, contact_id: ContactId) -> int:
        """Index a contact's conversations again, after a merge changed who they are."""
        return self.indexer.refile_contact(contact_id) if self.indexer else 0

    # -- querying -------------------------------------------------------------------

    def similar_contact_messages(
        self, text: str, limit: int = 40, *, contact_id: int | None = None
    ) -> list[LexicalHit]:
        """Messages from contacts (never the owner's) most like `text`, by words and
        meaning, optionally only those filed under one contact."""
        query = " ".join(text.split())[:MAX_QUERY_CHARS]
        index = self.index
        if not query or index is None:
            return []
        scope = Scope.contact(contact_id) if contact_id is not None else None
        try:
            # A date in the message is not what makes another message like it.
            ranked = self.ranker.rank(
                index, query, scope, limit, exclude_owner=True, periods=False, depth=limit * 2
            )
        except VectorIndexError as exc:
            log.warning("recall for examples failed: %s", exc)
            return []
        return [
            LexicalHit(c.message_id, c.score, c.message.text, c.message.contact_id)
            for c in ranked
            if c.message is not None
        ]

    def recall(
        self,
        query: str,
        *,
        contact_id: int | None = None,
        limit: int = 5,
        context: int = 1,
        prefer_contact_id: int | None = None,
        half_life_days: float | None = None,
        mode: Mode = "hybrid",
    ) -> list[RecallHit]:
        """The best `limit` moments for `query`, optionally only those with one contact.

        `prefer_contact_id` favours (without limiting to) one contact's conversations;
        `half_life_days` favours recent messages. `mode` picks one side alone."""
        query = " ".join(query.split())
        if not query:
            raise RecallError("empty query: say what to look for, e.g. /recall dinner friday")
        query = query[:MAX_QUERY_CHARS]
        if not tokenize(query):
            raise RecallError("the query has no words to look for")
        if limit < 1:
            raise RecallError("ask for at least one result")
        if contact_id is not None and self.store.contacts.get(ContactId(contact_id)) is None:
            raise RecallError(f"no contact with id {contact_id}")
        index = self.index
        if index is None:
            raise RecallError(f"recall is unavailable: {self.problem}")
        scope = Scope.contact(contact_id) if contact_id is not None else None
        sparse_query, related = self.ranker.sparse_query(query)
        try:
            ranked = self.ranker.rank(
                index,
                query,
                scope,
                limit,
                prefer_contact_id=prefer_contact_id,
                half_life_days=half_life_days,
                mode=mode,
                sparse_query=sparse_query,
            )
        except VectorIndexError as exc:
            raise RecallError(f"recall is unavailable: {exc}") from exc
        if not ranked and self.pending():
            raise RecallError(
                f"nothing found, and {self.pending():,} messages are not indexed yet; "
                "they are being indexed now (or run `twin reindex`)"
            )
        return hits(self.queries, self.speakers, query, ranked, context, related)


def _built_before(
    location: Path | str, embedder: Embedder, encoder: ContextBm25Encoder, tuning: Tuning
) -> tuple[VectorIndex | None, Tuning]:
    """An index built before the speaker's name was added to a message's vector (it
    embedded "speaker: text"), opened as it was built: recall keeps working, and
    `twin reindex` moves it to the current way when the owner chooses."""
    if tuning.speaker_weight is None:
        return None, tuning
    before = dataclasses.replace(tuning, speaker_weight=None)
    try:
        index = open_vector_index(location, index_spec(embedder, encoder, before))
    except VectorIndexError:
        return None, tuning
    log.info(
        "the vector index at %s embeds speakers the earlier way; `twin reindex` updates it",
        location,
    )
    return index, before
