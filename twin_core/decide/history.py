"""The owner's history as examples of deciding: for every incoming message, what the
twin could know when it arrived (features), and what the owner then did (answered or
not, and how soon).

`History` is fed messages in time order and keeps running statistics (per contact,
per conversation, the owner's hours), so features only ever use the past: a message's
outcome counts in its contact's reply rate only once it is known (the owner answered,
or `HORIZON` passed without an answer). Fed incrementally, it never re-reads history.
"""

from __future__ import annotations

import math
import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

HORIZON = timedelta(hours=24)
"""An incoming message the owner did not answer within this long went unanswered."""
BURST_GAP = timedelta(minutes=10)
"""Messages this close to the next one are one burst: one answer answers them all."""

FEATURES = (
    "group",
    "question",
    "closing",
    "length",
    "hour_sin",
    "hour_cos",
    "weekday",
    "weekend",
    "contact_reply_rate",
    "contact_messages",
    "contact_recent_rate",
    "owner_active_hour",
    "contact_active_hour",
    "thread_answered",
    "since_previous",
    "unanswered_in_row",
    "mentions_owner",
    "not_text",
    "contact_rate_this_part_of_day",
    "contact_rate_this_kind",
    "contact_usual_delay",
    "contact_rate_this_daytype",
    "contact_rate_these_hours",
    "contact_rate_these_hours_this_daytype",
)

_QUESTION_WORDS = re.compile(
    r"\b(?:who|what|when|where|why|how|which|can|could|would|will|do|does|did|are|is|"
    r"wer|was|wann|wo|warum|wie|welche[rs]?|kannst|hast|bist|"
    r"que|quien|cuando|donde|por que|como|cual|puedes|tienes|"
    r"qui|quoi|quand|ou|pourquoi|comment|quel(?:le)?s?|est-ce)\b",
    re.IGNORECASE,
)
_CLOSERS = frozenset(
    [
        "ok",
        "okay",
        "k",
        "kk",
        "okk",
        "alright",
        "aight",
        "sure",
        "cool",
        "nice",
        "great",
        "thanks",
        "thank",
        "thx",
        "ty",
        "tnx",
        "cheers",
        "lol",
        "lmao",
        "haha",
        "hahaha",
        "hehe",
        "yes",
        "yep",
        "yeah",
        "ya",
        "no",
        "nope",
        "np",
        "perfect",
        "good",
        "fine",
        "done",
        "noted",
        "bye",
        "cya",
        "gn",
        "night",
        "goodnight",
        "you",
        "too",
        "same",
        "yw",
        "welcome",
        "danke",
        "dank",
        "super",
        "gut",
        "gerne",
        "passt",
        "alles",
        "klar",
        "jo",
        "ja",
        "nein",
        "tschuss",
        "gracias",
        "vale",
        "dale",
        "genial",
        "perfecto",
        "si",
        "jaja",
        "jajaja",
        "bueno",
        "adios",
        "merci",
        "daccord",
        "ok",
        "parfait",
        "oui",
        "non",
        "super",
        "mdr",
        "ciao",
        "grazie",
        "obrigado",
        "obrigada",
        "bedankt",
        "top",
        "top!",
        "👍",
        "❤️",
        "😂",
        "🙏",
        "😊",
        "👌",
    ]
)
_WORD = re.compile(r"[\w']+|[^\w\s]", re.UNICODE)


def is_question(text: str) -> bool:
    stripped = text.strip()
    if "?" in stripped or "¿" in stripped:
        return True
    first = stripped.split(maxsplit=1)[0] if stripped else ""
    return bool(_QUESTION_WORDS.fullmatch(first.casefold()))


def is_closing(text: str, kind: str = "text") -> bool:
    """Only closes the conversation: "ok", "thanks!", "haha", an emoji, a sticker."""
    if kind in ("sticker", "reaction"):
        return True
    words = [w for w in _WORD.findall(text.casefold()) if w not in "!.,~:;-"]
    if not words:
        return kind == "text"
    if len(words) > 4:
        return False
    return all(w in _CLOSERS or not any(c.isalnum() for c in w) for w in words)


@dataclass(frozen=True, slots=True)
class Seen:
    """A message, stripped to what deciding needs."""

    id: int
    conversation: int
    contact: int | None
    from_owner: bool
    is_group: bool
    text: str
    kind: str
    at: datetime
    draft: bool = False
    """Sent by the twin (an approved or automatic draft): not the owner's own timing."""


@dataclass(slots=True)
class Sample:
    """One incoming message as a decision: features, and (once known) the outcome."""

    message_id: int
    contact: int
    conversation: int
    at: datetime
    local_hour: int
    features: list[float]
    replied: bool | None = None
    delay_s: float | None = None


