"""The offline responder: it answers with one of the owner's own past replies, chosen by
a learned response-selection score, and offers nothing when nothing fits.

Each candidate is an earlier exchange the composer may use (`style.examples`: this
contact's own, then phatic ones from others). Its features:

* `situation`: how alike the new message and the candidate's message are (the shipped
  embedder's cosine);
* `fit`: how well the candidate reply itself reads as an answer to the new message
  (cosine of the new message and the reply);
* `words`: shared words and letter runs with the candidate's message (`similarity`);
* `pair`: the candidate pair's own similarity (a reply that echoes its message is a
  real answer, not a change of topic);
* `same_contact`: 1 for this contact's own exchanges;
* `recency`: exp(-age / 180 days);
* `length`: 1 for a reply of at most 12 words (short replies travel; long ones carry
  the details of one moment).

The weights, the floor and the calibration table are learned by
`benchmarks/style_fidelity.py --learn` on LoCoMo conversations 1-5 (the figures in
docs/BENCHMARKS.md are for conversations 6-10, which were not used). `score` is a
logistic model's probability that the reply is close to what the owner will really
send (cosine of the two at least `CLOSE`); `confidence` maps it through the table
measured on held-out history, or through the owner's own table fitted on their
history (`style.calibration`) once there is enough of it.
"""

from __future__ import annotations

import itertools
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from numpy.typing import NDArray

from twin_core.memory.embed import Embedder
from twin_core.style.similarity import similarity

FEATURES = (
    "situation",
    "fit",
    "words",
    "pair",
    "same_contact",
    "recency",
    "length",
)
FIXED = {"same_contact": 1.0, "recency": 0.3}
"""Weights set by hand, not learned: LoCoMo has one contact per conversation and a few
months of history, so neither varies enough there to be learned. A same-contact
candidate scores exactly as learned; another contact's (phatic) one less."""

WEIGHTS = (1.96, 3.03, 0.67, -0.37, 1.0, 0.3, 0.01)
BIAS = -5.07
FLOOR = 0.127
"""Below this score the card says "no good match; answer yourself" and shows the
closest past moment instead of a draft."""
CALIBRATION = (
    (0.0, 0.0),
    (0.093, 0.1),
    (0.127, 0.2),
    (0.153, 0.22),
    (0.172, 0.32),
    (0.202, 0.32),
    (0.234, 0.32),
    (0.267, 0.4),
    (0.316, 0.46),
    (0.405, 0.46),
    (1.0, 0.46),
)
"""(score, confidence) points, linearly interpolated: the share of held-out drafts at
that score that were close to the owner's real reply."""
CLOSE = 0.5
"""Cosine (shipped embedder) at which a draft counts as close to the real reply."""
SHORT_REPLY_WORDS = 12
RECENCY_DAYS = 180.0


@dataclass(frozen=True, slots=True)
class Candidate:
    """One earlier exchange: they wrote `their_text`, the owner answered `reply`."""

    their_text: str
    reply: str
    same_contact: bool
    sent_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Ranked:
    candidate: Candidate
    score: float
    features: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Choice:
    """What the offline responder makes of a message."""

    reply: str
    """Empty when nothing fits (the best score is below `FLOOR`)."""
    score: float
    confidence: float
    best: Ranked | None
    """The best candidate, also when it was not good enough: the closest past moment."""


def logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def combine(
    features: Sequence[float], weights: Sequence[float] = WEIGHTS, bias: float = BIAS
) -> float:
    return logistic(bias + sum(w * f for w, f in zip(weights, features, strict=True)))


def calibrated(score: float, table: Sequence[tuple[float, float]] = CALIBRATION) -> float:
    """The confidence for a score (piecewise linear through `table`)."""
    if score <= table[0][0]:
        return table[0][1]
    for (x0, y0), (x1, y1) in itertools.pairwise(table):
        if score <= x1:
            return y0 + (y1 - y0) * (score - x0) / (x1 - x0 or 1.0)
    return table[-1][1]


