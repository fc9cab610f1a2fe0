"""compose(): a draft reply in the owner's voice, with its confidence and its reasons.

Everything that goes into the prompt for contact X comes from X's conversations (their
messages and what the owner addressed to them, people memory's facts and promises said
there: `memory.people.context`) and from phatic exchanges (`style.examples`); a burst
of messages ("hey" / "are you free" / "tonight?") is answered as one."""

from __future__ import annotations

from dataclasses import dataclass, field

from twin_core.memory.models import Contact, Message
from twin_core.memory.people.context import DraftContext, draft_context
from twin_core.memory.recall import RecallError
from twin_core.memory.service import Memory
from twin_core.memory.text import shorten
from twin_core.style import offline
from twin_core.style.calibration import GLOBAL, OwnerCalibration
from twin_core.style.examples import Example, select_examples
from twin_core.style.llm import LOCAL_MODEL, LOCAL_PROVIDER, BudgetExceeded, SpendLedger, complete
from twin_core.style.postprocess import enforce
from twin_core.style.profile import StyleProfile
from twin_core.style.prompt import Turn, build_prompt
from twin_core.style.queries import StyleQueries
from twin_core.style.similarity import similarity
from twin_core.types import MessageId

RECENT_TURNS = 8
MOMENTS = 3
"""Moments recalled from this contact's conversations for a configured model."""


class NoDraft(RuntimeError):
    """Nothing worth proposing; the message says why."""


class NoMatch(NoDraft):
    """The offline responder found nothing that fits: the message names the closest past
    moment instead of offering a junk draft."""

    def __init__(self, message: str, closest: Example | None) -> None:
        super().__init__(message)
        self.closest = closest


@dataclass(frozen=True, slots=True)
class Proposal:
    text: str
    """The draft; one line per message where the owner sends several (`parts`)."""
    confidence: float
    reasons: list[str] = field(default_factory=list)
    model: str = LOCAL_MODEL
    style_distance: float = 0.5
    """How unlike the owner's own messages to this contact the draft reads, in [0, 1]
    (`StyleProfile.distance`): 0 follows every habit (length, capitalization, final
    punctuation, emoji, laughter, language), 1 is assistant phrasing or breaks every
    habit; 0.5 when fewer than 3 of the owner's messages to them are known. Not folded
    into `confidence`: the decision step does that."""
    parts: tuple[str, ...] = ()
    """The messages to send, in order (the draft split where the owner splits)."""


@dataclass(frozen=True, slots=True)
class ComposeSettings:
    owner_name: str
    model: str
    api_key: str | None = None
    api_base: str | None = None
    timeout: float = 60.0
    max_chars: int = 20_000
    retries: int = 0
    fallbacks: tuple[str, ...] = ()
    daily_budget_usd: float | None = None


@dataclass(frozen=True, slots=True)
class Prepared:
    """What the blocking half of composing found (`prepare`)."""

    prompt: list[dict[str, str]]
    examples: list[Example]
    incoming: str
    profile: StyleProfile
    choice: offline.Choice
    """The offline responder's pick among the examples (also the fallback when a
    configured model is over its daily budget)."""
    calibration: OwnerCalibration = GLOBAL
    known: DraftContext = field(default_factory=DraftContext)
    """People memory for this contact: the relationship, their facts, open promises
    (`memory.people.context`, only what was said in their own conversations)."""


def is_local(model: str) -> bool:
    return model.startswith(f"{LOCAL_PROVIDER}/")