@dataclass(slots=True)
class _Rate:
    answered: float = 0.0
    total: float = 0.0

    def add(self, replied: bool) -> None:
        self.total += 1
        self.answered += replied

    def smoothed(self, prior: float = 0.5, weight: float = 2.0) -> float:
        return (self.answered + prior * weight) / (self.total + weight)


@dataclass(slots=True)
class _Contact:
    rate: _Rate = field(default_factory=_Rate)
    recent: float = 0.5
    by_part: dict[int, _Rate] = field(default_factory=dict)
    by_kind: dict[str, _Rate] = field(default_factory=dict)
    by_daytype: dict[bool, _Rate] = field(default_factory=dict)
    by_hour: dict[tuple[bool, int], _Rate] = field(default_factory=dict)
    """(weekend, local hour) -> their reply rate."""
    reply_hours: list[int] = field(default_factory=lambda: [0] * 24)
    delays: deque[float] = field(default_factory=lambda: deque(maxlen=50))
    part_delays: dict[int, deque[float]] = field(default_factory=dict)


@dataclass(slots=True)
class _Thread:
    last_at: datetime | None = None
    last_from_owner: bool = False
    unanswered: list[Sample] = field(default_factory=list)


def _trailing_run(waiting: list[Sample]) -> list[Sample]:
    """What an owner's message answers: the contact's last unanswered message and those
    just before it (each within `BURST_GAP` of the next). An earlier message followed
    by silence, then more from the contact, was passed over."""
    run: list[Sample] = []
    for sample in reversed(waiting):
        if run and run[-1].at - sample.at > BURST_GAP:
            break
        run.append(sample)
    return run


def _around(contact: _Contact, hour: int, daytypes: tuple[bool, ...]) -> float:
    """The contact's reply rate within an hour of `hour` on these kinds of day."""
    total = _Rate()
    for daytype in daytypes:
        for h in (hour - 1, hour, hour + 1):
            rate = contact.by_hour.get((daytype, h % 24))
            if rate is not None:
                total.answered += rate.answered
                total.total += rate.total
    return total.smoothed(contact.rate.smoothed())


def part_of_day(hour: int) -> int:
    """0 night (0-6), 1 morning, 2 afternoon, 3 evening."""
    return hour // 6


def message_kind(text: str, kind: str) -> str:
    if is_closing(text, kind):
        return "closing"
    return "question" if is_question(text) else "other"


