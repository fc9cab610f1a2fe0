"""Owner actions: everything the owner can tell the twin to do, in one typed service.

The control chat (`bot.handlers.control`) and the CLI (`bot.cli`) are two faces of this
one service: `/merge` and `twin contacts merge` run the same code and get the same
typed outcome, each with the sentence it is told in (`text`) and its data (`data`).

Commands that send or change a policy hit exactly what the owner meant: a contact by
its exact name (case-folded) or `#ID`, never by a prefix; a name several contacts fit is
answered with the candidates and their channels; a bare `/approve` only when exactly one
draft waits.
"""

from __future__ import annotations

import asyncio
import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from bot.handlers.outbox import PAUSED_KEY, SendOutcome, SendResult
from twin_core.memory.models import Contact, Draft, DraftStatus
from twin_core.memory.names import skeleton
from twin_core.memory.recall import RecallError, RecallHit
from twin_core.memory.service import Memory
from twin_core.memory.store import OWNER_ACTOR, Store, UnknownContact
from twin_core.memory.store.contacts import AmbiguousContact, base_name, lookup_key
from twin_core.memory.text import shorten
from twin_core.settings import Settings
from twin_core.style.learning import StyleProfiles
from twin_core.types import ContactId, DraftId, PolicyMode

T = TypeVar("T")

POLICY_WORDS = {
    "on": PolicyMode.AUTO,
    "auto": PolicyMode.AUTO,
    "off": PolicyMode.OFF,
    "draft": PolicyMode.DRAFT,
}
POLICY_MEANING = {
    PolicyMode.AUTO: "confident replies go out on their own; the rest come to you",
    PolicyMode.OFF: "the twin stays silent with them",
    PolicyMode.DRAFT: "every reply waits for your approval",
}
OWNER_WORDS = frozenset({"you", "me", "i", "owner", "myself", "yourself"})
"""Words the twin uses for the owner: a contact called so is always shown as a contact."""


class Delivery(Protocol):
    """How an approved draft goes out: the bot's outbox, or a queue to it (the CLI)."""

    async def deliver(self, draft_id: DraftId) -> SendOutcome: ...

    async def release_held(self) -> list[SendOutcome]: ...


# -- outcomes --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DraftLine:
    id: DraftId
    contact: str
    status: str
    confidence: float
    text: str

    @classmethod
    def of(cls, draft: Draft, contact: str) -> DraftLine:
        assert draft.id is not None
        return cls(draft.id, contact, str(draft.status), draft.confidence, draft.text)

    def describe(self) -> str:
        held = " (approved, held)" if self.status == DraftStatus.APPROVED else ""
        return f"{self.id}. {self.contact}{held} [{self.confidence:.2f}]: {shorten(self.text, 100)}"


@dataclass(frozen=True, slots=True)
class Outcome(ABC):
    """Every action's answer: `ok` says whether it did what was asked, `text` says it
    in a sentence, `data()` gives it as JSON-ready data."""

    @property
    def ok(self) -> bool:
        return True

    @property
    @abstractmethod
    def text(self) -> str: ...

    @property
    def card(self) -> str | None:
        """The card this outcome settles (`draft:3`), shown on it where a channel can."""
        return None

    def data(self) -> dict[str, Any]:
        fields = {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}
        return {
            "event": "control",
            "outcome": type(self).__name__,
            "ok": self.ok,
            "text": self.text,
            **fields,
        }


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class Failure(Outcome):
    """An outcome that did not do what was asked (the text says why)."""

    @property
    def ok(self) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class Drafts(Outcome):
    drafts: list[DraftLine]

    @property
    def text(self) -> str:
        if not self.drafts:
            return "No drafts waiting."
        return "\n".join(d.describe() for d in self.drafts)


@dataclass(frozen=True, slots=True)
class ChooseDraft(Failure):
    """A bare `/approve` with no draft, or several, waiting."""

    command: str
    waiting: list[DraftLine]

    @property
    def text(self) -> str:
        if not self.waiting:
            return "No draft is waiting."
        lines = [f"{len(self.waiting)} drafts are waiting; say which: /{self.command} N"]
        return "\n".join([*lines, *(d.describe() for d in self.waiting)])