def prepare(
    memory: Memory,
    contact: Contact,
    burst: list[Message],
    settings: ComposeSettings,
    *,
    queries: StyleQueries | None = None,
    calibration: OwnerCalibration = GLOBAL,
) -> Prepared:
    """The prompt for a reply to `burst` (the contact's unanswered messages, oldest
    first), the examples in it, the profile and the offline responder's pick, whose
    confidence comes from `calibration` (the owner's own, `style.calibration`).
    Blocking: SQL, the index and the embedder."""
    assert contact.id is not None and burst
    queries = queries or StyleQueries(memory.store)
    incoming = "\n".join(m.text for m in burst)[: settings.max_chars]
    answering = {m.id for m in burst if m.id is not None}
    examples = select_examples(memory, contact.id, incoming, exclude=answering, queries=queries)
    last = burst[-1]
    style = queries.profiles.of(contact.id)
    profile = style.for_channel(last.channel)
    candidates = [
        offline.Candidate(e.their_text, e.reply, e.same_contact, e.sent_at) for e in examples
    ]
    choice = offline.choose(
        offline.rank(memory.recall_index.embedder, incoming, candidates, now=last.sent_at),
        confidence_of=calibration.confidence,
    )
    recent = [
        Turn("you" if m.from_owner else contact.name, m.text[:2000])
        for m in queries.turns_for(
            last.conversation_id, contact.id, around=last.sent_at, limit=RECENT_TURNS + len(burst)
        )
        if m.id not in answering
    ]
    known = draft_context(memory.store, contact, owner=settings.owner_name, now=last.sent_at)
    moments: list[Turn] = []
    if not is_local(settings.model):
        moments = _moments(memory, queries, contact, incoming, answering, recent)
    prompt = build_prompt(
        owner=settings.owner_name,
        contact=contact.name,
        examples=examples,
        recent=recent[-RECENT_TURNS:],
        incoming=incoming,
        relationship=" ".join(known.relationship) or _acquainted(settings, contact, profile),
        style=profile.instructions(),
        moments=moments,
        notes=[
            *known.facts,
            *(f"open promise, {p.line(settings.owner_name, contact.name)}" for p in known.promises),
        ],
    )
    return Prepared(prompt, examples, incoming, profile, choice, calibration, known)


def _acquainted(settings: ComposeSettings, contact: Contact, profile: StyleProfile) -> str:
    """The relationship in one line while people memory has no figures for it yet."""
    if not profile.messages:
        return ""
    return (
        f"{settings.owner_name} and {contact.name} know each other: "
        f"{settings.owner_name} has written {contact.name} {profile.messages} messages."
    )


def _moments(
    memory: Memory,
    queries: StyleQueries,
    contact: Contact,
    incoming: str,
    answering: set[MessageId],
    recent: list[Turn],
) -> list[Turn]:
    """Earlier moments of this contact's own conversations like the new message: only
    what they said and what was addressed to them (DESIGN.md, invariant 6)."""
    assert contact.id is not None
    shown = {t.text for t in recent}
    found: list[Turn] = []
    try:
        hits = memory.recall(incoming, contact_id=contact.id, limit=MOMENTS * 2, context=0)
    except RecallError:  # nothing indexed yet: a draft without recalled moments
        return []
    for hit in hits:
        message = hit.message
        if message.id in answering or message.text in shown:
            continue
        if not queries.addressed_to(message, contact.id):
            continue
        found.append(Turn("you" if message.from_owner else contact.name, message.text[:500]))
        if len(found) >= MOMENTS:
            break
    return found


async def compose(
    memory: Memory,
    contact: Contact,
    burst: list[Message],
    settings: ComposeSettings,
    *,
    prepared: Prepared | None = None,
) -> Proposal:
    """A draft answering `burst`; `prepared` is `prepare()`'s result when the caller
    ran it already (off the event loop)."""
    prepared = prepared or prepare(memory, contact, burst, settings)
    if is_local(settings.model):
        return _offline(prepared, contact, settings.model)
    ledger = (
        SpendLedger(memory.store.state, settings.daily_budget_usd)
        if settings.daily_budget_usd is not None
        else None
    )
    try:
        text = await complete(
            prepared.prompt,
            model=settings.model,
            api_key=settings.api_key,
            api_base=settings.api_base,
            timeout=settings.timeout,
            retries=settings.retries,
            fallbacks=settings.fallbacks,
            ledger=ledger,
        )
    except BudgetExceeded as exc:
        return _offline(
            prepared, contact, LOCAL_MODEL, why=f"{exc}; the offline responder wrote it"
        )
    parts = enforce(text, prepared.profile)
    if not parts:
        if not prepared.examples:
            raise NoDraft(f"no earlier reply of yours to {contact.name} or anyone to go by")
        raise NoDraft(f"{settings.model} gave an empty answer")
    text = "\n".join(parts)
    confidence, reasons = _judge(text, prepared.incoming, prepared.examples, settings.model)
    return Proposal(
        text=text,
        confidence=confidence,
        reasons=reasons,
        model=settings.model,
        style_distance=prepared.profile.distance(text),
        parts=tuple(parts),
    )


