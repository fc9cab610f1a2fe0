"""The offline responder's confidence, calibrated on this owner's own history.

The global table in `offline.CALIBRATION` was measured on LoCoMo, long-form chat where
almost nothing repeats; an owner whose friends write "thanks!" and get "anytime 🙂"
every time deserves more confidence there, and less on open questions. So the twin
drafts for the owner's own past, the way the benchmark does (`held_out`):

* the owner's reply pairs in time order (their one-to-one conversations, the reply
  rule of `style.pairing`); the first `LEARN_SHARE` is only learned from, and every
  later pair is drafted for by the offline responder from the pairs before it, with
  the candidates the composer would get (that contact's own pairs most like the new
  message, and phatic pairs of others);
* a draft is "close" when its cosine to what the owner really sent is at least
  `offline.CLOSE`.

`fit` turns those (score, close) samples into a monotone table: score bins of
`BIN_SIZE` drafts (each flat over its scores, linear between bins), each bin's share
close shrunk toward the global table (at the bin's median score) by
`PRIOR_WEIGHT` pseudo-drafts (thin data says little), then pooled where a higher score
would get a lower share (pool-adjacent-violators). Last, a guard: at every confidence
level in `LEVELS` (the auto threshold among them), the drafts the table puts at or
above that level must have been close at least that often; where not, the table is
capped just below the level, so it never gives a confidence it has not earned. Fewer
than `MIN_SAMPLES` held-out drafts: the global table serves unchanged.

The fitted table is kept in the state table (`STATE_KEY`) with the highest message id
it saw; it is fitted again when the history has grown by `REFIT_GROWTH` (after an
import, or over weeks of chat): the bot looks every `CHECK_EVERY_S` and queues the
`refit_calibration` job (`workers.jobs`), and `twin reindex` refits after a rebuild.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

import numpy as np
from numpy.typing import NDArray

from twin_core.aio import Stopped
from twin_core.memory.embed import Embedder
from twin_core.memory.phatic import is_phatic
from twin_core.memory.store import Store
from twin_core.style import offline
from twin_core.style.examples import OWN_CANDIDATES, SHARED_CANDIDATES
from twin_core.style.queries import StyleQueries
from twin_core.types import ContactId

STATE_KEY = "style:calibration"
LEARN_SHARE = 0.5
"""The earliest share of the owner's pairs, only learned from (never drafted for)."""
MAX_HELD_OUT = 1500
"""At most this many of the latest pairs are drafted for (a refit stays seconds)."""
MIN_SAMPLES = 30
"""Held-out drafts needed before the owner's own table replaces the global one."""
BIN_SIZE = 25
PRIOR_WEIGHT = 12.0
"""Pseudo-drafts of the global table in every bin: a bin of 25 drafts all close reads
0.82 (with the global 0.46 there), one of 5 all close only 0.64."""
LEVELS = (0.5, 0.6, 0.7, 0.8, 0.9)
"""Confidence levels the guard checks; 0.8 is the default auto threshold."""
HISTORY_READ = 400
"""How many of each one-to-one conversation's latest messages are read for pairs."""
REFIT_GROWTH = 0.2
"""Refit when the message store has grown by this share since the last fit..."""
REFIT_MIN_NEW = 200
"""...and by at least this many messages."""
CHECK_EVERY_S = 600.0
"""How often the bot looks whether a refit is due (one indexed max() query)."""

Embed = Callable[[list[str]], NDArray[np.float32]]
"""L2-normalized vectors of texts, one row each (the shipped embedder, or a cache)."""
Progress = Callable[[str, int, int], None]
"""`progress(phase, done, total)`: texts embedded so far (phase "embedding"), then
held-out drafts made (phase "drafting"), of how many."""
EMBED_BATCH = 256
"""Texts embedded at once, between two progress reports (and two looks whether to stop):
embedding is nearly all of a refit's time (docs/BENCHMARKS.md)."""
PROGRESS_EVERY = 50
"""Drafts between two progress reports (and two looks whether to stop)."""


