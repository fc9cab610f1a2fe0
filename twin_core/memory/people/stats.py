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


def add_message(
    relationship: Relationship,
    sent_at: datetime,
    *,
    from_owner: bool,
    language: str,
    reply_delay: int | None,
) -> None:
    """Count one message in `relationship` (changed in place)."""
    if from_owner:
        relationship.messages_out += 1
    else:
        relationship.messages_in += 1
    if relationship.first_at is None or sent_at < relationship.first_at:
        relationship.first_at = sent_at
    if relationship.last_at is None or sent_at > relationship.last_at:
        relationship.last_at = sent_at
    if language:
        languages = dict(relationship.languages)
        languages[language] = languages.get(language, 0) + 1
        relationship.languages = languages
    if reply_delay is not None and 0 <= reply_delay <= MAX_REPLY_DELAY:
        relationship.reply_delays = [*relationship.reply_delays, reply_delay][-MAX_DELAYS:]
    relationship.sessions = add_to_sessions(
        relationship.sessions, int(sent_at.timestamp()), from_owner
    )


def add_to_sessions(sessions: list[list[int]], at: int, from_owner: bool) -> list[list[int]]:
    """`sessions` with a message at `at` in it: joined to the conversation it belongs
    to (extending it, or merging two it bridges), or a new one."""
    sessions = [list(s) for s in sessions]
    starts = [s[0] for s in sessions]
    index = bisect.bisect_right(starts, at)
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