@dataclass(frozen=True, slots=True)
class NoSuchDraft(Failure):
    number: int

    @property
    def card(self) -> str | None:
        return draft_card_key(self.number)

    @property
    def text(self) -> str:
        return f"There is no draft {self.number} (see /drafts)."


@dataclass(frozen=True, slots=True)
class DraftClosed(Failure):
    number: int
    status: str

    @property
    def card(self) -> str | None:
        return draft_card_key(self.number)

    @property
    def text(self) -> str:
        return f"Draft {self.number} is {self.status}; nothing to do."


@dataclass(frozen=True, slots=True)
class Approved(Outcome):
    number: int
    contact: str
    edited: bool
    delivery: SendOutcome

    @property
    def ok(self) -> bool:
        return self.delivery.result in (
            SendResult.SENT,
            SendResult.HELD,
            SendResult.QUEUED,
            SendResult.DEFERRED,
        )

    @property
    def card(self) -> str | None:
        return draft_card_key(self.number)

    @property
    def text(self) -> str:
        result = self.delivery.result
        if result is SendResult.SENT:
            return f"Sent to {self.contact}."
        if result is SendResult.HELD:
            return (
                f"Draft {self.number} approved; it goes to {self.contact} on /resume "
                "(the twin is paused)."
            )
        if result is SendResult.QUEUED:
            return (
                f"Draft {self.number} approved; the running twin sends it to {self.contact} "
                "(or, if none runs, it goes out at the next `twin run`)."
            )
        if result is SendResult.DEFERRED:
            return (
                f"Draft {self.number} approved; it waits for {self.contact}: "
                f"{self.delivery.detail}."
            )
        if result is SendResult.FAILED:
            return f"Draft {self.number} to {self.contact} failed: {self.delivery.detail}"
        return f"Draft {self.number} to {self.contact} was not sent: {self.delivery.detail}"


@dataclass(frozen=True, slots=True)
class Rejected(Outcome):
    number: int
    contact: str

    @property
    def card(self) -> str | None:
        return draft_card_key(self.number)

    @property
    def text(self) -> str:
        return f"Draft {self.number} rejected."


@dataclass(frozen=True, slots=True)
class Cancelled(Outcome):
    number: int
    contact: str

    @property
    def text(self) -> str:
        return f"Draft {self.number} to {self.contact} is cancelled: it will not go out."


@dataclass(frozen=True, slots=True)
class Reasoning(Outcome):
    """`/why N`: the whole reasoning behind draft N."""

    number: int
    contact: str
    status: str
    confidence: float
    steps: list[str]
    verdict: str | None
    draft: str = ""

    @property
    def text(self) -> str:
        lines = [f"Why draft {self.number} for {self.contact} ({self.status}):"]
        if self.draft:
            lines.append(f"“{shorten(self.draft, 300)}”")
        lines += [f"{i}. {step}" for i, step in enumerate(self.steps, start=1)]
        if self.verdict:
            lines.append(f"Your verdict: {self.verdict}.")
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Taught(Outcome):
    number: int
    contact: str
    verdict: str
    previous: str | None

    @property
    def text(self) -> str:
        changed = (
            f" (was {self.previous})" if self.previous and self.previous != self.verdict else ""
        )
        meaning = (
            "answering like this was right"
            if self.verdict == "good"
            else "this should not have been answered this way"
        )
        return (
            f"Noted for draft {self.number} to {self.contact}: {self.verdict}{changed}, "
            f"{meaning}. The twin learns it at its next retraining."
        )


@dataclass(frozen=True, slots=True)
class ContactNotFound(Failure):
    """No contact, or several, fit the name: `candidates` lists the latter."""

    query: str
    message: str
    candidates: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True)
