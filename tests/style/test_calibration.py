"""The offline responder's confidence fitted on the owner's own history: high where the
owner is predictable, low where they are not, never above what it earned, and the
global table while there is too little to go by."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.calibration import record_thanks
from tests.support.events import T0
from twin_core.aio import Stopped
from twin_core.memory.embed import Embedder
from twin_core.memory.store import Store
from twin_core.style import calibration, offline
from twin_core.style.calibration import Calibrations, Pair, Sample, fit, held_out

THANKS = ("thanks!", "thanks!!", "thank you!", "thx", "thanks so much!", "ty!")
OPEN = (
    ("what do you think about moving to Berlin?", "honestly the winters scare me more than rent"),
    ("how was the wedding?", "the band played until three and my feet still hurt"),
    ("any book recommendations?", "try Piranesi, it is strange in a good way"),
    ("why did you quit the choir?", "rehearsals clashed with my night shifts"),
    ("what should I cook for my parents?", "a slow lamb stew never fails with them"),
    ("how is the new job going?", "my manager micromanages every spreadsheet"),
    ("what happened with the landlord?", "he finally fixed the boiler after six weeks"),
    ("where should we go in August?", "somewhere with mountains and no wifi"),
    ("what did the doctor say?", "nothing serious, just physio twice a week"),
    ("how do you stay so calm?", "long swims before work and no news apps"),
    ("is the car fixed yet?", "the garage is waiting on a gearbox from Lyon"),
    ("what's your take on the election?", "turnout will decide it more than any debate"),
    ("how did the exam go?", "the statistics part was brutal"),
    ("what are you painting these days?", "mostly harbours in watercolour"),
    ("why is the project late?", "the vendor shipped the wrong sensors twice"),
    ("what's the plan for grandma's birthday?", "a picnic by the lake if it doesn't rain"),
    ("should I learn guitar or piano?", "piano, the theory carries over to everything"),
    ("how was Lisbon?", "too many hills and the best custard tarts of my life"),
    ("what's going on with your sister?", "she is applying for a visa to Canada"),
    ("any idea what to get Tom?", "he has been talking about a pasta machine"),
)


def _owner(count: int) -> list[Pair]:
    """An owner who answers every thanks with "anytime 🙂", and open questions each
    time otherwise (the same question, a round later, gets another answer); one
    exchange an hour, four contacts."""
    pairs: list[Pair] = []
    for i in range(count):
        at = T0 + timedelta(hours=i)
        contact = 1 + i % 4
        if i % 3 == 2:
            k = i // 3
            asked = OPEN[k % len(OPEN)][0]
            reply = OPEN[(k + 3 * (k // len(OPEN))) % len(OPEN)][1]
        else:
            asked, reply = THANKS[i % len(THANKS)], "anytime 🙂"
        pairs.append(Pair(contact, asked, reply, at))
    return pairs


def _best_score(embedder: Embedder, pairs: list[Pair], incoming: str, contact: int) -> float:
    candidates = [
        offline.Candidate(p.their_text, p.reply, p.contact_id == contact, p.sent_at)
        for p in pairs
        if p.contact_id == contact
    ]
    ranked = offline.rank(embedder, incoming, candidates, now=pairs[-1].sent_at)
    return ranked[0].score


def test_a_predictable_owner_gets_high_confidence_on_thanks_and_low_on_open_questions(
    embedder: Embedder,
) -> None:
    pairs = _owner(150)
    samples = held_out(embedder.embed, pairs)
    assert len(samples) == 75  # the later half, each drafted from the pairs before it
    fitted = fit(samples)
    assert fitted.own and fitted.samples == 75
    thanks = _best_score(embedder, pairs, "thanks!", 1)
    assert fitted.confidence(thanks) >= 0.8 > offline.calibrated(thanks)
    new_question = _best_score(embedder, pairs, "what do you think about the new mayor?", 1)
    assert fitted.confidence(new_question) <= 0.3
    # A question asked before matches its old answer well, but this owner answers
    # questions anew each time: lower than the global table would say.
    asked = next(p for p in pairs if p.their_text == "how was Lisbon?")
    again = _best_score(embedder, pairs, asked.their_text, asked.contact_id)
    assert fitted.confidence(again) <= 0.3 < offline.calibrated(again)
    values = [fitted.confidence(x / 100) for x in range(101)]
    assert values == sorted(values)


def test_thin_history_keeps_the_global_table(embedder: Embedder) -> None:
    samples = held_out(embedder.embed, _owner(20))
    fitted = fit(samples)
    assert not fitted.own and fitted.samples == len(samples) == 10
    assert fitted.table == offline.CALIBRATION
    assert fitted.confidence(0.3) == offline.calibrated(0.3)
    assert "global table" in fitted.describe()


def test_a_level_the_drafts_did_not_earn_is_never_given() -> None:
    """Drafts at one score, 22 of 30 close (73%): with a generous prior the bins would
    read 0.81, but 73% is not 80%, so the table stays below 0.8."""
    samples = [Sample(0.5, i < 22) for i in range(30)]
    generous = ((0.0, 1.0), (1.0, 1.0))
    fitted = fit(samples, generous)
    assert fitted.capped_below == 0.8
    assert max(y for _, y in fitted.table) == 0.79
    assert fitted.confidence(0.5) >= 0.7  # 73% earned 0.7
    assert fit(samples).capped_below is None  # with the global prior it stays lower anyway


def test_the_fit_is_stored_and_read_back_and_refits_when_history_grows(
    store: Store, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    record_thanks(store, 4)
    pairs = calibration.owner_pairs(store)
    assert [(p.their_text, p.reply) for p in pairs] == [("thanks!", "anytime 🙂")] * 4
    calibrations = Calibrations(store, embedder)
    assert calibrations.current() is calibration.GLOBAL
    fitted = calibrations.refit()
    assert fitted.samples == 2 and not fitted.own  # too few: the global table serves
    again = Calibrations(store, embedder).current()
    assert again == fitted and again.messages == store.messages.highest_id()
    assert not again.own and not calibrations.due()  # 8 messages: far from a refit
    assert calibrations.refit_if_due() is None  # so a queued refit does nothing
    monkeypatch.setattr(calibration, "REFIT_MIN_NEW", 4)
    record_thanks(store, 2, first=4)  # 12 messages: grown by 4, and by half
    assert calibrations.refit_due() == store.messages.highest_id() == 12
    refitted = calibrations.refit_if_due()
    assert refitted is not None and refitted.messages == 12
    assert calibrations.current() == refitted and not calibrations.due()


def test_a_refit_elsewhere_is_seen_at_the_next_look(store: Store, embedder: Embedder) -> None:
    """The bot's instance re-reads the stored table whenever it looks whether a refit
    is due: a `twin worker` may have made one."""
    record_thanks(store, 4)
    bots = Calibrations(store, embedder)
    assert bots.current() is calibration.GLOBAL
    workers = Calibrations(store, embedder).refit()
    assert bots.current() is calibration.GLOBAL  # a dictionary read until it looks
    assert bots.refit_due() is None
    assert bots.current() == workers


def test_looks_are_spaced_by_check_every_s(
    store: Store, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    calibrations = Calibrations(store, embedder)
    assert calibrations.time_to_check()
    assert not calibrations.time_to_check()  # looked just now: not again yet
    monkeypatch.setattr(calibration, "CHECK_EVERY_S", 0.0)
    assert calibrations.time_to_check()


def test_a_refit_reports_its_progress_phase_by_phase(store: Store, embedder: Embedder) -> None:
    record_thanks(store, 4)
    seen: list[tuple[str, int, int]] = []
    Calibrations(store, embedder).refit(lambda *step: seen.append(step))
    # 2 distinct texts ("thanks!", "anytime 🙂"), then 2 held-out drafts
    assert seen == [
        ("embedding", 0, 2),
        ("embedding", 2, 2),
        ("drafting", 0, 2),
        ("drafting", 2, 2),
    ]


@pytest.mark.parametrize("phase", ["embedding", "drafting"])
def test_a_stopped_refit_stores_nothing(
    store: Store, embedder: Embedder, monkeypatch: pytest.MonkeyPatch, phase: str
) -> None:
    """Stopped while embedding or while drafting: nothing stored (a look after every
    text and every draft here)."""
    monkeypatch.setattr(calibration, "EMBED_BATCH", 1)
    monkeypatch.setattr(calibration, "PROGRESS_EVERY", 1)
    record_thanks(store, 4)
    stop = threading.Event()
    seen: list[tuple[str, int, int]] = []

    def progress(at: str, done: int, total: int) -> None:
        seen.append((at, done, total))
        if at == phase:
            stop.set()  # asked to stop now

    with pytest.raises(Stopped):
        Calibrations(store, embedder).refit(progress, stop)
    assert seen[-1] == (phase, 0, 2)  # stopped at its next look
    assert store.state.get(calibration.STATE_KEY) == ""
    assert Calibrations(store, embedder).current() is calibration.GLOBAL


def test_samples_draft_only_from_the_past(embedder: Embedder) -> None:
    """A reply said for the first time is never drafted from itself: its sample is not
    close, though the same words come up later."""
    first = datetime(2026, 1, 1, tzinfo=UTC)
    pairs = [
        Pair(1, "thanks!", "anytime 🙂", first),
        Pair(1, "thanks!", "anytime 🙂", first + timedelta(hours=1)),
        Pair(1, "how was Lisbon?", "too many hills", first + timedelta(hours=2)),
        Pair(1, "how was Lisbon?", "too many hills", first + timedelta(hours=3)),
    ]
    samples = held_out(embedder.embed, pairs)
    assert [s.close for s in samples] == [False, True]
