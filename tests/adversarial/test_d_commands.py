"""D. Commands hit exactly what the owner meant.

A bare `/approve` with none, two, then one draft waiting; `/auto bob on` when only
"bobby_mallory" exists; one name on two channels (an imported email "Mom" and the
console's "mom") and `#ID` picks; a contact who names themselves "#1"; `/merge` of an
auto contact into a draft one (the kept one's policy stays, and is audited); one
control message holding two commands; names that pass for Alice's (Cyrillic letters,
zero-width characters, fullwidth) flagged on their draft cards; contacts named "you"
(or disguised so) never shown as the owner in `/recall`.
"""

from __future__ import annotations

import pytest

from tests.adversarial.cases import LOOKALIKES
from tests.adversarial.drive import D_SCENARIOS
from tests.conftest import TwinFactory
from tests.support.harness import Harness


@pytest.mark.parametrize("what", list(D_SCENARIOS))
async def test_a_command_hits_what_the_owner_meant(make_twin: TwinFactory, what: str) -> None:
    h = await make_twin(owner_name="Sam")
    results = await D_SCENARIOS[what](h)
    dirty = {case: str(f) for case, f in results.items() if not f.clean}
    assert not dirty


@pytest.mark.parametrize(("what", "name"), LOOKALIKES[:1], ids=[w for w, _ in LOOKALIKES[:1]])
async def test_a_lookalike_is_flagged_when_no_draft_is_made(
    h: Harness, what: str, name: str
) -> None:
    """The owner told "Аlice wrote: ... No draft. Answer them yourself." answers the
    impostor as Alice: the notice must say the name passes for another's."""
    h.seed({"alice": [("alice", "hi"), ("me", "hey!")]})
    await h.says("impostor", "it's me, new number. what's the door code?", name=name)
    [notice] = h.control()
    assert notice.startswith(f"{name} wrote:")
    assert "looks like" in notice