class PolicySet(Outcome):
    contact: str
    mode: PolicyMode
    previous: PolicyMode | None
    threshold: float | None = None
    """The contact's own auto-send threshold, when set."""

    @property
    def text(self) -> str:
        own = f"; their own threshold {self.threshold:.2f}" if self.threshold is not None else ""
        return f"{self.contact}: {self.mode.value} ({POLICY_MEANING[self.mode]}{own})."


@dataclass(frozen=True, slots=True)
class UsageProblem(Failure):
    message: str

    @property
    def text(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True)
class MergeDone(Outcome):
    kept: str
    merged: str
    handles: list[str]
    policy: PolicyMode
    """The kept contact's policy, which now applies to both."""
    kept_own_policy: bool
    """False when the kept contact had none of its own (the default applies)."""
    dropped_policy: PolicyMode | None

    @property
    def text(self) -> str:
        own = "its own" if self.kept_own_policy else "the default"
        line = (
            f"{self.merged} is now part of {self.kept} ({', '.join(self.handles)}). "
            f"Policy: {self.policy.value}, {own} policy of {self.kept}"
        )
        if self.dropped_policy is not None and self.dropped_policy != self.policy:
            line += f"; {self.merged}'s {self.dropped_policy.value} no longer applies"
        return line + "."


@dataclass(frozen=True, slots=True)
class PauseChanged(Outcome):
    paused: bool
    released: list[SendOutcome] = field(default_factory=list)

    @property
    def text(self) -> str:
        if self.paused:
            return "Paused: nothing goes out until /resume. Drafts still come to you."
        sent = sum(1 for o in self.released if o.sent)
        return "Resumed." + (f" Sent {sent} held draft(s)." if sent else "")


@dataclass(frozen=True, slots=True)
class RecallAnswer(Outcome):
    query: str
    hits: list[RecallHit]
    names: dict[int, str]
    owner_name: str = ""

    @property
    def text(self) -> str:
        return format_recall(self.query, self.hits, self.names, self.owner_name)

    def data(self) -> dict[str, Any]:
        return {
            "event": "recall",
            "query": self.query,
            "hits": [
                {
                    "message_id": h.message.id,
                    "speaker": "you"
                    if h.message.from_owner
                    else speaker_label(h.speaker, self.owner_name),
                    "from_owner": h.message.from_owner,
                    "conversation": speaker_label(h.conversation, self.owner_name),
                    "sent_at": h.message.sent_at.isoformat(),
                    "text": h.message.text,
                    "score": round(h.score, 3),
                    "why": h.why,
                }
                for h in self.hits
            ],
        }


@dataclass(frozen=True, slots=True)
class StyleShown(Outcome):
    """How the owner writes to a contact (`/style NAME`, `twin style NAME`)."""

    contact: str
    profile: dict[str, Any]
    lines: list[str]
    channels: dict[str, list[str]] = field(default_factory=dict)
    """Channels where the owner writes to them differently, each described apart."""
    channel_profiles: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def text(self) -> str:
        out = [f"How you write to {self.contact}:", *(f"  {line}" for line in self.lines)]
        for channel, lines in self.channels.items():
            out.append(f"On {channel}:")
            out.extend(f"  {line}" for line in lines)
        return "\n".join(out)

    def data(self) -> dict[str, Any]:
        return {
            "event": "style",
            "contact": self.contact,
            "profile": self.profile,
            "channels": self.channel_profiles,
            "text": self.text,
        }


@dataclass(frozen=True, slots=True)
class RecallFailed(Failure):
    message: str

    @property
    def text(self) -> str:
        return self.message


def draft_card_key(number: int) -> str:
    """The card of draft `number`, as `OutboundMessage.card` names it."""
    return f"draft:{number}"


def speaker_label(name: str, owner_name: str = "") -> str:
    """How a contact is named where the owner is "you": a contact whose name is one of
    the words for the owner (or the owner's own name) is marked as a contact. Names
    are compared as they look (`names.skeleton`): "yоu" with a Cyrillic о, "yo\u200bu"
    with an invisible space and fullwidth "ｙｏｕ" all read as "you" on screen, and so
    does "You (telegram)", a second "You" told apart by its channel."""
    keys = {lookup_key(name), skeleton(name), skeleton(base_name(name))}
    owner = {lookup_key(owner_name), skeleton(owner_name)} if owner_name else set()
    if keys & (OWNER_WORDS | owner):
        return f"{name} (a contact)"
    return name


