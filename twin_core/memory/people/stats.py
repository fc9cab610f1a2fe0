"""A relationship's running figures, updated one message at a time.

Conversations are runs of messages with no pause longer than `SESSION_GAP`; they are
kept as intervals, so a message that arrives out of order (an import of an old chat
after live messages) lands in, extends or joins the right ones, and the figures stay
what a full rescan would give.
"""

from __future__ import annotations

import bisect
import itertools
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from twin_core.memory.people.models import Relationship

SESSION_GAP = int(timedelta(hours=8).total_seconds())
MAX_DELAYS = 200
MAX_REPLY_DELAY = int(timedelta(days=2).total_seconds())
"""A longer wait is a new conversation, not a reply."""
UNUSUAL_FACTOR = 2.0
"""A silence longer than this many usual gaps is unusual (and worth a check-in)."""


@dataclass(slots=True)
class Tally:
    """A relationship's figures while a batch counts into them (plain Python: a table
    row's attribute machinery costs more than the counting), written back once."""

    messages_in: int
    messages_out: int
    first_at: datetime | None
    last_at: datetime | None
    sessions: list[list[int]]
    reply_delays: list[int]
    languages: dict[str, int]

    @classmethod
    def of(cls, row: Relationship) -> Tally:
        return cls(
            row.messages_in,
            row.messages_out,
            row.first_at,
            row.last_at,
            [list(s) for s in row.sessions],
            list(row.reply_delays),
            dict(row.languages),
        )

    def write(self, row: Relationship) -> None:
        row.messages_in = self.messages_in
        row.messages_out = self.messages_out
        row.first_at = self.first_at
        row.last_at = self.last_at
        row.sessions = self.sessions
        row.reply_delays = self.reply_delays[-MAX_DELAYS:]
        row.languages = self.languages


def add_message(
    tally: Tally,
    sent_at: datetime,
    *,
    from_owner: bool,
    language: str,
    reply_delay: int | None,
) -> None:
    """Count one message in `tally` (changed in place)."""
    if from_owner:
        tally.messages_out += 1
    else:
        tally.messages_in += 1
    if tally.first_at is None or sent_at < tally.first_at:
        tally.first_at = sent_at
    if tally.last_at is None or sent_at > tally.last_at:
        tally.last_at = sent_at
    if language:
        tally.languages[language] = tally.languages.get(language, 0) + 1
    if reply_delay is not None and 0 <= reply_delay <= MAX_REPLY_DELAY:
        tally.reply_delays.append(reply_delay)
        if len(tally.reply_delays) > 2 * MAX_DELAYS:
            del tally.reply_delays[:-MAX_DELAYS]
    add_to_sessions(tally.sessions, int(sent_at.timestamp()), from_owner)


def add_to_sessions(sessions: list[list[int]], at: int, from_owner: bool) -> list[list[int]]:
    """`sessions` (changed in place, and returned) with a message at `at` in it: joined
    to the conversation it belongs to (extending it, or merging two it bridges), or a
    new one."""
    index = bisect.bisect_right(sessions, at, key=lambda s: s[0])
    before = sessions[index - 1] if index > 0 else None
    after = sessions[index] if index < len(sessions) else None
    joins_before = before is not None and at - before[1] <= SESSION_GAP
    joins_after = after is not None and after[0] - at <= SESSION_GAP
    if joins_before and joins_after:
        assert before is not None and after is not None
        before[1] = max(before[1], after[1])
        del sessions[index]
    elif joins_before:
        assert before is not None
        before[1] = max(before[1], at)
    elif joins_after:
        assert after is not None
        after[0] = at
        after[2] = int(from_owner)
    else:
        sessions.insert(index, [at, at, int(from_owner)])
    return sessions


@dataclass(frozen=True, slots=True)
class Rhythm:
    conversations: int
    usual_gap_days: float | None
    """The median pause between conversations; None with fewer than three."""
    current_gap_days: float | None
    unusual: bool
    owner_starts: float | None
    """The share of conversations the owner started."""
    reply_delay_minutes: float | None


def rhythm(relationship: Relationship, now: datetime | None = None) -> Rhythm:
    now = now or datetime.now(UTC)
    sessions = relationship.sessions
    gaps = [(b[0] - a[1]) / 86400 for a, b in itertools.pairwise(sessions)]
    usual = statistics.median(gaps) if len(gaps) >= 2 else None
    current = (now - relationship.last_at).total_seconds() / 86400 if relationship.last_at else None
    unusual = (
        usual is not None
        and current is not None
        and current > max(usual * UNUSUAL_FACTOR, usual + 1.0)
    )
    delays = relationship.reply_delays
    return Rhythm(
        conversations=len(sessions),
        usual_gap_days=usual,
        current_gap_days=current,
        unusual=unusual,
        owner_starts=sum(s[2] for s in sessions) / len(sessions) if sessions else None,
        reply_delay_minutes=statistics.median(delays) / 60 if delays else None,
    )
