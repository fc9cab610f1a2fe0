from __future__ import annotations

from tests.decide.synthetic import OWNER, generate
from twin_core.decide.evaluate import evaluate
from twin_core.decide.history import History
from twin_core.decide.model import Lesson, ReplyModel


def test_it_learns_the_synthetic_owner_on_a_time_ordered_split() -> None:
    owner = generate(days=90, seed=11)
    result = evaluate(owner.messages, owner_name=OWNER, truth=lambda s: owner.truth[s.message_id])
    assert result is not None and result.test > 200
    assert result.model.accuracy >= 0.95
    assert result.model.accuracy > result.contact_rate.accuracy > result.always_reply.accuracy
    assert result.model.brier < result.contact_rate.brier
    assert result.delay_mae_s is not None and result.delay_baseline_mae_s is not None
    assert result.delay_mae_s < result.delay_baseline_mae_s


def test_without_enough_history_it_says_so_and_uses_the_reply_rate() -> None:
    history = History()
    owner = generate(days=2, seed=3)
    history.feed(owner.messages[:20])
    model = ReplyModel()
    assert not model.fit(list(history.known()))
    estimate = model.estimate(history.samples[-1].features)
    assert not estimate.learned and 0.0 <= estimate.probability <= 1.0


def test_the_owners_lessons_move_the_model() -> None:
    owner = generate(days=30, seed=5)
    history = History(OWNER)
    history.feed(owner.messages)
    known = list(history.known())
    target = next(s for s in known if s.replied)
    plain = ReplyModel()
    plain.fit(known)
    taught = ReplyModel()
    taught.fit(known, [Lesson(target.features, False)] * 30)
    assert (
        taught.estimate(target.features).probability < plain.estimate(target.features).probability
    )
