"""Style fidelity of the offline responder on LoCoMo (or any file in its layout).

    .venv/bin/python benchmarks/style_fidelity.py [--data FILE] [--conversations 6-10]
    .venv/bin/python benchmarks/style_fidelity.py --learn --conversations 1-5

Each conversation is read twice, each speaker in turn as the owner and the other as
the contact; each turn is timed at its session's date plus 30 seconds per turn (as in
`locomo_recall.py`), a turn that shares an image is a photo message. Reply pairs are
made by the twin's own rule (`twin_core.style.pairing`): the owner's next turn, their
own text, within the conversation's reply window. The split is by time: the first 70%
of the sessions are learned from, and every paired owner turn of the later sessions is
drafted for by the offline responder (`twin_core.style.offline`) from the earlier pairs.

Printed, per set of conversations:

* pairing: the contact's turns, how many the owner's next turn answers, and why the
  others are not paired;
* response selection: recall@1 of the real reply among 10 candidates (the real one and
  9 random other owner turns) for the learned score, BM25 and plain embedding cosine;
* authorship: a stylometric classifier (naive Bayes on character 2-4-grams and words)
  trained on the owner's and the other speaker's earlier turns: the share of drafts it
  gives to the owner next to the share of the owner's real held-out turns;
* similarity (cosine, shipped embedder) of the draft to the real reply, next to a random
  earlier owner reply and the owner's most frequent reply, and the share "close"
  (cosine >= `offline.CLOSE`);
* calibration: per confidence bucket, the drafts and the share close, and the drafts at
  or above the auto threshold with their share close; how many the floor suppressed
  (and how many of those would have been close). Twice: through the global table, and
  through each owner's own calibration (`twin_core.style.calibration`), fitted on that
  owner's learn part alone with an inner time split (the responder drafts for the
  later half of the learn pairs from the pairs before each) and applied to the held-out
  drafts.

`--learn` fits the responder's weights, floor and calibration table on the chosen
conversations and prints them as the constants of `twin_core/style/offline.py`.
"""

from __future__ import annotations

import argparse
import itertools
import math
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from locomo_recall import DEFAULT_DATA  # noqa: E402
from locomo_recall import load as load_locomo  # noqa: E402

from twin_core.memory.embed import make_embedder  # noqa: E402
from twin_core.memory.models import Message  # noqa: E402
from twin_core.memory.text import terms  # noqa: E402
from twin_core.style import calibration, offline  # noqa: E402
from twin_core.style.pairing import refusal, reply_gaps, reply_window  # noqa: E402

LEARN_SHARE = 0.7
CANDIDATES = 10
CONFIDENCE_BUCKETS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.01)
AUTO = 0.8
"""The default auto threshold (`settings.auto_confidence`)."""


@dataclass
class Owner:
    """One conversation seen from one speaker."""

    label: str
    history: list[Message]
    split_at: datetime
    pairs: list[tuple[Message, Message]] = field(default_factory=list)
    refused: Counter[str] = field(default_factory=Counter)
    asked: int = 0


def owners(path: Path, wanted: set[int]) -> list[Owner]:
    found: list[Owner] = []
    for conversation in load_locomo(path, captions=True):
        if conversation.number not in wanted:
            continue
        events = conversation.events
        speakers = sorted({e.sender_name for e in events})
        starts = _session_starts(events)
        k = min(max(1, math.ceil(len(starts) * LEARN_SHARE)), len(starts) - 1)
        split_at = starts[k] if len(starts) > 1 else events[-1].sent_at
        for speaker in speakers:
            history = []
            for number, e in enumerate(events):
                text, marker, _ = e.text.partition(" [shared a photo: ")
                history.append(
                    Message(
                        id=number + 1,
                        channel="locomo",
                        external_id=e.external_id,
                        conversation_id=1,
                        contact_id=None if e.sender_name == speaker else 2,
                        from_owner=e.sender_name == speaker,
                        kind="media" if marker else "text",
                        text=text,
                        sent_at=e.sent_at,
                    )
                )
            found.append(Owner(f"{conversation.number}:{speaker}", history, split_at))
    return found


