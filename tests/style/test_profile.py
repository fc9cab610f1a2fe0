"""Style profiles: learned from the owner's messages to one contact, incrementally;
shown by `/style NAME` and `twin style NAME`."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from tests.conftest import TwinFactory
from tests.support.cli import Cli
from tests.support.events import T0, event
from twin_core.memory.store import Store
from twin_core.style.learning import StyleProfiles
from twin_core.style.profile import StyleProfile

MUM = ["Hello dear, I will call you on Sunday.", "Thank you, I appreciate it.", "Yes, of course."]
KAI = ["haha yes", "lol no way 😂", "omw", "10 works", "haha see u there 🙌"]


def _profile(texts: list[str]) -> StyleProfile:
    profile = StyleProfile()
    for text in texts:
        profile.add(text, new_turn=True, delay=timedelta(minutes=3))
    return profile


def test_the_profile_tells_a_mother_from_a_climbing_partner() -> None:
    mum, kai = _profile(MUM), _profile(KAI)
    assert mum.lowercase is False and kai.lowercase is True
    assert kai.summary()["laughter"][0] == "haha"
    assert kai.summary()["emoji_share"] == 0.4 and mum.summary()["emoji_share"] == 0
    assert mum.formality > kai.formality
    assert mum.summary()["typical_delay"] == "a few minutes"
    # a draft in Kai's register is close to Kai's profile and far from mum's
    draft = "haha yes 🙌"
    assert kai.distance(draft) < mum.distance(draft)
    assert mum.distance("Yes, I will call you.") < kai.distance("Yes, I will call you.")
    assert kai.distance("As an AI, I'd be happy to help!") == 1.0
    assert 0.0 <= kai.distance("x" * 400) <= 1.0
    assert any("lower case" in line for line in kai.instructions())
    assert any("no emoji" in line.lower() for line in mum.instructions())


def test_profiles_grow_incrementally_and_survive_a_restart(store: Store) -> None:
    for number, text in enumerate(KAI[:3]):
        at = T0 + timedelta(minutes=10 * number)
        store.messages.record(event(f"k{number}", "?", sender="kai", chat="kai", at=at))
        store.messages.record(
            event(
                f"s{number}",
                text,
                sender="me",
                chat="kai",
                from_owner=True,
                at=at + timedelta(minutes=1),
            )
        )
    contact = store.contacts.find("Kai")
    assert contact.id is not None
    first = StyleProfiles(store).of(contact.id)
    assert first.overall.messages == 3 and first.overall.turns == 3
    store.messages.record(
        event("s9", KAI[3], sender="me", chat="kai", from_owner=True, at=T0 + timedelta(hours=1))
    )
    again = StyleProfiles(store).of(contact.id)  # a new reader: read back from the store
    assert again.overall.messages == 4 and again.last_id > first.last_id
    assert again.overall.summary()["typical_delay"] == "under a minute"


async def test_style_command_shows_how_you_write_to_them(make_twin: TwinFactory) -> None:
    h = await make_twin()
    h.seed(
        {
            "kai": [
                (("kai" if i % 2 == 0 else "me"), t)
                for i, t in enumerate(x for pair in zip(["yo"] * 5, KAI, strict=True) for x in pair)
            ]
        }
    )
    [answer] = await h.command("/style kai")
    assert answer.startswith("How you write to Kai:")
    assert "laughter: haha" in answer and "5 messages" in answer
    [unknown] = await h.command("/style nobody")
    assert "nobody" in unknown.lower()


def test_twin_style_prints_the_profile_as_json(cli: Cli, tmp_path: Path) -> None:
    home = ["--home", str(tmp_path)]
    cli(*home, "console", input="@Kai yo\n")
    store = Store.open(f"sqlite:///{tmp_path / 'twin.db'}")
    contact = store.contacts.find("Kai")
    conversation_id = store.conversations.with_contact(contact.id or 0)[0]
    chat = store.conversations.get(conversation_id)
    assert chat is not None
    for number, text in enumerate(KAI):
        store.messages.record(
            event(
                f"s{number}",
                text,
                sender="me",
                chat=chat.external_id,
                channel=chat.channel,
                from_owner=True,
                at=T0 + timedelta(minutes=number),
            )
        )
    store.close()
    result = cli(*home, "style", "Kai", "--json")
    assert result.exit_code == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["contact"] == "Kai" and shown["profile"]["messages"] == 5
    assert shown["profile"]["laughter"][0] == "haha"
    missing = cli(*home, "style", "Nobody")
    assert missing.exit_code == 1
