"""The owner's people-memory actions: `/who`, `/promises`, `/done`, `/facts`,
`/forget-fact`, `/checkins` (and `twin who|promises|facts|checkins`). Part of the one
owner-actions service (`OwnerActions.people`); every change is audited."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from bot.handlers.actions import ContactNotFound, Outcome, UsageProblem, find_contact
from twin_core.memory.models import Contact
from twin_core.memory.people import PeopleMemory
from twin_core.memory.people.cards import Card, CheckIn, FactLine, PeopleCards, PromiseLine
from twin_core.memory.store import OWNER_ACTOR, Store
from twin_core.settings import Settings

T = TypeVar("T")
REFRESH_AT_MOST = 2000


@dataclass(frozen=True, slots=True)
class ContactCard(Outcome):
    person: Card

    @property
    def text(self) -> str:
        return self.person.describe()


@dataclass(frozen=True, slots=True)
class Promises(Outcome):
    contact: str | None
    promises: list[PromiseLine] = field(default_factory=list)

    @property
    def text(self) -> str:
        whose = f" with {self.contact}" if self.contact else ""
        if not self.promises:
            return f"No open promises{whose}."
        return f"Open promises{whose}:\n" + "\n".join(p.describe() for p in self.promises)


@dataclass(frozen=True, slots=True)
class PromiseClosed(Outcome):
    promise: PromiseLine

    @property
    def text(self) -> str:
        return f"Done: {self.promise.describe()}"


@dataclass(frozen=True, slots=True)
class Facts(Outcome):
    contact: str
    facts: list[FactLine] = field(default_factory=list)

    @property
    def text(self) -> str:
        if not self.facts:
            return f"No facts held about {self.contact}."
        return f"Facts ({self.contact}):\n" + "\n".join(f.describe() for f in self.facts)


@dataclass(frozen=True, slots=True)
class FactForgotten(Outcome):
    fact: FactLine

    @property
    def text(self) -> str:
        return f"Forgotten: {self.fact.describe()}"


@dataclass(frozen=True, slots=True)
class CheckIns(Outcome):
    checkins: list[CheckIn] = field(default_factory=list)

    @property
    def text(self) -> str:
        if not self.checkins:
            return "Nobody is quieter than usual."
        return "Quieter than usual:\n" + "\n".join(f"{c.name}: {c.reason}" for c in self.checkins)


def make_people(settings: Settings, store: Store) -> PeopleMemory:
    """People memory as configured: rules, plus `TWIN_PEOPLE_MODEL` when one is set."""
    if not settings.people_model:
        return PeopleMemory(store, timezone=settings.tz)
    from twin_core.memory.people.model import ModelExtractor
    from twin_core.style.llm import complete_json

    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None

    def ask(messages: list[dict[str, str]], schema: dict[str, Any]) -> str:
        return complete_json(
            messages,
            model=settings.people_model,
            schema=schema,
            api_key=key,
            api_base=settings.llm_api_base,
            timeout=settings.llm_timeout_s,
        )

    return PeopleMemory(
        store,
        timezone=settings.tz,
        extractor=ModelExtractor(ask, settings.people_model),
        extractor_name=settings.people_model,
    )


class PeopleActions:
    def __init__(self, settings: Settings, store: Store) -> None:
        self.store = store
        self.cards = PeopleCards(store, settings.tz)
        self.people = make_people(settings, store)

    @staticmethod
    async def _run(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await asyncio.to_thread(function, *args, **kwargs)

    def _find(self, name: str) -> Contact | ContactNotFound:
        return find_contact(self.store, name)

    def _refresh(self) -> None:
        """Read up to the newest message first when little is pending (live messages
        are read as they arrive; a large backlog is the extraction job's)."""
        if self.people.pending() <= REFRESH_AT_MOST:
            self.people.catch_up()

    async def _contact(self, name: str) -> Contact | ContactNotFound:
        await self._run(self._refresh)
        return await self._run(self._find, name)

    async def who(self, name: str) -> Outcome:
        if not name.strip():
            return UsageProblem("say whom: /who NAME")
        contact = await self._contact(name)
        if isinstance(contact, ContactNotFound):
            return contact
        return ContactCard(await self._run(self.cards.card, contact))

    async def promises(self, name: str | None = None, *, include_done: bool = False) -> Outcome:
        if name:
            contact = await self._contact(name)
            if isinstance(contact, ContactNotFound):
                return contact
            found = await self._run(self.cards.promises, contact.id, include_done=include_done)
            return Promises(contact.name, found)
        await self._run(self._refresh)
        return Promises(None, await self._run(self.cards.promises, include_done=include_done))

    async def done(self, number: int) -> Outcome:
        closed = await self._run(
            self.people.repository.close, number, "closed by the owner (/done)"
        )
        commitment = await self._run(self.people.repository.commitment, number)
        if commitment is None:
            return UsageProblem(f"no promise #{number} (see /promises)")
        names = await self._run(self.store.contacts.names)
        line = self.cards.promise_line(commitment, names, datetime.now(UTC))
        if not closed:
            return UsageProblem(f"promise #{number} is already closed: {line.closed_reason}")
        await self._run(
            self.store.audit.record,
            OWNER_ACTOR,
            "promise_done",
            line.contact,
            f"closed promise #{number}",
            promise=number,
        )
        return PromiseClosed(line)

    async def facts(self, name: str, *, history: bool = False) -> Outcome:
        if not name.strip():
            return UsageProblem("say whose: /facts NAME")
        contact = await self._contact(name)
        if isinstance(contact, ContactNotFound):
            return contact
        assert contact.id is not None
        return Facts(contact.name, await self._run(self.cards.facts, contact.id, history=history))

    async def forget_fact(self, number: int) -> Outcome:
        fact = await self._run(self.people.repository.fact, number)
        if fact is None or fact.id is None:
            return UsageProblem(f"no fact #{number} (see /facts NAME)")
        names = await self._run(self.store.contacts.names)
        sources = await self._run(self.store.messages.by_ids, [fact.message_id])
        line = self.cards.fact_line(fact, names, sources)
        await self._run(self.people.repository.forget_fact, number)
        await self._run(
            self.store.audit.record,
            OWNER_ACTOR,
            "fact_forgotten",
            line.contact,
            f"forgot fact #{number} ({line.kind})",
            fact=number,
        )
        return FactForgotten(line)

    async def checkins(self) -> Outcome:
        await self._run(self._refresh)
        return CheckIns(await self._run(self.cards.checkins))