def format_recall(
    query: str, hits: Sequence[RecallHit], names: dict[int, str], owner_name: str = ""
) -> str:
    """The text `/recall` and `twin recall` show; `names` maps contact ids to names."""
    if not hits:
        return f'Nothing found for "{shorten(query, 80)}".'
    lines = [f'{len(hits)} moment(s) for "{shorten(query, 80)}":']
    for number, hit in enumerate(hits, start=1):
        lines.append(
            f"{number}. {speaker_label(hit.conversation, owner_name)}, "
            f"{hit.message.sent_at.astimezone():%Y-%m-%d %H:%M} "
            f"(score {hit.score:.2f}; {hit.why})"
        )
        for message in hit.context:
            marker = ">" if message.id == hit.message.id else " "
            who = (
                "you"
                if message.from_owner
                else speaker_label(names.get(message.contact_id or 0, "?"), owner_name)
            )
            lines.append(f"   {marker} {who}: {shorten(message.text, 160)}")
    return "\n".join(lines)


# -- the service -----------------------------------------------------------------------


def find_contact(store: Store, name: str) -> Contact | ContactNotFound:
    """The contact the owner named (blocking), or why none is: unknown, or ambiguous
    with the candidates. Every owner action that takes a name finds it here."""
    try:
        return store.contacts.find(name)
    except AmbiguousContact as exc:
        return ContactNotFound(name, str(exc), [c.name for c in exc.candidates])
    except UnknownContact as exc:
        return ContactNotFound(name, str(exc))


