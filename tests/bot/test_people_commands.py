"""People memory through a real Twin: live messages read inline, the control commands,
the CLI with --json, the extraction job after an import, and the model extractor
through litellm (a local custom provider) with its answer validated."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import litellm
from litellm import CustomLLM, ModelResponse

from tests.conftest import TwinFactory
from tests.support.cli import Cli
from tests.support.events import event
from twin_core.memory.people import PeopleMemory
from twin_core.memory.people.model import ModelExtractor
from twin_core.memory.store import Store
from twin_core.style.llm import complete_json
from workers.jobs import JOBS, JobContext, extract_people


async def test_live_messages_become_promises_and_facts_the_owner_can_manage(
    make_twin: TwinFactory,
) -> None:
    h = await make_twin()
    await h.says("alice", "I'm allergic to peanuts. I'll call you back tomorrow.")
    await h.owner_writes("alice", "Great, I'll send you the menu on Friday.")
    promises = "\n".join(await h.command("/promises"))
    assert "alice → you" in promises.lower() and "you → " in promises
    assert "[open]" in promises
    facts = "\n".join(await h.command("/facts alice"))
    assert "allergy = peanuts" in facts and "I'm allergic to peanuts" in facts
    card = "\n".join(await h.command("/who alice"))
    assert "fake:alice" in card and "1 from them, 1 from you" in card
    assert "open promises: 2" in card and "allergy = peanuts" in card
    commitments = h.twin.people.repository.commitments()
    first = commitments[0].id
    assert (await h.command(f"/done {first}"))[0].startswith("Done: ")
    assert "already closed" in (await h.command(f"/done {first}"))[0]
    assert f"#{first} [done]" in (await h.command("/promises alice --all"))[0]
    assert f"#{first} [" not in (await h.command("/promises alice"))[0]
    assert "no promise #999" in (await h.command("/done 999"))[0]
    (fact,) = h.twin.people.repository.facts(commitments[0].contact_id)
    assert (await h.command(f"/forget-fact {fact.id}"))[0].startswith("Forgotten: ")
    assert "No facts held" in (await h.command("/facts alice"))[0]
    assert (await h.command("/checkins")) == ["Nobody is quieter than usual."]
    assert "no contact named 'zed'" in (await h.command("/who zed"))[0]
    actions = {e.action for e in h.twin.store.audit.entries(limit=100)}
    assert {"promise_done", "fact_forgotten"} <= actions


async def test_a_stranger_cannot_use_people_commands(make_twin: TwinFactory) -> None:
    h = await make_twin()
    await h.says("alice", "My wife is called Lena.")
    answer = await h.command("/facts alice", sender="mallory")
    assert answer and answer[0].startswith("Refused")


def test_the_cli_shows_the_same_with_json(tmp_path: Path, cli: Cli) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'twin.db'}")
    day = timedelta(days=1)
    start = datetime(2026, 1, 1, 9, tzinfo=UTC)
    store.messages.record_many(
        [event(f"a{n}", "hey, how are you?", at=start + n * 7 * day) for n in range(5)]
        + [event("p", "I'll send you the photos tomorrow.", at=start + 28 * day)]
    )
    store.close()
    home = ("--home", str(tmp_path))
    who = json.loads(cli(*home, "who", "alice", "--json").stdout)
    assert who["person"]["messages_from_them"] == 6 and who["person"]["usual_gap_days"] == 7.0
    assert who["person"]["gap_unusual"] is True  # months later, today
    promises = json.loads(cli(*home, "promises", "--json").stdout)
    (promise,) = promises["promises"]
    assert promise["due"] == "2026-01-30" and promise["status"] == "overdue"
    done = json.loads(cli(*home, "promises", "--done", str(promise["id"]), "--json").stdout)
    assert done["ok"] and done["promise"]["status"] == "done"
    checkins = json.loads(cli(*home, "checkins", "--json").stdout)
    assert checkins["checkins"][0]["name"] == "Alice"
    assert "you usually talk every 7 days" in checkins["checkins"][0]["reason"]
    unknown = cli(*home, "facts", "nobody")
    assert unknown.exit_code == 1 and "no contact named 'nobody'" in unknown.output


async def test_the_job_reads_an_import_with_progress(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'twin.db'}")
    start = datetime(2026, 1, 5, 9, tzinfo=UTC)
    store.messages.record_many(
        [
            event(
                f"m{n}",
                f"I'll pay you back in {n % 5 + 1} days" if n % 3 == 0 else "ok",
                at=start + timedelta(hours=n),
            )
            for n in range(300)
        ]
    )
    assert JOBS["extract_people"].queue == "work"
    people = PeopleMemory(store)
    result = await extract_people({"twin": JobContext(people=people)})
    assert result.startswith("read 300 messages") and "100 promises" in result
    assert people.pending() == 0
    again = await extract_people({"twin": JobContext(people=people)})
    assert again.startswith("read 0 messages")
    store.close()


class _Extractor(CustomLLM):
    """A model at a local provider: answers with a fixed JSON, half of it made up."""

    def __init__(self, answer: dict[str, Any]) -> None:
        super().__init__()
        self.answer = answer
        self.seen: list[Any] = []

    def completion(
        self, model: str, messages: list[Any], *args: Any, **kwargs: Any
    ) -> ModelResponse:
        self.seen.append((messages, kwargs.get("optional_params", {})))
        return ModelResponse(
            model=model,
            choices=[
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": json.dumps(self.answer)},
                }
            ],
        )


def test_the_model_adds_what_rules_miss_and_nothing_the_message_does_not_say() -> None:
    text = "Leave the paperwork with me, sorted by Friday. Oh and Ana is my wife."
    answer = {
        "commitments": [
            {"quote": "sorted by Friday", "action": "do", "due": "by Friday", "confidence": 1.5},
            {"quote": "I will buy you a car", "action": "buy", "due": None, "confidence": 0.9},
        ],
        "facts": [
            {"kind": "partner", "value": "Ana", "quote": "Ana is my wife", "confidence": 0.8},
            {"kind": "city", "value": "Paris", "quote": "Ana is my wife", "confidence": 0.9},
            {"kind": "password", "value": "Ana", "quote": "Ana is my wife", "confidence": 0.9},
        ],
    }
    provider = _Extractor(answer)
    litellm.custom_provider_map = [
        *[p for p in litellm.custom_provider_map if p.get("provider") != "peopletest"],
        {"provider": "peopletest", "custom_handler": provider},
    ]

    def ask(messages: list[dict[str, str]], schema: dict[str, Any]) -> str:
        return complete_json(messages, model="peopletest/x", schema=schema)

    extractor = ModelExtractor(ask, "peopletest/x")
    found = extractor(text, datetime(2026, 3, 4, 10, tzinfo=UTC), UTC)
    (promise,) = found.commitments
    assert promise.confidence == 0.9 and promise.due is not None
    assert promise.due.day.isoformat() == "2026-03-06"
    assert [(f.kind, f.value) for f in found.facts] == [("partner", "Ana")]
    messages, _ = provider.seen[0]
    assert "<message>\n" + text in messages[-1]["content"]  # quoted as data


def test_a_model_answering_nonsense_leaves_the_rules_findings() -> None:
    extractor = ModelExtractor(lambda messages, schema: "not json", "broken")
    found = extractor("I'll call you tomorrow.", datetime(2026, 3, 4, 10, tzinfo=UTC), UTC)
    assert [c.action for c in found.commitments] == ["call"]