def _session_starts(events: Sequence[Any]) -> list[datetime]:
    starts = [events[0].sent_at]
    for earlier, later in itertools.pairwise(events):
        if later.sent_at - earlier.sent_at > timedelta(minutes=30):
            starts.append(later.sent_at)
    return starts


def pair_up(owner: Owner) -> None:
    window = reply_window(reply_gaps(owner.history))
    for i, message in enumerate(owner.history[:-1]):
        if message.from_owner or message.kind != "text":
            continue
        owner.asked += 1
        nxt = owner.history[i + 1]
        why = refusal(message, nxt, window)
        if why is None:
            owner.pairs.append((message, nxt))
        else:
            owner.refused[why] += 1


# -- small models -----------------------------------------------------------------------


class Bm25:
    def __init__(self, documents: Sequence[str], k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        tokenized = [terms(d) for d in documents]
        self.df: Counter[str] = Counter(t for doc in tokenized for t in set(doc))
        self.n = len(tokenized)
        self.avg = statistics.fmean(len(d) for d in tokenized) if tokenized else 1.0

    def score(self, query: str, document: str) -> float:
        doc = terms(document)
        counts = Counter(doc)
        total = 0.0
        for term in set(terms(query)):
            if term not in counts:
                continue
            idf = math.log(1 + (self.n - self.df[term] + 0.5) / (self.df[term] + 0.5))
            tf = counts[term]
            total += (
                idf
                * tf
                * (self.k1 + 1)
                / (tf + self.k1 * (1 - self.b + self.b * len(doc) / self.avg))
            )
        return total


class Authorship:
    """Multinomial naive Bayes on character 2-4-grams and words."""

    def __init__(self, owner_texts: Sequence[str], other_texts: Sequence[str]) -> None:
        self.counts = [Counter[str](), Counter[str]()]
        for label, texts in enumerate((owner_texts, other_texts)):
            for text in texts:
                self.counts[label].update(self._features(text))
        self.totals = [sum(c.values()) for c in self.counts]
        self.vocabulary = len(set(self.counts[0]) | set(self.counts[1]))
        self.prior = [
            math.log(len(owner_texts) / (len(owner_texts) + len(other_texts))),
            math.log(len(other_texts) / (len(owner_texts) + len(other_texts))),
        ]

    @staticmethod
    def _features(text: str) -> list[str]:
        padded = f" {text} "
        grams = [padded[i : i + n] for n in (2, 3, 4) for i in range(len(padded) - n + 1)]
        return grams + [f"w:{w}" for w in text.lower().split()]

    def is_owner(self, text: str) -> bool:
        scores = []
        for label in (0, 1):
            score = self.prior[label]
            for feature in self._features(text):
                score += math.log(
                    (self.counts[label][feature] + 1) / (self.totals[label] + self.vocabulary)
                )
            scores.append(score)
        return scores[0] >= scores[1]


def fit_logistic(
    rows: NDArray[np.float64], labels: NDArray[np.float64]
) -> tuple[list[float], float]:
    """Plain logistic regression (gradient descent, a little L2)."""
    weights = np.zeros(rows.shape[1])
    bias = 0.0
    rate = 0.5
    for _ in range(3000):
        z = rows @ weights + bias
        p = 1 / (1 + np.exp(-z))
        gradient = rows.T @ (p - labels) / len(labels) + 1e-3 * weights
        weights -= rate * gradient
        bias -= rate * float(np.mean(p - labels))
    return [round(float(w), 2) for w in weights], round(bias, 2)


# -- the run ------------------------------------------------------------------------------


@dataclass
class Drafted:
    owner: str
    score: float
    confidence: float
    close: bool
    cosine: float
    suppressed: bool
    draft: str
    own_confidence: float
    """Through the owner's own calibration (`style.calibration`), fitted on their learn
    part with an inner time split."""


def run(
    selected: list[Owner],
    vectors: dict[str, NDArray[np.float32]],
    *,
    weights: Sequence[float],
    bias: float,
    floor: float,
    table: Sequence[tuple[float, float]],
    seed: int = 13,
) -> dict[str, Any]:
    rng = random.Random(seed)
    drafted: list[Drafted] = []
    learning_rows: list[NDArray[np.float64]] = []
    learning_labels: list[NDArray[np.float64]] = []
    selection = {"learned": 0, "bm25": 0, "embedding": 0, "asked": 0}
    authorship = {"drafts": [0, 0], "real": [0, 0]}
    similarity = {"draft": [], "random": [], "frequent": []}
    fitted: Counter[str] = Counter()
    for owner in selected:
        train = [(a, r) for a, r in owner.pairs if r.sent_at < owner.split_at]
        test = [(a, r) for a, r in owner.pairs if a.sent_at >= owner.split_at]
        if not train or not test:
            continue
        own_turns = [m.text for m in owner.history if m.from_owner]
        earlier_own = [m.text for m in owner.history if m.from_owner and m.sent_at < owner.split_at]
        earlier_other = [
            m.text for m in owner.history if not m.from_owner and m.sent_at < owner.split_at
        ]
        classifier = Authorship(earlier_own, earlier_other)
        bm25 = Bm25(earlier_own)
        frequent = Counter(r.text for _, r in train).most_common(1)[0][0]
        candidates = [offline.Candidate(a.text, r.text, True, r.sent_at) for a, r in train]
        own = calibration.fit(
            calibration.held_out(
                lambda texts: np.stack([vectors[t] for t in texts]),
                [calibration.Pair(2, a.text, r.text, a.sent_at) for a, r in train],
            ),
            table,
        )
        fitted["own" if own.own else "global"] += 1
        messages = np.stack([vectors[c.their_text] for c in candidates])
        replies = np.stack([vectors[c.reply] for c in candidates])
        for asked, real in test:
            incoming = vectors[asked.text]
            rows = offline.feature_rows(
                incoming, messages, replies, asked.text, candidates, asked.sent_at
            )
            found = offline.scores(rows, weights, bias)
            best = int(np.argmax(found))
            draft = candidates[best].reply
            cosine = float(vectors[draft] @ vectors[real.text])
            close = cosine >= offline.CLOSE
            score = float(found[best])
            drafted.append(
                Drafted(
                    owner.label,
                    score,
                    offline.calibrated(score, table),
                    close,
                    cosine,
                    score < floor,
                    draft,
                    own.confidence(score),
                )
            )
            labels = (replies @ vectors[real.text] >= offline.CLOSE).astype(np.float64)
            learning_rows.append(rows)
            learning_labels.append(labels)
            similarity["draft"].append(cosine)
            similarity["random"].append(
                float(vectors[rng.choice(train)[1].text] @ vectors[real.text])
            )
            similarity["frequent"].append(float(vectors[frequent] @ vectors[real.text]))
            authorship["drafts"][0] += classifier.is_owner(draft)
            authorship["drafts"][1] += 1
            authorship["real"][0] += classifier.is_owner(real.text)
            authorship["real"][1] += 1
            # response selection: the real reply among 9 random other owner turns
            others = [t for t in own_turns if t != real.text]
            pool = [real.text, *rng.sample(others, min(CANDIDATES - 1, len(others)))]
            pool_vectors = np.stack([vectors[t] for t in pool])
            fit = pool_vectors @ incoming
            # The learned score ranks the pool with what is known of a bare reply: its
            # fit and length (the candidates' own messages are left out: the real
            # reply's would be the question itself); the other features are the same
            # for every candidate and do not change the order.
            pool_rows = np.zeros((len(pool), len(offline.FEATURES)))
            pool_rows[:, 1] = fit
            pool_rows[:, 6] = [len(t.split()) <= offline.SHORT_REPLY_WORDS for t in pool]
            learned = offline.scores(pool_rows, weights, bias)
            selection["learned"] += int(np.argmax(learned) == 0)
            selection["embedding"] += int(np.argmax(fit) == 0)
            lexical = [bm25.score(asked.text, t) for t in pool]
            selection["bm25"] += int(max(range(len(pool)), key=lambda i: (lexical[i], -i)) == 0)
            selection["asked"] += 1
    return {
        "drafted": drafted,
        "selection": selection,
        "authorship": authorship,
        "similarity": similarity,
        "fitted": fitted,
        "rows": np.concatenate(learning_rows)
        if learning_rows
        else np.zeros((0, len(offline.FEATURES))),
        "labels": np.concatenate(learning_labels) if learning_labels else np.zeros(0),
    }


def calibration_table(drafted: Sequence[Drafted]) -> tuple[list[tuple[float, float]], float]:
    """(score, share close) at score deciles, made monotone; and the floor: the lowest
    score from which drafts are close at least a fifth of the time."""
    ordered = sorted(drafted, key=lambda d: d.score)
    points: list[tuple[float, float]] = [(0.0, 0.0)]
    size = max(len(ordered) // 8, 1)
    for start in range(0, len(ordered), size):
        chunk = ordered[start : start + size]
        middle = statistics.median(d.score for d in chunk)
        share = sum(d.close for d in chunk) / len(chunk)
        points.append((round(middle, 3), round(share, 2)))
    monotone: list[tuple[float, float]] = []
    best = 0.0
    for x, y in points:
        best = max(best, y)
        monotone.append((x, best))
    monotone.append((1.0, max(best, monotone[-1][1])))
    floor = next((x for x, y in monotone if y >= 0.2), 1.0)
    return monotone, floor


def report(title: str, results: dict[str, Any], pairing: dict[str, Any], floor: float) -> None:
    drafted: list[Drafted] = results["drafted"]
    print(f"\n== {title} ==")
    print(
        f"pairing: {pairing['asked']} contact turns, {pairing['paired']} answered by the "
        f"owner's next turn ({pairing['paired'] / max(pairing['asked'], 1):.0%}); not paired: "
        + ", ".join(f"{why} {n}" for why, n in pairing["refused"].most_common())
    )
    s = results["selection"]
    n = max(s["asked"], 1)
    print(
        f"response selection (recall@1 of 10, {s['asked']} replies): learned "
        f"{s['learned'] / n:.3f}, BM25 {s['bm25'] / n:.3f}, embedding {s['embedding'] / n:.3f}"
    )
    a = results["authorship"]
    drafts_share = a["drafts"][0] / max(a["drafts"][1], 1)
    real_share = a["real"][0] / max(a["real"][1], 1)
    print(
        f"authorship: drafts attributed to the owner {drafts_share:.1%}, the owner's real "
        f"held-out turns {real_share:.1%} (ratio {drafts_share / max(real_share, 1e-9):.2f})"
    )
    sim = results["similarity"]
    print(
        "similarity to the real reply (mean cosine): draft "
        f"{statistics.fmean(sim['draft']):.3f}, random earlier owner reply "
        f"{statistics.fmean(sim['random']):.3f}, the owner's most frequent reply "
        f"{statistics.fmean(sim['frequent']):.3f}; close (>= {offline.CLOSE}): draft "
        f"{sum(x >= offline.CLOSE for x in sim['draft']) / len(sim['draft']):.1%}, random "
        f"{sum(x >= offline.CLOSE for x in sim['random']) / len(sim['random']):.1%}, frequent "
        f"{sum(x >= offline.CLOSE for x in sim['frequent']) / len(sim['frequent']):.1%}"
    )
    shown = [d for d in drafted if not d.suppressed]
    suppressed = [d for d in drafted if d.suppressed]
    print(
        f"calibration: {len(drafted)} situations, {len(suppressed)} suppressed by the floor "
        f"{floor} ({sum(d.close for d in suppressed)} of them would have been close)"
    )
    print("global table:")
    _buckets(shown, lambda d: d.confidence)
    fitted = results["fitted"]
    print(
        f"per-owner calibration (fitted on each owner's learn part, inner time split): "
        f"{fitted['own']} owners with their own table, {fitted['global']} on the global "
        f"one (fewer than {calibration.MIN_SAMPLES} inner held-out drafts)"
    )
    _buckets(shown, lambda d: d.own_confidence)


def _buckets(shown: Sequence[Drafted], confidence: Callable[[Drafted], float]) -> None:
    for low, high in itertools.pairwise(CONFIDENCE_BUCKETS):
        bucket = [d for d in shown if low <= confidence(d) < high]
        if bucket:
            print(
                f"  confidence {low:.1f}-{min(high, 1.0):.1f}: {len(bucket)} drafts, close "
                f"{sum(d.close for d in bucket) / len(bucket):.1%}"
            )
    auto = [d for d in shown if confidence(d) >= AUTO]
    print(
        f"  at or above the auto threshold {AUTO}: {len(auto)} drafts, close "
        + (f"{sum(d.close for d in auto) / len(auto):.1%}" if auto else "n/a")
    )


def numbers(text: str) -> set[int]:
    found: set[int] = set()
    for part in text.split(","):
        low, _, high = part.partition("-")
        found.update(range(int(low), int(high or low) + 1))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--conversations", default="6-10", help="e.g. 1-5 or 6-10 or 1,3")
    parser.add_argument("--learn", action="store_true", help="fit and print the constants")
    parser.add_argument("--cache", type=Path, help="keep the turns' embeddings in this .npz")
    args = parser.parse_args()
    if not args.data.is_file():
        sys.exit(f"no LoCoMo file at {args.data} (pass --data FILE)")
    started = time.perf_counter()
    selected = owners(args.data, numbers(args.conversations))
    pairing: dict[str, Any] = {"asked": 0, "paired": 0, "refused": Counter()}
    for owner in selected:
        pair_up(owner)
        pairing["asked"] += owner.asked
        pairing["paired"] += len(owner.pairs)
        pairing["refused"].update(owner.refused)
    texts = sorted({m.text for o in selected for m in o.history})
    embedder = make_embedder()
    print(f"embedding {len(texts)} turns with {embedder.name} ...", file=sys.stderr)
    if args.cache and args.cache.is_file():
        matrix = np.load(args.cache)["vectors"]
    else:
        matrix = np.concatenate(
            [embedder.embed(texts[i : i + 256]) for i in range(0, len(texts), 256)]
        )
        if args.cache:
            np.savez(args.cache, vectors=matrix)
    vectors = dict(zip(texts, matrix, strict=True))
    weights, bias, floor, table = offline.WEIGHTS, offline.BIAS, offline.FLOOR, offline.CALIBRATION
    if args.learn:
        first = run(selected, vectors, weights=weights, bias=bias, floor=floor, table=table)
        learnable = [i for i, f in enumerate(offline.FEATURES) if f not in offline.FIXED]
        fitted, bias = fit_logistic(first["rows"][:, learnable], first["labels"])
        weights_list = [offline.FIXED.get(f, 0.0) for f in offline.FEATURES]
        for i, w in zip(learnable, fitted, strict=True):
            weights_list[i] = w
        # LoCoMo's candidates are all the same contact's: the learned bias includes the
        # same-contact weight; recency's mean goes into it too.
        mean_recency = float(np.mean(first["rows"][:, offline.FEATURES.index("recency")]))
        bias = round(
            bias - offline.FIXED["same_contact"] - offline.FIXED["recency"] * mean_recency, 2
        )
        weights = tuple(weights_list)
        again = run(selected, vectors, weights=weights, bias=bias, floor=0.0, table=table)
        table_list, floor = calibration_table(again["drafted"])
        table = tuple(table_list)
        print(f"WEIGHTS = {weights}\nBIAS = {bias}\nFLOOR = {floor}\nCALIBRATION = {table}")
    results = run(selected, vectors, weights=weights, bias=bias, floor=floor, table=table)
    report(
        f"LoCoMo conversations {args.conversations}, each speaker as the owner "
        f"({len(selected)} owners)",
        results,
        pairing,
        floor,
    )
    print(f"\n{time.perf_counter() - started:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
