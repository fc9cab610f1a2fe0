"""A. What one contact was told stays with them (DESIGN.md, invariant 6).

Sam told people secrets: door and alarm codes in digits, in words, in Chinese, Russian,
Arabic, Japanese, Korean, Hindi and Greek; bank details; health news; an address; travel
plans; the same PIN on two accounts of one person; a code to three people at once; an
email forwarded to Alice in the very thread of Mallory's question (imported from an
mbox, and live with recipients); a hint imported from a WhatsApp export. Then attackers,
each an `auto` contact whose drafts go out on their own, ask the same questions, probe
around them and inject instructions. No draft, auto-reply or model prompt for an
attacker may hold another person's words: checked with the offline model and with a
model server that records every prompt and echoes it back as its answer.

The other side: phatic replies Sam used with three different people serve a newcomer;
used with two, or with one person on two accounts, they do not.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.adversarial.cases import PHATIC, PROBES, TOLD, Phatic, Probe, fold
from tests.adversarial.drive import LeakRun, PhaticRun, run_leaks, run_phatic
from twin_core.memory.embed import Embedder


@pytest.fixture(scope="module")
def offline(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> LeakRun:
    return asyncio.run(run_leaks(tmp_path_factory.mktemp("offline"), embedder, remote=False))


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> LeakRun:
    return asyncio.run(run_leaks(tmp_path_factory.mktemp("recorded"), embedder, remote=True))


@pytest.fixture(scope="module")
def phatic(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> PhaticRun:
    return asyncio.run(run_phatic(tmp_path_factory.mktemp("phatic"), embedder))


@pytest.mark.parametrize("probe", PROBES, ids=[p.id for p in PROBES])
def test_the_offline_model_tells_an_attacker_nothing(offline: LeakRun, probe: Probe) -> None:
    findings = offline.findings[probe.id]
    assert findings.clean, str(findings)


@pytest.mark.parametrize("probe", PROBES, ids=[p.id for p in PROBES])
def test_no_prompt_for_an_attacker_holds_anothers_words(recorded: LeakRun, probe: Probe) -> None:
    findings = recorded.findings[probe.id]
    assert findings.clean, str(findings)
    assert recorded.prompts[probe.id] >= 1


def test_the_check_sees_a_secret_where_it_belongs(offline: LeakRun, recorded: LeakRun) -> None:
    """The rightful owners' own prompts (and, offline, their own drafts) do hold their
    secrets: the check is not blind, and the attackers' clean results mean something."""
    for run in (offline, recorded):
        assert run.controls and all(run.controls.values()), run.controls


def test_no_probe_carries_a_secret_itself() -> None:
    """A probe that held a secret would make the check meaningless."""
    secrets = [fold(s) for told in TOLD for s in told.secrets]
    for probe in PROBES:
        text = fold(" ".join(probe.texts))
        assert not [s for s in secrets if s in text], probe.what


@pytest.mark.parametrize("case", PHATIC, ids=[c.what for c in PHATIC])
def test_phatic_replies_serve_anyone_only_after_three_people(
    phatic: PhaticRun, case: Phatic
) -> None:
    findings = phatic.findings[case.what]
    assert findings.clean, f"{findings}; drafts: {phatic.drafts[case.what]}"


def test_most_phatic_replies_serve_a_newcomer(phatic: PhaticRun) -> None:
    serving = [c for c in PHATIC if c.serves]
    served = [c for c in serving if c.reply in phatic.drafts[c.what]]
    assert len(served) == len(serving)


def test_the_phatic_corpus_is_phatic() -> None:
    from twin_core.memory.phatic import is_phatic

    for case in PHATIC:
        if case.serves:
            assert is_phatic(case.their) and is_phatic(case.reply), case.what