class History:
    """Running statistics over the owner's messages, and the samples they make."""

    def __init__(
        self, owner_name: str = "", timezone: str = "UTC", *, horizon: timedelta = HORIZON
    ) -> None:
        self.zone = ZoneInfo(timezone)
        self.horizon = horizon
        names = owner_name.casefold().split()
        self._owner = re.compile(
            r"\b(?:" + "|".join(re.escape(n) for n in names) + r")\b" if names else r"(?!)"
        )
        self.contacts: dict[int, _Contact] = {}
        self.threads: dict[int, _Thread] = {}
        self.owner_hours = [0] * 24
        self.owner_total = 0
        self.incoming_hours = [0] * 24
        self.delays: deque[float] = deque(maxlen=2000)
        self.part_delays: dict[int, deque[float]] = {}
        self.samples: list[Sample] = []
        self.by_message: dict[int, Sample] = {}
        self._pending: deque[Sample] = deque()
        self.last_id = 0
        self.last_at: datetime | None = None

    # -- what the owner does ----------------------------------------------------------

    def local_hour(self, at: datetime) -> int:
        return at.astimezone(self.zone).hour

    def active_share(self, hour: int) -> float:
        """How much the owner writes at `hour` compared with an even spread (1.0)."""
        if self.owner_total == 0:
            return 1.0
        return self.owner_hours[hour] * 24 / self.owner_total

    def contact(self, contact_id: int) -> _Contact:
        return self.contacts.setdefault(contact_id, _Contact())

    # -- feeding ------------------------------------------------------------------------

    def feed(self, messages: Iterable[Seen]) -> list[Sample]:
        """Take messages (oldest first); the samples of the incoming ones among them."""
        made: list[Sample] = []
        for message in messages:
            sample = self.add(message)
            if sample is not None:
                made.append(sample)
        return made

    def add(self, message: Seen) -> Sample | None:
        self.last_id = max(self.last_id, message.id)
        self.last_at = message.at
        self._settle(message.at)
        thread = self.threads.setdefault(message.conversation, _Thread())
        hour = self.local_hour(message.at)
        sample = None
        if message.from_owner:
            if not message.draft:
                self.owner_hours[hour] += 1
                self.owner_total += 1
            answered = _trailing_run(thread.unanswered)
            for waiting in thread.unanswered:
                replied = waiting in answered and message.at - waiting.at <= self.horizon
                delay = (message.at - waiting.at).total_seconds() if replied else None
                self._resolve(waiting, replied, delay, hour)
            thread.unanswered = []
        elif message.contact is not None:
            sample = self.sample(message)
            self.samples.append(sample)
            self.by_message[message.id] = sample
            self._pending.append(sample)
            thread.unanswered.append(sample)
            self.incoming_hours[hour] += 1
        thread.last_at = message.at
        thread.last_from_owner = message.from_owner
        return sample

    def sample(self, message: Seen) -> Sample:
        """The features of `message` as things stand (nothing is recorded)."""
        assert message.contact is not None
        contact = self.contacts.get(message.contact) or _Contact()
        thread = self.threads.get(message.conversation) or _Thread()
        local = message.at.astimezone(self.zone)
        hour = local.hour
        kind = message_kind(message.text, message.kind)
        since = (message.at - thread.last_at).total_seconds() if thread.last_at is not None else 1e6
        replies = sum(contact.reply_hours)
        usual = sorted(contact.delays)[len(contact.delays) // 2] if contact.delays else 3600.0
        features = [
            float(message.is_group),
            float(is_question(message.text)),
            float(kind == "closing"),
            math.log1p(len(message.text)),
            math.sin(2 * math.pi * hour / 24),
            math.cos(2 * math.pi * hour / 24),
            local.weekday() / 6,
            float(local.weekday() >= 5),
            contact.rate.smoothed(),
            math.log1p(contact.rate.total),
            contact.recent,
            min(self.active_share(hour), 5.0),
            contact.reply_hours[hour] * 24 / replies if replies else 1.0,
            float(thread.last_from_owner),
            math.log1p(max(since, 0.0)),
            math.log1p(len(thread.unanswered)),
            float(bool(self._owner.search(message.text.casefold()))),
            float(message.kind != "text"),
            contact.by_part.get(part_of_day(hour), _Rate()).smoothed(contact.rate.smoothed()),
            contact.by_kind.get(kind, _Rate()).smoothed(contact.rate.smoothed()),
            math.log1p(usual),
            contact.by_daytype.get(local.weekday() >= 5, _Rate()).smoothed(contact.rate.smoothed()),
            _around(contact, hour, (False, True)),
            _around(contact, hour, (local.weekday() >= 5,)),
        ]
        return Sample(
            message_id=message.id,
            contact=message.contact,
            conversation=message.conversation,
            at=message.at,
            local_hour=hour,
            features=features,
        )

    def add_time(self, now: datetime) -> None:
        """Time passed without a message: what waited longer than the horizon went
        unanswered."""
        self._settle(now)

    def _settle(self, now: datetime) -> None:
        """Every waiting message older than the horizon went unanswered."""
        while self._pending and (
            self._pending[0].replied is not None or now - self._pending[0].at > self.horizon
        ):
            sample = self._pending.popleft()
            if sample.replied is None:
                self._resolve(sample, False, None, None)

    def _resolve(
        self, sample: Sample, replied: bool, delay_s: float | None, hour: int | None
    ) -> None:
        if sample.replied is not None:
            return
        sample.replied = replied
        sample.delay_s = delay_s
        contact = self.contact(sample.contact)
        contact.rate.add(replied)
        contact.recent = 0.8 * contact.recent + 0.2 * replied
        contact.by_part.setdefault(part_of_day(sample.local_hour), _Rate()).add(replied)
        kind = "closing" if sample.features[2] else "question" if sample.features[1] else "other"
        contact.by_kind.setdefault(kind, _Rate()).add(replied)
        weekend = bool(sample.features[7])
        contact.by_daytype.setdefault(weekend, _Rate()).add(replied)
        contact.by_hour.setdefault((weekend, sample.local_hour), _Rate()).add(replied)
        if replied and delay_s is not None and hour is not None:
            contact.reply_hours[hour] += 1
            part = part_of_day(sample.local_hour)
            contact.delays.append(delay_s)
            contact.part_delays.setdefault(part, deque(maxlen=50)).append(delay_s)
            self.delays.append(delay_s)
            self.part_delays.setdefault(part, deque(maxlen=500)).append(delay_s)

    def known(self) -> Iterator[Sample]:
        """Samples whose outcome is known."""
        return (s for s in self.samples if s.replied is not None)
