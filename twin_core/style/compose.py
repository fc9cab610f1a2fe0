"""compose(): a draft reply in the owner's voice, with its confidence and its reasons.

Everything that goes into the prompt for contact X comes from X's conversations (their
messages and what the owner addressed to them) and from phatic exchanges
(`style.examples`); a burst of messages ("hey" / "are you free" / "tonight?") is
answered as one."""

from __future__ import annotations

from dataclasses import dataclass, field

from twin_core.memory.models import Contact, Message
from twin_core.memory.service import Memory
from twin_core.memory.text import shorten
from twin_core.style.examples import Example, select_examples
from twin_core.style.llm import LOCAL_MODEL, complete
from twin_core.style.prompt import Turn, build_prompt
from twin_core.style.queries import StyleQueries
from twin_core.style.similarity import similarity

RECENT_TURNS = 8


class NoDraft(RuntimeError):
    """Nothing worth proposing; the message says why."""


@dataclass(frozen=True, slots=True)
class Proposal:
    text: str
    confidence: float
    reasons: list[str] = field(default_factory=list)
    model: str = LOCAL_MODEL


@dataclass(frozen=True, slots=True)
class ComposeSettings:
    owner_name: str
    model: str
    api_key: str | None = None
    api_base: str | None = None
    timeout: float = 60.0
    max_chars: int = 20_000


def prepare(
    memory: Memory,
    contact: Contact,
    burst: list[Message],
    settings: ComposeSettings,
    *,
    queries: StyleQueries | None = None,
) -> tuple[list[dict[str, str]], list[Example], str]:
    """The prompt for a reply to `burst` (the contact's unanswered messages, oldest
    first), the examples in it, and the incoming text. Blocking: SQL and the index."""
    assert contact.id is not None and burst
    queries = queries or StyleQueries(memory.store)
    incoming = "\n".join(m.text for m in burst)[: settings.max_chars]
    answering = {m.id for m in burst if m.id is not None}
    examples = select_examples(memory, contact.id, incoming, exclude=answering, queries=queries)
    last = burst[-1]
    recent = [
        Turn("you" if m.from_owner else contact.name, m.text[:2000])
        for m in queries.turns_for(
            last.conversation_id, contact.id, around=last.sent_at, limit=RECENT_TURNS + len(burst)
        )
        if m.id not in answering
    ]
    prompt = build_prompt(
        owner=settings.owner_name,
        contact=contact.name,
        examples=examples,
        recent=recent[-RECENT_TURNS:],
        incoming=incoming,
    )
    return prompt, examples, incoming


async def compose(
    memory: Memory,
    contact: Contact,
    burst: list[Message],
    settings: ComposeSettings,
    *,
    prepared: tuple[list[dict[str, str]], list[Example], str] | None = None,
) -> Proposal:
    """A draft answering `burst`; `prepared` is `prepare()`'s result when the caller
    ran it already (off the event loop)."""
    prompt, examples, incoming = prepared or prepare(memory, contact, burst, settings)
    text = await complete(
        prompt,
        model=settings.model,
        api_key=settings.api_key,
        api_base=settings.api_base,
        timeout=settings.timeout,
    )
    if not text:
        if not examples:
            raise NoDraft(f"no earlier reply of yours to {contact.name} or anyone to go by")
        raise NoDraft(f"{settings.model} gave an empty answer")
    confidence, reasons = _judge(text, incoming, examples, settings.model)
    return Proposal(text=text, confidence=confidence, reasons=reasons, model=settings.model)


def _judge(
    text: str, incoming: str, examples: list[Example], model: str
) -> tuple[float, list[str]]:
    """How sure the draft is, and why: by how closely the situation matches one the
    owner has already answered, and whether the draft is the owner's own words."""
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
    if model == LOCAL_MODEL:
        reasons.append("offline responder: it reuses your past replies and writes nothing new")
    return round(min(max(confidence, 0.0), 1.0), 2), reasons