@dataclass(frozen=True, slots=True)
class Pair:
    """One of the owner's reply pairs: `contact_id` wrote `their_text`, the owner
    answered `reply`."""

    contact_id: int
    their_text: str
    reply: str
    sent_at: datetime


@dataclass(frozen=True, slots=True)
class Sample:
    """One held-out draft: the responder's best score and whether it was close."""

    score: float
    close: bool


@dataclass(frozen=True, slots=True)
class OwnerCalibration:
    """Score -> confidence for one owner (`table`, as `offline.calibrated` reads it)."""

    table: tuple[tuple[float, float], ...] = offline.CALIBRATION
    samples: int = 0
    """Held-out drafts the table was fitted on (0: the global table)."""
    close: int = 0
    messages: int = 0
    """The highest message id when it was fitted."""
    capped_below: float | None = None
    """The level the guard kept the table below, when one was not earned."""

    @property
    def own(self) -> bool:
        return self.samples >= MIN_SAMPLES

    def confidence(self, score: float) -> float:
        return offline.calibrated(score, self.table)

    def describe(self) -> str:
        if not self.own:
            return (
                f"the global table (only {self.samples} of your past replies could be "
                f"drafted for; {MIN_SAMPLES} needed)"
            )
        return f"fitted on {self.samples} drafts for your own past replies ({self.close} close)" + (
            f"; kept below {self.capped_below:.1f}" if self.capped_below else ""
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> OwnerCalibration:
        data = json.loads(text)
        data["table"] = tuple((float(x), float(y)) for x, y in data["table"])
        return cls(**data)


GLOBAL = OwnerCalibration()


# -- drafting for the owner's own past ----------------------------------------------------


def held_out(
    embed: Embed,
    pairs: Sequence[Pair],
    progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> list[Sample]:
    """Draft, with the offline responder, for every pair after the first `LEARN_SHARE`
    (the latest `MAX_HELD_OUT`), each from the pairs before it in time. Raises `Stopped`
    when `stop` is set (looked at every `EMBED_BATCH` texts and `PROGRESS_EVERY` drafts)."""
    ordered = sorted(pairs, key=lambda p: p.sent_at)
    start = max(int(len(ordered) * LEARN_SHARE), 1, len(ordered) - MAX_HELD_OUT)
    if len(ordered) <= start:
        return []
    total = len(ordered) - start
    texts = sorted({t for p in ordered for t in (p.their_text, p.reply)})
    rows = _embedded(embed, texts, progress, stop)
    vector = dict(zip(texts, rows, strict=True))
    messages = np.stack([vector[p.their_text] for p in ordered])
    replies = np.stack([vector[p.reply] for p in ordered])
    contacts = np.array([p.contact_id for p in ordered])
    phatic = np.array([is_phatic(p.their_text) and is_phatic(p.reply) for p in ordered])
    found: list[Sample] = []
    for i in range(start, len(ordered)):
        if (i - start) % PROGRESS_EVERY == 0:
            _check(stop)
            if progress is not None:
                progress("drafting", i - start, total)
        target = ordered[i]
        situation = messages[:i] @ messages[i]
        own = np.flatnonzero(contacts[:i] == target.contact_id)
        shared = np.flatnonzero((contacts[:i] != target.contact_id) & phatic[:i])
        chosen = [
            *own[np.argsort(-situation[own], kind="stable")[:OWN_CANDIDATES]],
            *shared[np.argsort(-situation[shared], kind="stable")[:SHARED_CANDIDATES]],
        ]
        if not chosen:
            continue
        candidates = [
            offline.Candidate(
                ordered[j].their_text,
                ordered[j].reply,
                ordered[j].contact_id == target.contact_id,
                ordered[j].sent_at,
            )
            for j in chosen
        ]
        features = offline.feature_rows(
            messages[i],
            messages[chosen],
            replies[chosen],
            target.their_text,
            candidates,
            target.sent_at,
        )
        scored = offline.scores(features)
        best = int(np.argmax(scored))
        cosine = float(replies[chosen[best]] @ replies[i])
        found.append(Sample(float(scored[best]), cosine >= offline.CLOSE))
    if progress is not None:
        progress("drafting", total, total)
    return found


def _embedded(
    embed: Embed, texts: list[str], progress: Progress | None, stop: threading.Event | None
) -> NDArray[np.float32]:
    parts = []
    for i in range(0, len(texts), EMBED_BATCH):
        _check(stop)
        if progress is not None:
            progress("embedding", i, len(texts))
        parts.append(embed(texts[i : i + EMBED_BATCH]))
    if progress is not None:
        progress("embedding", len(texts), len(texts))
    return np.concatenate(parts)


def _check(stop: threading.Event | None) -> None:
    if stop is not None and stop.is_set():
        raise Stopped("style calibration: stopped before it was done; nothing was stored")


# -- fitting -------------------------------------------------------------------------------


def fit(
    samples: Sequence[Sample],
    prior: Sequence[tuple[float, float]] = offline.CALIBRATION,
    *,
    messages: int = 0,
) -> OwnerCalibration:
    """The owner's table from held-out drafts (see the module's docstring)."""
    closes = sum(s.close for s in samples)
    if len(samples) < MIN_SAMPLES:
        return OwnerCalibration(tuple(prior), len(samples), closes, messages)
    ordered = sorted(samples, key=lambda s: s.score)
    bins = [ordered[i : i + BIN_SIZE] for i in range(0, len(ordered), BIN_SIZE)]
    if len(bins) > 1 and len(bins[-1]) < BIN_SIZE // 2:
        bins[-2].extend(bins.pop())
    blocks: list[tuple[float, float, list[float]]] = []  # (value, weight, bin edges)
    for chunk in bins:
        middle = float(np.median([s.score for s in chunk]))
        weight = len(chunk) + PRIOR_WEIGHT
        value = (sum(s.close for s in chunk) + PRIOR_WEIGHT * offline.calibrated(middle, prior)) / (
            weight
        )
        blocks.append((value, weight, [chunk[0].score, chunk[-1].score]))
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            (v1, w1, x1), (v2, w2, x2) = blocks[-2], blocks[-1]
            blocks[-2:] = [((v1 * w1 + v2 * w2) / (w1 + w2), w1 + w2, x1 + x2)]
    points = [(round(x, 4), round(value, 3)) for value, _, xs in blocks for x in xs]
    table = _anchored(points)
    table, capped = _guarded(table, ordered)
    return OwnerCalibration(table, len(samples), closes, messages, capped)


def _anchored(points: list[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
    """`points` (each bin's lowest and highest score at its value) from score 0 to 1, x
    strictly increasing (where bins meet, the higher value). Below the lowest score
    seen the confidence falls linearly to 0."""
    table: list[tuple[float, float]] = [(0.0, 0.0)]
    for x, y in points:
        if x <= table[-1][0]:
            table[-1] = (table[-1][0], max(table[-1][1], y))
        else:
            table.append((x, y))
    if table[-1][0] < 1.0:
        table.append((1.0, table[-1][1]))
    return tuple(table)


def _guarded(
    table: tuple[tuple[float, float], ...], samples: Sequence[Sample]
) -> tuple[tuple[tuple[float, float], ...], float | None]:
    """The table capped below the first level in `LEVELS` that its own held-out drafts
    do not earn (those at or above it close less often than the level)."""
    for level in LEVELS:
        reached = [s for s in samples if offline.calibrated(s.score, table) >= level]
        if reached and sum(s.close for s in reached) / len(reached) < level:
            ceiling = round(level - 0.01, 2)
            return tuple((x, min(y, ceiling)) for x, y in table), level
    return table, None


# -- the owner's pairs and the stored table -------------------------------------------------


def owner_pairs(store: Store, queries: StyleQueries | None = None) -> list[Pair]:
    """The owner's reply pairs in their one-to-one conversations (the latest
    `HISTORY_READ` messages of each), every contact's."""
    queries = queries or StyleQueries(store)
    found: list[Pair] = []
    for contact in store.contacts.all():
        if contact.id is None:
            continue
        for asked, reply in queries.exchanges_with(
            ContactId(contact.id), limit=HISTORY_READ, exclude=set(), read=HISTORY_READ
        ):
            found.append(Pair(contact.id, asked.text, reply.text, asked.sent_at))
    return found


class Calibrations:
    """The owner's calibration: read from the state table, refitted when due.

    A long-lived instance (the bot's inbound processor, a job context): `current()` is
    a dictionary read. `time_to_check()` says when to look again whether a refit is due
    (at most every `CHECK_EVERY_S`); `refit_due()` looks, re-reading the stored table
    first (a `twin worker` may have refitted it). The refit itself is the
    `refit_calibration` job's (`workers.jobs`), or `twin reindex`'s."""

    def __init__(self, store: Store, embedder: Embedder) -> None:
        self.store = store
        self.embedder = embedder
        self._current: OwnerCalibration | None = None
        self._lock = threading.Lock()
        self._fitting = threading.Lock()
        self._checked_at = float("-inf")

    def current(self) -> OwnerCalibration:
        with self._lock:
            if self._current is None:
                self._current = self._stored()
            return self._current

    def reload(self) -> OwnerCalibration:
        """The stored table, read again (it may have been refitted elsewhere), unless
        this instance holds a later one already (a refit here that stored it just
        after the read)."""
        stored = self._stored()
        with self._lock:
            if self._current is None or stored.messages >= self._current.messages:
                self._current = stored
            return self._current

    def _stored(self) -> OwnerCalibration:
        stored = self.store.state.get(STATE_KEY)
        return OwnerCalibration.from_json(stored) if stored else GLOBAL

    def time_to_check(self) -> bool:
        """True at most once every `CHECK_EVERY_S` (no I/O: fine on the event loop)."""
        now = time.monotonic()
        with self._lock:
            if now - self._checked_at < CHECK_EVERY_S:
                return False
            self._checked_at = now
            return True

    def refit_due(self) -> int | None:
        """The highest message id when the history has grown enough since the stored
        fit (or none was made), else None. Blocking: two indexed reads."""
        known = self.reload()
        highest = self.store.messages.highest_id()
        grown = highest - known.messages
        if grown >= REFIT_MIN_NEW and grown >= REFIT_GROWTH * known.messages:
            return highest
        return None

    def due(self) -> bool:
        """Whether the history has grown enough since the last fit (or none was made)."""
        return self.refit_due() is not None

    def refit(
        self, progress: Progress | None = None, stop: threading.Event | None = None
    ) -> OwnerCalibration:
        """Draft for the owner's own past, fit, store. Blocking: seconds to a minute.
        Once `stop` is set it raises `Stopped` at its next look, the last just before
        the write (whoever sets `stop` waits for it to return before closing the store:
        `twin_core.aio.to_thread_stoppable`)."""
        with self._fitting:
            return self._refit(progress, stop)

    def refit_if_due(
        self, progress: Progress | None = None, stop: threading.Event | None = None
    ) -> OwnerCalibration | None:
        """`refit()` unless the stored fit covers the history already (a refit queued
        twice, or made meanwhile by another process): then None."""
        with self._fitting:
            if not self.due():
                return None
            return self._refit(progress, stop)

    def _refit(self, progress: Progress | None, stop: threading.Event | None) -> OwnerCalibration:
        highest = self.store.messages.highest_id()
        pairs = owner_pairs(self.store)
        _check(stop)
        samples = held_out(self.embedder.embed, pairs, progress, stop)
        fitted = fit(samples, messages=highest)
        _check(stop)
        self.store.state.set(STATE_KEY, fitted.to_json())
        with self._lock:
            self._current = fitted
        return fitted
