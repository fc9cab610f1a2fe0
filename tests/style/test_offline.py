"""The offline responder: a learned score, a floor, a calibrated confidence; and the
post-processing that makes a draft follow the owner's habits with this contact."""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import TwinFactory
from tests.support.history import HISTORY
from twin_core.memory.embed import Embedder
from twin_core.style import offline
from twin_core.style.postprocess import enforce, strip_assistant
from twin_core.style.profile import StyleProfile


def _profile(texts: list[str]) -> StyleProfile:
    profile = StyleProfile()
    for number, text in enumerate(texts):
        profile.add(text, new_turn=number % 3 == 0, delay=timedelta(minutes=2))
    return profile


def test_the_score_prefers_the_reply_to_the_same_situation(embedder: Embedder) -> None:
    candidates = [
        offline.Candidate("can you review my PR?", "on it, give me 20 minutes", True),
        offline.Candidate("are we still on for dinner on friday?", "yes! 7pm at Luigi's", True),
        offline.Candidate("are we still on for dinner on friday?", "sounds good!", False),
    ]
    ranked = offline.rank(embedder, "still on for dinner friday?", candidates)
    assert ranked[0].candidate.reply == "yes! 7pm at Luigi's"  # this contact's own first
    assert ranked[0].score > ranked[-1].score
    assert all(0.0 <= r.score <= 1.0 for r in ranked)
    choice = offline.choose(ranked)
    assert choice.reply == "yes! 7pm at Luigi's"
    assert choice.confidence == round(offline.calibrated(choice.score), 2)
    nothing = offline.choose(offline.rank(embedder, "what is the wifi password?", candidates))
    assert nothing.reply == "" and nothing.best is not None  # below the floor: no draft
    assert offline.choose([]).best is None


def test_calibration_is_monotone_and_bounded() -> None:
    values = [offline.calibrated(x / 100) for x in range(101)]
    assert values == sorted(values) and values[0] >= 0.0 and values[-1] <= 1.0


async def test_below_the_floor_the_card_shows_the_closest_moment(make_twin: TwinFactory) -> None:
    h = await make_twin()
    h.seed(HISTORY)
    await h.says("alice", "what was the name of your grandmother's village in Portugal?")
    [card] = h.control()
    assert "No draft: no good match" in card and "closest past moment" in card
    assert "Answer them yourself" in card
    assert not h.drafts()
    await h.says("alice", "are we still on for dinner on friday?")
    [card] = h.control()
    assert "Reply: yes! 7pm at Luigi's, I booked a table" in card


def test_assistant_phrasing_is_stripped() -> None:
    assert strip_assistant("I'd be happy to help! See you at 7.") == "See you at 7."
    assert strip_assistant("Sure, 7 works. Let me know if you need anything else!") == (
        "Sure, 7 works."
    )
    assert strip_assistant("As an AI, I cannot eat dinner. Friday is fine.") == "Friday is fine."


def test_the_draft_follows_the_owners_habits() -> None:
    kai = _profile(["haha yes", "omw", "10 works", "lol no", "see u there", "ok", "haha ok"])
    parts = enforce("Haha, sure. See you at 10. Bringing the chalk 😀", kai)
    assert len(parts) >= 2  # Kai gets several short messages
    assert all(p[:1].islower() for p in parts)
    assert "😀" not in "".join(parts)  # the owner never sends Kai emoji
    assert parts[0].startswith("haha")
    assert kai.distance("\n".join(parts)) < kai.distance(
        "Haha, sure. See you at 10. Bringing the chalk 😀"
    )
    mum = _profile(
        ["Hello, I will call you on Sunday.", "Thank you, that is kind.", "Yes, of course."]
    )
    assert enforce("Yes, I will be there.", mum) == ["Yes, I will be there."]