def feature_rows(
    incoming: NDArray[np.float32],
    messages: NDArray[np.float32],
    replies: NDArray[np.float32],
    incoming_text: str,
    candidates: Sequence[Candidate],
    now: datetime | None,
) -> NDArray[np.float64]:
    """The features of every candidate (rows in `FEATURES` order); the arrays are
    L2-normalized embeddings: the new message (d,), candidates' messages and replies
    (n, d)."""
    situation = messages @ incoming
    fit = replies @ incoming
    pair = np.einsum("ij,ij->i", messages, replies)
    rows = np.zeros((len(candidates), len(FEATURES)), dtype=np.float64)
    rows[:, 0] = situation
    rows[:, 1] = fit
    rows[:, 3] = pair
    for i, candidate in enumerate(candidates):
        rows[i, 2] = similarity(incoming_text, candidate.their_text)
        rows[i, 4] = 1.0 if candidate.same_contact else 0.0
        if now is not None and candidate.sent_at is not None:
            days = max((now - candidate.sent_at).total_seconds() / 86400, 0.0)
            rows[i, 5] = math.exp(-days / RECENCY_DAYS)
        rows[i, 6] = 1.0 if len(candidate.reply.split()) <= SHORT_REPLY_WORDS else 0.0
    return rows


def scores(
    rows: NDArray[np.float64], weights: Sequence[float] = WEIGHTS, bias: float = BIAS
) -> NDArray[np.float64]:
    z = rows @ np.asarray(weights, dtype=np.float64) + bias
    out: NDArray[np.float64] = 1.0 / (1.0 + np.exp(-z))
    return out


def rank(
    embedder: Embedder,
    incoming: str,
    candidates: Sequence[Candidate],
    *,
    now: datetime | None = None,
) -> list[Ranked]:
    """The candidates, best first. One embedder call for everything."""
    if not candidates:
        return []
    texts = [incoming, *(c.their_text for c in candidates), *(c.reply for c in candidates)]
    vectors = _embedded(embedder, texts)
    n = len(candidates)
    rows = feature_rows(vectors[0], vectors[1 : n + 1], vectors[n + 1 :], incoming, candidates, now)
    found = scores(rows)
    order = np.argsort(-found, kind="stable")
    return [
        Ranked(candidates[i], round(float(found[i]), 4), tuple(float(x) for x in rows[i]))
        for i in order
    ]


_CACHE: OrderedDict[tuple[str, str], NDArray[np.float32]] = OrderedDict()
_CACHE_LOCK = threading.Lock()
CACHE_SIZE = 20_000
"""Vectors of example texts kept between drafts: the same contact's past exchanges come
up draft after draft, and embedding them again would be most of a draft's CPU."""


def _embedded(embedder: Embedder, texts: list[str]) -> NDArray[np.float32]:
    """`embedder.embed(texts)`, embedding only what is not cached yet (one call)."""
    name = embedder.name
    with _CACHE_LOCK:
        found = {t: _CACHE.get((name, t)) for t in texts}
    missing = sorted({t for t, v in found.items() if v is None})
    if missing:
        fresh = embedder.embed(missing)
        with _CACHE_LOCK:
            for text, row in zip(missing, fresh, strict=True):
                found[text] = row
                _CACHE[(name, text)] = row
            while len(_CACHE) > CACHE_SIZE:
                _CACHE.popitem(last=False)
    return np.stack([found[t] for t in texts])  # type: ignore[misc]


def choose(
    ranked: Sequence[Ranked],
    *,
    floor: float = FLOOR,
    confidence_of: Callable[[float], float] = calibrated,
) -> Choice:
    """The reply to offer, or none when the best is below the floor; `confidence_of`
    maps the score to a confidence (the owner's own calibration, `style.calibration`,
    else the global table)."""
    if not ranked:
        return Choice("", 0.0, 0.0, None)
    best = ranked[0]
    confidence = round(confidence_of(best.score), 2)
    if best.score < floor:
        return Choice("", best.score, confidence, best)
    return Choice(best.candidate.reply, best.score, confidence, best)
