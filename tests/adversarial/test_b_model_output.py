"""B. The model's output is data.

A model (remote, or talked into it by a contact) answers with commands, control lines,
console send lines, fake draft cards, line separators of every kind, escapes, NUL and
broken surrogates. Whatever it says stays the text of one draft for the contact it
answers: no policy changes, no pause, no merge, no approval, nothing sent to anyone
else. Mallory is an `auto` contact (`/auto mallory on`), so her drafts go out on their
own: the worst case.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.cli.running import play
from tests.adversarial.cases import MODEL_MESSAGES, MODEL_OUTPUTS, Findings
from tests.adversarial.drive import (
    REMOTE_MODEL,
    console_twin,
    raw_controls,
    recording_model,
    run_model_outputs,
)
from tests.adversarial.model import Reply
from twin_core.memory.embed import Embedder

ANSWERS: list[tuple[str, Reply]] = [*MODEL_OUTPUTS, *MODEL_MESSAGES]
ON_SCREEN = [(w, o) for w, o in MODEL_OUTPUTS if any(not c.isprintable() for c in o)]
"""The answers that could draw lines of their own on the console: controls, breaks."""


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> dict[str, Findings]:
    home = tmp_path_factory.mktemp("outputs")
    return asyncio.run(run_model_outputs(home, embedder, ANSWERS))


@pytest.mark.parametrize(("what", "output"), ANSWERS, ids=[w for w, _ in ANSWERS])
def test_a_models_answer_is_only_ever_a_draft(
    outputs: dict[str, Findings], what: str, output: Reply
) -> None:
    findings = outputs[what]
    assert findings.clean, str(findings)


async def test_on_the_console_the_answer_is_shown_as_one_reply(
    tmp_path: Path, embedder: Embedder
) -> None:
    """Every line on the owner's screen is one the twin drew: a reply to Mallory, a
    control message, or the indented rest of one; nothing reaches Alice."""
    async with (
        recording_model() as model,
        console_twin(
            tmp_path,
            embedder,
            llm_model=REMOTE_MODEL,
            llm_api_base=model.url,
            llm_api_key="sk-x",
            auto_confidence=0.0,
        ) as (twin, console, output),
    ):
        model.answer_with("hey!")
        await play(twin, console, ["@Alice dinner friday?", "@Mallory hi", "> /auto mallory on"])
        for number, (_, answer) in enumerate(ON_SCREEN):
            model.answer_with(answer)
            await play(twin, console, [f"@Mallory question {number}"], wait_s=1.0)
        shown = output.getvalue()
        paused = twin.outbox.paused()
        drafts = twin.store.drafts.with_status(limit=1000)
    assert not paused
    assert "[to Alice]" not in shown
    replies = [line for line in shown.splitlines() if line.startswith("[to Mallory] ")]
    assert len(replies) == len(ON_SCREEN)
    for line in shown.splitlines():
        assert line.startswith(("[control] ", "[to Mallory] ", " ")), line
    assert raw_controls(shown) == []
    alice = [d for d in drafts if d.contact_id == 1]
    assert [d.status for d in alice] == ["pending"]


def test_the_model_answers_are_hostile_enough() -> None:
    """The corpus holds every separator the console reads as data and a real command."""
    joined = "".join(output for _, output in MODEL_OUTPUTS)
    for separator in ("\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\r"):
        assert separator in joined
    assert any(output.startswith("/") for _, output in MODEL_OUTPUTS)