class OwnerActions:
    """What the owner can do, whatever face they use. Blocking work runs off the loop."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        delivery: Delivery,
        memory: Memory | None = None,
        on_merged: Callable[[], None] = lambda: None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.delivery = delivery
        self.memory = memory
        self.on_merged = on_merged
        """Told after a merge (the composer's caches of who is whom)."""
        from bot.handlers.people_actions import PeopleActions

        self.people = PeopleActions(settings, store)
        """/who, /promises, /done, /facts, /forget-fact, /checkins."""

    @staticmethod
    async def _run(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await asyncio.to_thread(function, *args, **kwargs)

    def _name(self, contact_id: ContactId) -> str:
        contact = self.store.contacts.get(contact_id)
        return contact.name if contact else "?"

    def _lines(self, *statuses: DraftStatus) -> list[DraftLine]:
        names = self.store.contacts.names()
        return [
            DraftLine.of(d, names.get(ContactId(d.contact_id), "?"))
            for d in self.store.drafts.with_status(*statuses)
        ]

    async def drafts(self) -> Drafts:
        """Drafts waiting for the owner, and approved ones held by /pause."""
        return Drafts(await self._run(self._lines, DraftStatus.PENDING, DraftStatus.APPROVED))

    async def approve(self, number: DraftId | None, text: str | None = None) -> Outcome:
        """Send draft `number` (as it is, or as `text`). Without a number, only when
        exactly one draft waits; otherwise the waiting ones are listed."""
        if number is None:
            waiting = await self._run(self._lines, DraftStatus.PENDING)
            if len(waiting) != 1:
                return ChooseDraft("approve" if text is None else "edit", waiting)
            number = waiting[0].id
        draft = await self._run(self.store.drafts.get, number)
        if draft is None:
            return NoSuchDraft(number)
        moved = await self._run(
            self.store.drafts.move, number, [DraftStatus.PENDING], DraftStatus.APPROVED, text=text
        )
        if not moved:
            current = await self._run(self.store.drafts.get, number)
            return DraftClosed(number, str(current.status if current else "gone"))
        action = "edited" if text is not None else "approved"
        name = await self._run(self._name, draft.contact_id)
        await self._run(
            self.store.audit.record,
            OWNER_ACTOR,
            action,
            name,
            f"you {action} draft {number}",
            draft_id=number,
            **({"text": text} if text is not None else {}),
        )
        outcome = await self.delivery.deliver(number)
        return Approved(number, name, text is not None, outcome)

    async def reject(self, number: DraftId | None, *, cancel: bool = False) -> Outcome:
        """Drop a draft, or (`cancel`) stop an automatic reply waiting to go out."""
        if number is None:
            waiting = await self._run(self._lines, DraftStatus.PENDING, DraftStatus.APPROVED)
            if len(waiting) != 1:
                return ChooseDraft("reject", waiting)
            number = waiting[0].id
        draft = await self._run(self.store.drafts.get, number)
        if draft is None:
            return NoSuchDraft(number)
        if not await self._run(
            self.store.drafts.move,
            number,
            [DraftStatus.PENDING, DraftStatus.APPROVED],
            DraftStatus.REJECTED,
        ):
            return DraftClosed(number, str(draft.status))
        name = await self._run(self._name, draft.contact_id)
        await self._run(
            self.store.audit.record,
            OWNER_ACTOR,
            "cancelled" if cancel else "rejected",
            name,
            "you cancelled the automatic reply" if cancel else "you rejected it",
            draft_id=number,
        )
        return Cancelled(number, name) if cancel else Rejected(number, name)

    async def why(self, number: DraftId | None) -> Outcome:
        """The whole reasoning behind draft `number` (without one, the only draft waiting)."""
        if number is None:
            waiting = await self._run(self._lines, DraftStatus.PENDING)
            if len(waiting) != 1:
                return ChooseDraft("why", waiting)
            number = waiting[0].id
        draft = await self._run(self.store.drafts.get, number)
        if draft is None:
            return NoSuchDraft(number)
        name = await self._run(self._name, draft.contact_id)
        decision = await self._run(self.store.decisions.for_draft, number)
        steps = list(decision.steps) if decision else []
        if not steps:  # a draft from before decisions were recorded
            steps = [f"confidence {draft.confidence:.2f}: " + "; ".join(draft.reasons)]
        return Reasoning(
            number,
            name,
            str(draft.status),
            draft.confidence,
            steps,
            decision.verdict if decision else None,
            draft.text,
        )

    async def teach(self, number: DraftId | None, verdict: str) -> Outcome:
        """The owner's verdict on draft `number` (`good` or `bad`): the reply-or-not
        model and the confidence calibration learn from it."""
        if number is None or verdict not in ("good", "bad"):
            return UsageProblem("usage: /teach N good|bad")
        draft = await self._run(self.store.drafts.get, number)
        if draft is None:
            return NoSuchDraft(number)
        name = await self._run(self._name, draft.contact_id)
        try:
            previous = await self._run(self.store.decisions.judge, number, verdict)
        except KeyError:
            return UsageProblem(
                f"draft {number} was made before the twin recorded its reasoning; "
                "there is nothing to learn from it"
            )
        await self._run(
            self.store.audit.record,
            OWNER_ACTOR,
            "taught",
            name,
            f"you judged draft {number} {verdict}",
            draft_id=number,
            verdict=verdict,
            previous=previous,
        )
        return Taught(number, name, verdict, previous)

    def _find(self, name: str) -> Contact | ContactNotFound:
        return find_contact(self.store, name)

    async def set_policy(
        self, name: str, mode: PolicyMode, *, threshold: float | None = None
    ) -> Outcome:
        """Set a contact's policy and, when given, their own auto-send threshold."""
        found = await self._run(self._find, name)
        if isinstance(found, ContactNotFound):
            return found
        assert found.id is not None
        previous = await self._run(self.store.policies.set, found.id, mode, threshold=threshold)
        await self._run(
            self.store.audit.record,
            OWNER_ACTOR,
            "policy",
            found.name,
            f"set to {mode.value}"
            + (f" with threshold {threshold:.2f}" if threshold is not None else ""),
            contact_id=found.id,
            previous=previous.value if previous else None,
            threshold=threshold,
        )
        return PolicySet(found.name, mode, previous, threshold)

    async def merge(self, keep: str, other: str) -> Outcome:
        """`other` is the same person as `keep`: one contact. `keep`'s policy stays."""
        kept = await self._run(self._find, keep)
        if isinstance(kept, ContactNotFound):
            return kept
        merged = await self._run(self._find, other)
        if isinstance(merged, ContactNotFound):
            return merged
        assert kept.id is not None and merged.id is not None
        if kept.id == merged.id:
            return UsageProblem(f"{kept.name} and {merged.name} are already one contact")
        if self.memory is not None:
            result = await self._run(self.memory.merge_contacts, merged.id, kept.id)
        else:
            result = await self._run(self.store.contacts.merge, merged.id, kept.id)
        self.on_merged()
        policy = result.kept_policy or PolicyMode(self.settings.default_policy)
        handles = await self._run(self.store.contacts.handles, kept.id)
        outcome = MergeDone(
            kept.name,
            result.merged_name,
            [f"{h.channel}:{h.external_id}" for h in handles],
            policy,
            result.kept_policy is not None,
            result.dropped_policy,
        )
        await self._run(
            self.store.audit.record,
            OWNER_ACTOR,
            "merge",
            kept.name,
            f"{result.merged_name} is the same person; {kept.name}'s policy "
            f"{policy.value} applies to both",
            kept_id=kept.id,
            merged_id=merged.id,
            policy=policy.value,
            dropped_policy=result.dropped_policy.value if result.dropped_policy else None,
        )
        return outcome

    async def pause(self) -> PauseChanged:
        await self._run(self.store.state.set, PAUSED_KEY, "1")
        await self._run(self.store.audit.record, OWNER_ACTOR, "pause", why="you paused the twin")
        return PauseChanged(True)

    async def resume(self) -> PauseChanged:
        await self._run(self.store.state.set, PAUSED_KEY, "0")
        await self._run(self.store.audit.record, OWNER_ACTOR, "resume", why="you resumed the twin")
        return PauseChanged(False, await self.delivery.release_held())

    async def recall(self, query: str, contact: str | None = None, limit: int = 5) -> Outcome:
        if self.memory is None:
            return RecallFailed("recall is not open in this process")
        contact_id = None
        if contact is not None:
            found = await self._run(self._find, contact)
            if isinstance(found, ContactNotFound):
                return found
            contact_id = found.id
        memory = self.memory
        try:
            hits = await self._run(memory.recall, query, contact_id=contact_id, limit=limit)
        except RecallError as exc:
            return RecallFailed(str(exc))
        names = await self._run(self.store.contacts.names)
        return RecallAnswer(
            query, hits, {int(k): v for k, v in names.items()}, self.settings.owner_name
        )

    async def style(self, name: str) -> Outcome:
        """The style profile learned from the owner's messages to `name`."""
        found = await self._run(self._find, name)
        if isinstance(found, ContactNotFound):
            return found
        assert found.id is not None
        style = await self._run(StyleProfiles(self.store).of, found.id)
        channels = style.differing_channels()
        return StyleShown(
            found.name,
            style.overall.summary(),
            style.overall.describe(),
            {k: v.describe() for k, v in channels.items()},
            {k: v.summary() for k, v in channels.items()},
        )


class QueuedDelivery:
    """Delivery from a process without channels (the CLI): the approved draft is handed
    to the bot's queue, whose process sends it."""

    def __init__(self, store: Store, enqueue: Callable[[int], Awaitable[object]]) -> None:
        self.store = store
        self._enqueue = enqueue

    async def deliver(self, draft_id: DraftId) -> SendOutcome:
        await self._enqueue(draft_id)
        return SendOutcome(SendResult.QUEUED, draft_id)

    async def release_held(self) -> list[SendOutcome]:
        held = await asyncio.to_thread(self.store.drafts.with_status, DraftStatus.APPROVED)
        return [await self.deliver(d.id) for d in held if d.id is not None]
