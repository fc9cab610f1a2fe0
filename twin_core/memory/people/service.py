"""`PeopleMemory`: keeps facts, promises and relationship figures in step with messages.

Messages are read once, in id order, past a watermark (`people.watermark` in `state`):
live messages as they are recorded (`catch_up` right after recording, cheap: only what
is new), an import's backlog in a job with progress. Everything one batch derives is
written in one transaction together with the watermark's move, and that move is
conditional on the watermark being where this reader found it: two readers (the bot
and a worker) never both count a message.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from twin_core.memory.models import Conversation, Message, State
from twin_core.memory.people import stats
from twin_core.memory.people.language import detect
from twin_core.memory.people.models import Commitment, CommitmentStatus, Fact, Relationship
from twin_core.memory.people.rules import SINGLE_VALUED, Extraction, extract
from twin_core.memory.people.store import PeopleRepository
from twin_core.memory.store import TWIN_ACTOR, Store
from twin_core.types import ContactId, MessageKind

log = logging.getLogger(__name__)

WATERMARK = "people.watermark"
BATCH = 2000

Extractor = Callable[[str, datetime, tzinfo], Extraction]
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Derived:
    messages: int
    commitments: int
    facts: int
    closed: int


class PeopleMemory:
    def __init__(
        self,
        store: Store,
        *,
        timezone: tzinfo = UTC,
        extractor: Extractor | None = None,
        extractor_name: str = "rules",
    ) -> None:
        self.store = store
        self.repository = PeopleRepository(store.database)
        self.timezone = timezone
        self.extractor: Extractor = extractor or extract
        self.extractor_name = extractor_name

    def pending(self) -> int:
        return self.store.messages.count(after=self._watermark())

    def _watermark(self) -> int:
        return int(self.store.state.get(WATERMARK, "0") or 0)

    def catch_up(self, progress: Progress | None = None) -> Derived:
        """Read every message past the watermark; returns what was derived."""
        total = self.pending()
        done = commitments = facts = closed = 0
        while True:
            start = self._watermark()
            batch = self._batch(start)
            if not batch:
                break
            derived = self._process(start, batch)
            if derived is None:
                continue  # another reader took this batch: read on from where it left
            done += derived.messages
            commitments += derived.commitments
            facts += derived.facts
            closed += derived.closed
            if progress is not None:
                progress(min(done, total), total)
        return Derived(done, commitments, facts, closed)

    def _batch(self, after: int) -> list[Message]:
        with self.store.database.session() as session:
            return list(
                session.exec(
                    select(Message)
                    .where(col(Message.id) > after)
                    .order_by(col(Message.id))
                    .limit(BATCH)
                )
            )

    def _process(self, start: int, batch: Sequence[Message]) -> Derived | None:
        last = batch[-1].id or start
        with self.store.database.session() as session:
            claimed = self._claim(session, start, last)
            if not claimed:
                session.rollback()
                return None
            work = _Batch(self, session)
            derived = work.run(batch)
            session.commit()
        # The twin closed these itself: the audit log says which, and why (invariant 7).
        for commitment_id, contact_id, reason in work.kept:
            self.store.audit.record(
                TWIN_ACTOR,
                "promise_kept",
                f"contact:{contact_id}",
                reason,
                promise=commitment_id,
            )
        return derived

    @staticmethod
    def _claim(session: Session, start: int, last: int) -> bool:
        if session.get(State, WATERMARK) is None:
            try:
                with session.begin_nested():
                    session.add(State(key=WATERMARK, value="0"))
            except sa.exc.IntegrityError:
                pass
        result = session.execute(
            sa.update(State)
            .where(col(State.key) == WATERMARK)
            .where(col(State.value) == str(start))
            .values(value=str(last))
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def rebuild_relationship(self, contact_id: ContactId) -> None:
        """Count `contact_id`'s figures afresh (after two contacts were merged): the one
        time they are read from all their messages."""
        with self.store.database.session() as session:
            existing = session.get(Relationship, contact_id)
            if existing is not None:
                session.delete(existing)
                session.flush()
            watermark = int((session.get(State, WATERMARK) or State(key="", value="0")).value)
            messages = session.exec(
                select(Message)
                .join(Conversation, col(Conversation.id) == col(Message.conversation_id))
                .where(col(Message.id) <= watermark)
                .where(
                    (col(Message.contact_id) == contact_id)
                    | (col(Message.from_owner) & (col(Conversation.contact_id) == contact_id))
                )
                .order_by(col(Message.id))
            ).all()
            _Batch(self, session, extract_too=False).run(list(messages))
            session.commit()


_DELIVERED = {
    "send": r"here (?:is|are|it is|they are|you go)|attached|sent (?:you|it|them)|just sent|"
    r"hier (?:ist|sind|kommt|kommen)|anbei|(?:hab|habe) (?:dir |sie |es )?(?:\w+ )?geschickt|"
    r"aquí (?:tienes|está|van)|te (?:lo |la |los |las )?(?:he )?(?:mandado|enviado|mandé|envié)|adjunto|"
    r"voici|voilà|ci-joint|je t(?:'|’)ai envoyé",
    "call": r"just called|tried calling|(?:hab|habe) dich angerufen|te (?:he )?llamado|te llamé|"
    r"je t(?:'|’)ai appelé",
    "pay": r"paid|sent (?:you )?the money|transferred|überwiesen|bezahlt|te (?:he )?pagado|"
    r"te pagué|transferí|payé|viré|remboursé",
}
_DONE = (
    r"\b(?:done|finished|all set|erledigt|fertig|gemacht|hecho|listo|ya está|c(?:'|’)est fait|"
    r"fait|terminé)\b"
)
_THANKS = r"\b(?:thanks|thank you|thx|danke|gracias|merci)\b"
_WORD = re.compile(r"\w{4,}", re.UNICODE)
_STOP = frozenset(
    (
        "will send call tomorrow today tonight next week friday monday tuesday "
        "wednesday thursday saturday sunday morgen heute schicke werde mañana voy "
        "enviar mandar demain vais envoyer this that with your dich dir them they just"
    ).split()
)


def _keywords(text: str) -> set[str]:
    return {w.casefold() for w in _WORD.findall(text)} - _STOP


_ANY_SIGNAL = re.compile(
    "|".join([*(f"(?:{p})" for p in _DELIVERED.values()), _DONE, _THANKS]), re.IGNORECASE
)
FULFIL_WINDOW = timedelta(days=60)
"""A message keeps only promises made this recently before it."""


def may_fulfil(message: Message) -> bool:
    """Whether `message` could keep any promise at all (a file, a call, or words of
    delivery, completion or thanks): most messages cannot, and are not compared."""
    return message.kind in (MessageKind.MEDIA.value, MessageKind.CALL.value) or bool(
        _ANY_SIGNAL.search(message.text or "")
    )


def fulfils(commitment: Commitment, message: Message) -> str | None:
    """Why `message` (later, in the same conversation) fulfils `commitment`, or None."""
    text = message.text or ""
    same_side = message.from_owner == commitment.by_owner
    overlap = _keywords(commitment.text) & _keywords(text)
    if same_side:
        if commitment.action == "send" and message.kind == MessageKind.MEDIA.value:
            return "a file was sent after the promise"
        if commitment.action == "call" and message.kind == MessageKind.CALL.value:
            return "a call was made after the promise"
        pattern = _DELIVERED.get(commitment.action)
        if (
            pattern
            and re.search(pattern, text, re.IGNORECASE)
            and (overlap or commitment.action in ("call", "pay") or len(text) < 60)
        ):
            return f'fulfilled: "{text[:80]}"'
        if re.search(_DONE, text, re.IGNORECASE) and overlap:
            return f'reported done: "{text[:80]}"'
    elif overlap and re.search(_THANKS, text, re.IGNORECASE):
        return f'thanked for it: "{text[:80]}"'
    return None


class _Batch:
    """One batch's work, inside the caller's transaction."""

    def __init__(self, people: PeopleMemory, session: Session, *, extract_too: bool = True) -> None:
        self.people = people
        self.session = session
        self.extract_too = extract_too
        self.relationships: dict[int, tuple[Relationship, stats.Tally]] = {}
        self.conversations: dict[int, Conversation | None] = {}
        self.previous: dict[int, tuple[datetime, bool]] = {}
        self.kept: list[tuple[int, int, str]] = []
        """(promise, contact, why) for each promise a message kept."""
        self.open: dict[int, list[Commitment]] = {}
        """Each conversation's open promises, loaded once per batch."""

    def _conversation(self, conversation_id: int) -> Conversation | None:
        if conversation_id not in self.conversations:
            self.conversations[conversation_id] = self.session.get(Conversation, conversation_id)
        return self.conversations[conversation_id]

    def _tally(self, contact_id: int) -> stats.Tally:
        found = self.relationships.get(contact_id)
        if found is None:
            row = self.session.get(Relationship, contact_id) or Relationship(
                contact_id=ContactId(contact_id)
            )
            found = self.relationships[contact_id] = (row, stats.Tally.of(row))
        return found[1]

    def _previous(self, message: Message) -> tuple[datetime, bool] | None:
        """The message before `message` in its conversation: (sent at, from owner)."""
        row = self.session.exec(
            select(Message.sent_at, Message.from_owner)
            .where(Message.conversation_id == message.conversation_id)
            .where(col(Message.sent_at) < message.sent_at)
            .order_by(col(Message.sent_at).desc())
            .limit(1)
        ).first()
        return (row[0], row[1]) if row else None

    def run(self, batch: Sequence[Message]) -> Derived:
        commitments = facts = closed = 0
        # Conversation by conversation, in time order: reply delays need the message
        # before, and promises made earlier are fulfilled by later messages.
        ordered = sorted(batch, key=lambda m: (m.conversation_id, m.sent_at, m.id or 0))
        for message in ordered:
            conversation = self._conversation(message.conversation_id)
            if conversation is None:
                continue
            contact_id = (
                conversation.contact_id
                if message.from_owner and not conversation.is_group
                else message.contact_id
            )
            if contact_id is None or message.kind in (
                MessageKind.SYSTEM.value,
                MessageKind.DELETED.value,
            ):
                continue
            text = message.text or ""
            found = (
                self.people.extractor(text, message.sent_at, self.people.timezone)
                if self.extract_too and message.kind == MessageKind.TEXT.value and text
                else None
            )
            delay = None
            if message.from_owner:
                before = self.previous.get(message.conversation_id)
                if before is None or before[0] > message.sent_at:
                    before = self._previous(message)
                if before is not None and not before[1]:
                    delay = int((message.sent_at - before[0]).total_seconds())
            self.previous[message.conversation_id] = (message.sent_at, message.from_owner)
            stats.add_message(
                self._tally(contact_id),
                message.sent_at,
                from_owner=message.from_owner,
                language=found.language if found else detect(text) if text else "",
                reply_delay=delay,
            )
            if not self.extract_too:
                continue
            closed += self._fulfil(message, ContactId(contact_id))
            if found is None:
                continue
            for promise in found.commitments:
                assert message.id is not None
                commitment = Commitment(
                    contact_id=ContactId(contact_id),
                    conversation_id=message.conversation_id,
                    by_owner=message.from_owner,
                    text=promise.sentence[:1000],
                    action=promise.action,
                    due_at=promise.due.at(self.people.timezone) if promise.due else None,
                    due_text=promise.due.text[:200] if promise.due else "",
                    message_id=message.id,
                    made_at=message.sent_at,
                    confidence=promise.confidence,
                    extractor=self.people.extractor_name,
                )
                self.session.add(commitment)
                self._open(message.conversation_id).append(commitment)
                commitments += 1
            for fact in found.facts:
                self._add_fact(
                    message, ContactId(contact_id), fact.kind, fact.value, fact.confidence
                )
                facts += 1
        for relationship, tally in self.relationships.values():
            tally.write(relationship)
            relationship.updated_at = datetime.now(UTC)
            self.session.add(relationship)
        return Derived(len(batch), commitments, facts, closed)

    def _open(self, conversation_id: int) -> list[Commitment]:
        found = self.open.get(conversation_id)
        if found is None:
            with self.session.no_autoflush:
                found = self.open[conversation_id] = list(
                    self.session.exec(
                        select(Commitment)
                        .where(Commitment.conversation_id == conversation_id)
                        .where(Commitment.status == CommitmentStatus.OPEN)
                    )
                )
        return found

    def _fulfil(self, message: Message, contact_id: ContactId) -> int:
        if not may_fulfil(message):
            return 0
        open_ones = self._open(message.conversation_id)
        closed = 0
        for commitment in list(open_ones):
            if (
                commitment.made_at >= message.sent_at
                or commitment.made_at < message.sent_at - FULFIL_WINDOW
                or commitment.message_id == message.id
            ):
                continue
            reason = fulfils(commitment, message)
            if reason is None:
                continue
            commitment.status = CommitmentStatus.DONE
            commitment.closed_at = message.sent_at
            commitment.closed_reason = reason
            commitment.closed_by_message_id = message.id
            self.session.add(commitment)
            open_ones.remove(commitment)
            if commitment.id is None:
                self.session.flush()
            assert commitment.id is not None
            self.kept.append((commitment.id, commitment.contact_id, reason))
            closed += 1
        return closed

    def _add_fact(
        self, message: Message, contact_id: ContactId, kind: str, value: str, confidence: float
    ) -> None:
        assert message.id is not None
        about = "owner" if message.from_owner else "contact"
        fact = Fact(
            contact_id=contact_id,
            about=about,
            kind=kind,
            value=value[:500],
            message_id=message.id,
            stated_at=message.sent_at,
            confidence=confidence,
            extractor=self.people.extractor_name,
        )
        same = select(Fact).where(
            Fact.contact_id == contact_id, Fact.about == about, Fact.kind == kind
        )
        if kind not in SINGLE_VALUED:
            same = same.where(Fact.value == value)
        earlier = list(self.session.exec(same.order_by(col(Fact.stated_at))))
        self.session.add(fact)
        self.session.flush()
        # The newest statement holds; each older one is valid until the next.
        chain = sorted([*earlier, fact], key=lambda f: (f.stated_at, f.id or 0))
        for older, newer in itertools.pairwise(chain):
            older.valid_until = newer.stated_at
            older.superseded_by = newer.id
            self.session.add(older)
        chain[-1].valid_until = None
        chain[-1].superseded_by = None
        self.session.add(chain[-1])