def _offline(prepared: Prepared, contact: Contact, model: str, why: str = "") -> Proposal:
    """The offline responder's draft: the owner's own best-fitting past reply, adapted
    to their habits with this contact, or `NoMatch` below the floor."""
    choice = prepared.choice
    if choice.best is None:
        raise NoDraft(f"no earlier reply of yours to {contact.name} or anyone to go by")
    example = next(
        e
        for e in prepared.examples
        if e.their_text == choice.best.candidate.their_text
        and e.reply == choice.best.candidate.reply
    )
    if not choice.reply:
        raise NoMatch(
            f"no good match (score {choice.score:.2f}, below {offline.FLOOR}); the closest "
            f"past moment, {example.sent_at:%Y-%m-%d}: {example.contact_name} wrote "
            f'"{shorten(example.their_text, 80)}" and you answered "{shorten(example.reply, 80)}"',
            example,
        )
    # The owner's own words to this contact stay as they were; a phatic reply borrowed
    # from another conversation takes this contact's habits (casing, emoji, laughter).
    parts = (
        choice.reply.split("\n")
        if example.same_contact
        else enforce(choice.reply, prepared.profile) or [choice.reply]
    )
    text = "\n".join(parts)
    whose = "them" if example.same_contact else f"{example.contact_name} (phatic)"
    confidence = choice.confidence if example.same_contact else choice.confidence * 0.8
    reasons = [
        f"your own reply to {whose} on {example.sent_at:%Y-%m-%d}, when they wrote "
        f'"{shorten(example.their_text, 60)}" (similarity {choice.best.features[0]:.2f}, '
        f"score {choice.score:.2f})",
    ]
    if not example.same_contact:
        reasons.append(f"a phatic reply you have sent to {example.people} different people")
    reasons.append(
        # Not the card's confidence (decide combines this with the rest): its own name.
        f"match {confidence:.2f}: the share of drafts matched this well that were close to "
        f"what the owner really sent, on held-out history ({prepared.calibration.describe()})"
    )
    reasons.extend(f"open promise, {p.line('you', contact.name)}" for p in prepared.known.promises)
    reasons.append("offline responder: it reuses your past replies and writes nothing new")
    if why:
        reasons.append(why)
    return Proposal(
        text=text,
        confidence=round(confidence, 2),
        reasons=reasons,
        model=model,
        style_distance=prepared.profile.distance(text),
        parts=tuple(parts),
    )


def _judge(
    text: str, incoming: str, examples: list[Example], model: str
) -> tuple[float, list[str]]:
    """How sure a model's draft is, and why: by how closely the situation matches one
    the owner has already answered, and whether the draft is the owner's own words."""
    scored = sorted(
        ((similarity(incoming, e.their_text), e) for e in examples),
        key=lambda pair: pair[0],
        reverse=True,
    )
    reused = [(s, e) for s, e in scored if e.reply == text]
    reasons: list[str] = []
    if reused:
        score, example = reused[0]
        whose = "them" if example.same_contact else f"{example.contact_name} (phatic)"
        reasons.append(
            f"your own reply to {whose} on {example.sent_at:%Y-%m-%d}, when they wrote "
            f'"{shorten(example.their_text, 60)}" (similarity {score:.2f})'
        )
        confidence = score if example.same_contact else score * 0.8
        if not example.same_contact:
            reasons.append(f"a phatic reply you have sent to {example.people} different people")
    else:
        best = scored[0][0] if scored else 0.0
        confidence = 0.6 * best
        reasons.append(
            f"written by {model} from {len(examples)} of your past replies"
            + (f" (closest situation: similarity {best:.2f})" if scored else "")
        )
    return round(min(max(confidence, 0.0), 1.0), 2), reasons
