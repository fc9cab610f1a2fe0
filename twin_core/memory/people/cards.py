"""What the owner reads: a contact's card, promises, facts and who is due a check-in.

Plain data (`to_dict()` for `--json`) and one text rendering each; the control chat and
the CLI show the same thing.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlmodel import col, select

from twin_core.memory.models import Contact, Conversation, Message
from twin_core.memory.people.models import Commitment, CommitmentStatus, Fact
from twin_core.memory.people.stats import rhythm
from twin_core.memory.people.store import PeopleRepository
from twin_core.memory.store import Store
from twin_core.memory.text import shorten
from twin_core.types import ContactId

RECENT_FOR_TOPICS = 60
_TOPIC_WORD = re.compile(r"[^\W\d_]{5,}", re.UNICODE)
_COMMON = frozenset(
    (
        "about after again because being could their there these thing think those "
        "would which where while really thanks today tomorrow morning tonight going "
        "still right yeah sounds great maybe other pretty never always heute morgen "
        "danke schon nicht einen einem einer wieder alles gerne vielleicht sehr haben "
        "machen kommst gracias mañana porque luego donde bueno ahora tengo vamos estoy "
        "puedes demain merci bien avec aussi alors encore faire peux c'est quand"
    ).split()
)


@dataclass(frozen=True, slots=True)
class PromiseLine:
    id: int
    contact: str
    by_owner: bool
    text: str
    status: str
    """`open`, `overdue` or `done`."""
    due: str | None
    due_text: str
    made_at: str
    message_id: int
    closed_reason: str = ""

    def describe(self) -> str:
        who = f"you → {self.contact}" if self.by_owner else f"{self.contact} → you"
        due = f", due {self.due}" if self.due else ""
        if self.due_text:
            due += f' ("{self.due_text}")'
        closed = f" — {self.closed_reason}" if self.closed_reason else ""
        return (
            f"#{self.id} [{self.status}] {who}: {shorten(self.text, 120)}{due}"
            f" (message {self.message_id}, {self.made_at}){closed}"
        )


@dataclass(frozen=True, slots=True)
class FactLine:
    id: int
    contact: str
    about: str
    kind: str
    value: str
    confidence: float
    stated_at: str
    valid_until: str | None
    message_id: int
    source: str

    def describe(self) -> str:
        whose = "you" if self.about == "owner" else self.contact
        until = f", until {self.valid_until}" if self.valid_until else ""
        return (
            f"#{self.id} {whose}: {self.kind} = {self.value} "
            f"(confidence {self.confidence:.2f}, since {self.stated_at}{until}; "
            f'message {self.message_id}: "{shorten(self.source, 80)}")'
        )


@dataclass(frozen=True, slots=True)
class Card:
    contact_id: int
    name: str
    handles: list[str]
    first_contact: str | None
    last_contact: str | None
    messages_from_them: int
    messages_from_you: int
    conversations: int
    usual_gap_days: float | None
    current_gap_days: float | None
    gap_unusual: bool
    usually_starts: str | None
    your_reply_delay_minutes: float | None
    languages: list[str]
    recent_topics: list[str]
    promises: list[PromiseLine] = field(default_factory=list)
    facts: list[FactLine] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        lines = [
            f"{self.name} (#{self.contact_id})",
            "handles: " + (", ".join(self.handles) or "none"),
        ]
        if self.first_contact:
            lines.append(f"first contact {self.first_contact}, last {self.last_contact}")
        lines.append(
            f"messages: {self.messages_from_them} from them, {self.messages_from_you} from you, "
            f"in {self.conversations} conversations"
        )
        if self.usual_gap_days is not None and self.current_gap_days is not None:
            lines.append(
                f"you usually talk every {self.usual_gap_days:.0f} days; it has been "
                f"{self.current_gap_days:.0f}" + (" (unusual)" if self.gap_unusual else "")
            )
        if self.usually_starts:
            lines.append(f"usually starts: {self.usually_starts}")
        if self.your_reply_delay_minutes is not None:
            lines.append(f"you usually answer in {_duration(self.your_reply_delay_minutes)}")
        if self.languages:
            lines.append("languages: " + ", ".join(self.languages))
        if self.recent_topics:
            lines.append("recent topics: " + ", ".join(self.recent_topics))
        lines.append(f"open promises: {len(self.promises)}")
        lines.extend("  " + p.describe() for p in self.promises)
        lines.append(f"facts: {len(self.facts)}")
        lines.extend("  " + f.describe() for f in self.facts)
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class CheckIn:
    contact_id: int
    name: str
    usual_gap_days: float
    current_gap_days: float
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _duration(minutes: float) -> str:
    if minutes < 90:
        return f"{minutes:.0f} min"
    if minutes < 48 * 60:
        return f"{minutes / 60:.1f} h"
    return f"{minutes / 1440:.1f} days"


def _day(value: datetime | None, store_zone: Any) -> str | None:
    return value.astimezone(store_zone).strftime("%Y-%m-%d") if value else None


class PeopleCards:
    """Reads for the owner's commands; `zone` is the owner's time zone."""

    def __init__(self, store: Store, zone: Any = UTC) -> None:
        self.store = store
        self.repository = PeopleRepository(store.database)
        self.zone = zone

    def _names(self) -> dict[ContactId, str]:
        return self.store.contacts.names()

    def promise_line(
        self, commitment: Commitment, names: dict[ContactId, str], now: datetime
    ) -> PromiseLine:
        status = (
            commitment.status.value
            if hasattr(commitment.status, "value")
            else str(commitment.status)
        )
        if status == CommitmentStatus.OPEN.value and commitment.due_at and commitment.due_at < now:
            status = "overdue"
        assert commitment.id is not None
        return PromiseLine(
            id=commitment.id,
            contact=names.get(commitment.contact_id, "?"),
            by_owner=commitment.by_owner,
            text=commitment.text,
            status=status,
            due=_day(commitment.due_at, self.zone),
            due_text=commitment.due_text,
            made_at=commitment.made_at.astimezone(self.zone).strftime("%Y-%m-%d %H:%M"),
            message_id=commitment.message_id,
            closed_reason=commitment.closed_reason,
        )

    def promises(
        self,
        contact_id: ContactId | None = None,
        *,
        include_done: bool = False,
        now: datetime | None = None,
    ) -> list[PromiseLine]:
        now = now or datetime.now(UTC)
        names = self._names()
        found = self.repository.commitments(
            contact_id, status=None if include_done else CommitmentStatus.OPEN
        )
        return [self.promise_line(c, names, now) for c in found]

    def facts(self, contact_id: ContactId, *, history: bool = False) -> list[FactLine]:
        names = self._names()
        found = self.repository.facts(contact_id, current=not history)
        sources = self.store.messages.by_ids([f.message_id for f in found])
        return [self.fact_line(f, names, sources) for f in found]

    def fact_line(
        self, fact: Fact, names: dict[ContactId, str], sources: dict[Any, Message]
    ) -> FactLine:
        assert fact.id is not None
        source = sources.get(fact.message_id)
        return FactLine(
            id=fact.id,
            contact=names.get(fact.contact_id, "?"),
            about=fact.about,
            kind=fact.kind,
            value=fact.value,
            confidence=round(fact.confidence, 2),
            stated_at=fact.stated_at.astimezone(self.zone).strftime("%Y-%m-%d"),
            valid_until=_day(fact.valid_until, self.zone),
            message_id=fact.message_id,
            source=source.text if source else "",
        )

    def card(self, contact: Contact, now: datetime | None = None) -> Card:
        assert contact.id is not None
        now = now or datetime.now(UTC)
        relationship = self.repository.relationship(contact.id)
        handles = [
            f"{h.channel}:{h.external_id}" + (f" ({h.display_name})" if h.display_name else "")
            for h in self.store.contacts.handles(contact.id)
        ]
        figures = rhythm(relationship, now) if relationship else None
        starts = None
        if figures and figures.owner_starts is not None:
            starts = (
                "you"
                if figures.owner_starts > 0.5
                else "they"
                if figures.owner_starts < 0.5
                else "either"
            )
        languages = (
            [lang for lang, _ in Counter(relationship.languages).most_common()]
            if relationship
            else []
        )
        return Card(
            contact_id=contact.id,
            name=contact.name,
            handles=handles,
            first_contact=_day(relationship.first_at if relationship else None, self.zone),
            last_contact=_day(relationship.last_at if relationship else None, self.zone),
            messages_from_them=relationship.messages_in if relationship else 0,
            messages_from_you=relationship.messages_out if relationship else 0,
            conversations=figures.conversations if figures else 0,
            usual_gap_days=_round(figures.usual_gap_days if figures else None),
            current_gap_days=_round(figures.current_gap_days if figures else None),
            gap_unusual=bool(figures and figures.unusual),
            usually_starts=starts,
            your_reply_delay_minutes=_round(figures.reply_delay_minutes if figures else None),
            languages=languages,
            recent_topics=self.topics(contact.id),
            promises=self.promises(contact.id, now=now),
            facts=self.facts(contact.id),
        )

    def topics(self, contact_id: ContactId, limit: int = 5) -> list[str]:
        """The words that came up most in the latest messages with them (one query of
        the last `RECENT_FOR_TOPICS` messages, not a scan)."""
        with self.store.database.session() as session:
            texts = session.exec(
                select(Message.text)
                .join(Conversation, col(Conversation.id) == col(Message.conversation_id))
                .where(
                    (col(Message.contact_id) == contact_id)
                    | (col(Message.from_owner) & (col(Conversation.contact_id) == contact_id))
                )
                .order_by(col(Message.sent_at).desc())
                .limit(RECENT_FOR_TOPICS)
            ).all()
        counts = Counter(
            w.casefold()
            for text in texts
            for w in set(_TOPIC_WORD.findall(text or ""))
            if w.casefold() not in _COMMON
        )
        return [w for w, n in counts.most_common(limit) if n >= 2]

    def checkins(self, now: datetime | None = None) -> list[CheckIn]:
        """Contacts whose silence is longer than their usual rhythm, most overdue first."""
        now = now or datetime.now(UTC)
        names = self._names()
        found: list[CheckIn] = []
        for relationship in self.repository.relationships():
            figures = rhythm(relationship, now)
            if not figures.unusual:
                continue
            assert figures.usual_gap_days is not None and figures.current_gap_days is not None
            usual = max(figures.usual_gap_days, 1.0)
            found.append(
                CheckIn(
                    contact_id=relationship.contact_id,
                    name=names.get(relationship.contact_id, "?"),
                    usual_gap_days=round(figures.usual_gap_days, 1),
                    current_gap_days=round(figures.current_gap_days, 1),
                    reason=(
                        f"you usually talk every {usual:.0f} days; it has been "
                        f"{figures.current_gap_days:.0f}"
                    ),
                )
            )
        found.sort(key=lambda c: c.current_gap_days / max(c.usual_gap_days, 1.0), reverse=True)
        return found


def _round(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None
