"""Time-ordered evaluation of reply-or-not and timing: learn on the past, predict the
future. Used by `benchmarks/decisions.py` and the tests; the figures are computed here
once so both read the same numbers."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import brier_score_loss, roc_auc_score

from twin_core.decide.history import FEATURES, History, Sample, Seen
from twin_core.decide.model import ReplyModel
from twin_core.decide.timing import DelayModel


@dataclass(frozen=True, slots=True)
class Scores:
    accuracy: float
    auc: float | None
    brier: float


@dataclass(frozen=True, slots=True)
class Evaluation:
    train: int
    test: int
    replied_share: float
    model: Scores
    always_reply: Scores
    contact_rate: Scores
    delay_mae_s: float | None
    delay_baseline_mae_s: float | None
    delays_tested: int


def scores(truth: Sequence[bool], probabilities: Sequence[float]) -> Scores:
    y = np.asarray(truth, dtype=int)
    p = np.clip(np.asarray(probabilities, dtype=float), 0.0, 1.0)
    auc = float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else None
    return Scores(
        accuracy=float(((p >= 0.5).astype(int) == y).mean()),
        auc=auc,
        brier=float(brier_score_loss(y, p)),
    )


def evaluate(
    messages: Sequence[Seen],
    *,
    owner_name: str = "",
    timezone: str = "UTC",
    split: float = 0.7,
    truth: Callable[[Sample], tuple[bool, float | None]] | None = None,
    refit_every: int = 0,
) -> Evaluation | None:
    """Feed `messages` (time order) to a `History`; train on the incoming messages of the
    first `split` of the time span, predict the rest as they arrive. `truth` gives the
    real outcome of a sample (default: what the full history shows). `refit_every`
    retrains after that many test samples (the schedule); 0 never does. None when
    there is nothing to test."""
    ordered = sorted(messages, key=lambda m: (m.at, m.id))
    if len(ordered) < 4:
        return None
    cut = ordered[0].at + (ordered[-1].at - ordered[0].at) * split
    history = History(owner_name, timezone)
    history.feed(m for m in ordered if m.at <= cut)
    train = list(history.samples)
    model = ReplyModel()
    model.fit(list(history.known()))
    delays = DelayModel(history)
    global_delays = list(history.delays)
    baseline_delay = statistics.median(global_delays) if global_delays else None
    tested: list[tuple[Sample, float, float, float | None]] = []
    since_fit = 0
    for message in (m for m in ordered if m.at > cut):
        if not message.from_owner and message.contact is not None:
            sample = history.sample(message)
            # Predicted in one batch below when the model stays as trained.
            probability = float(model.predict([sample.features])[0]) if refit_every else -1.0
            rate = sample.features[FEATURES.index("contact_reply_rate")]
            predicted_delay = delays.typical(message.contact, sample.local_hour)
            tested.append((sample, probability, rate, predicted_delay))
            since_fit += 1
            if refit_every and since_fit >= refit_every:
                model.fit(list(history.known()))
                since_fit = 0
        history.add(message)
    if history.last_at is not None:
        history.add_time(history.last_at + history.horizon)
    if not refit_every and tested:
        batch = model.predict([t[0].features for t in tested])
        tested = [(t[0], float(p), t[2], t[3]) for t, p in zip(tested, batch, strict=True)]
    outcomes = {s.message_id: s for s in history.samples}
    rows: list[tuple[bool, float | None, float, float, float | None]] = []
    for sample, probability, rate, predicted_delay in tested:
        if truth is not None:
            replied, delay = truth(sample)
        else:
            known = outcomes[sample.message_id]
            if known.replied is None:
                continue
            replied, delay = known.replied, known.delay_s
        rows.append((replied, delay, probability, rate, predicted_delay))
    if not rows:
        return None
    y = [r[0] for r in rows]
    errors = [abs(r[4] - r[1]) for r in rows if r[0] and r[1] is not None and r[4] is not None]
    base = [
        abs(baseline_delay - r[1])
        for r in rows
        if r[0] and r[1] is not None and baseline_delay is not None
    ]
    return Evaluation(
        train=len(train),
        test=len(rows),
        replied_share=sum(y) / len(y),
        model=scores(y, [r[2] for r in rows]),
        always_reply=scores(y, [1.0] * len(y)),
        contact_rate=scores(y, [r[3] for r in rows]),
        delay_mae_s=statistics.median(errors) if errors else None,
        delay_baseline_mae_s=statistics.median(base) if base and baseline_delay else None,
        delays_tested=len(errors),
    )
