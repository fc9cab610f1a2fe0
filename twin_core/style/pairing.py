"""When an owner's message is the answer to a contact's: one rule, used by the composer's
SQL (`style.queries`) and by the benchmarks alike.

A message of the owner's answers a contact's message when

* it is an explicit platform reply to it (Telegram's, Discord's, Slack's reply link,
  an email's In-Reply-To): that wins over everything below; or
* it is the next turn of the conversation after it (system notices such as joins and
  pins are not turns), and
  - it is the owner's own text: not a photo or file (its words are a caption), not a
    forwarded item (someone else's words), not a call;
  - it came within the conversation's usual reply window (`reply_window`): the owner
    writing hours after a quiet chat starts a new topic, it does not answer;
  - it is not an explicit reply to some other message.

Whether the owner's message was addressed to the contact at all (an email forwarded to
Alice in Mallory's thread) is the other half of the rule, in `StyleQueries.addressed_to`.
"""

from __future__ import annotations

import itertools
import json
import statistics
from collections.abc import Sequence
from datetime import timedelta

from twin_core.memory.models import Message
from twin_core.types import MessageKind

DEFAULT_REPLY_WINDOW = timedelta(hours=6)
"""The reply window of a conversation with too little history to learn its own."""
MIN_REPLY_WINDOW = timedelta(minutes=30)
MAX_REPLY_WINDOW = timedelta(hours=12)
WINDOW_SAMPLES = 8
"""Replies needed before a conversation's own window replaces the default."""
LONGEST_GAP = timedelta(hours=24)
"""Gaps longer than this are never counted as replies when the window is learned."""

NOT_TURNS = frozenset({MessageKind.SYSTEM.value, MessageKind.DELETED.value})
"""Kinds skipped when looking for the next turn: nobody said them."""

_FORWARD_KEYS = ("forwarded_from", "forward_from", "forward_origin", "forward_sender_name")


def is_forwarded(message: Message) -> bool:
    """Whether the platform marked `message` as forwarded (kept in its raw record by the
    importers and adapters: Telegram's `forwarded_from`/`forward_origin`, Discord's
    forward reference, Slack's shared attachments)."""
    raw = message.raw
    if not raw or not raw.startswith("{"):
        return False
    try:
        record = json.loads(raw)
    except ValueError:
        return False
    if not isinstance(record, dict):
        return False
    if any(record.get(key) for key in _FORWARD_KEYS):
        return True
    reference = record.get("reference") or record.get("message_reference")
    if isinstance(reference, dict) and str(reference.get("type", "")).lower() in ("forward", "1"):
        return True
    attachments = record.get("attachments")
    return isinstance(attachments, list) and any(
        isinstance(a, dict) and a.get("is_share") for a in attachments
    )


def refusal(asked: Message, turn: Message, window: timedelta) -> str | None:
    """Why `turn`, the next turn after the contact's `asked`, is not the answer to it;
    None when it is."""
    if not turn.from_owner:
        return "not the owner's"
    if turn.kind != MessageKind.TEXT.value:
        return f"a {turn.kind}, not a reply" if turn.kind != "media" else "a photo or file"
    if is_forwarded(turn):
        return "forwarded"
    if turn.reply_to is not None and turn.reply_to != asked.external_id:
        return "a reply to another message"
    if turn.sent_at - asked.sent_at > window:
        return "hours later: a new topic"
    return None


def explicit_answer(asked: Message, turn: Message) -> bool:
    """Whether the owner's `turn` is an explicit platform reply to `asked` that may
    count (their own text, not something forwarded)."""
    return (
        turn.from_owner
        and turn.reply_to is not None
        and turn.reply_to == asked.external_id
        and turn.kind == MessageKind.TEXT.value
        and not is_forwarded(turn)
    )


def reply_window(gaps: Sequence[timedelta]) -> timedelta:
    """The usual reply window of a conversation from its contact-to-owner gaps: twice
    the 90th percentile of the owner's reply delays, within 30 minutes and 12 hours
    (6 hours until `WINDOW_SAMPLES` replies are known)."""
    seconds = [g.total_seconds() for g in gaps if timedelta(0) <= g <= LONGEST_GAP]
    if len(seconds) < WINDOW_SAMPLES:
        return DEFAULT_REPLY_WINDOW
    p90 = statistics.quantiles(seconds, n=10)[-1]
    return min(max(timedelta(seconds=2 * p90), MIN_REPLY_WINDOW), MAX_REPLY_WINDOW)


def reply_gaps(history: Sequence[Message]) -> list[timedelta]:
    """The delays between a contact's turn and the owner's next turn, in time order."""
    turns = [m for m in history if m.kind not in NOT_TURNS]
    return [
        later.sent_at - earlier.sent_at
        for earlier, later in itertools.pairwise(turns)
        if not earlier.from_owner and later.from_owner
    ]


def next_turn_after(history: Sequence[Message], index: int) -> Message | None:
    """The first turn after `history[index]` (skipping notices), or None."""
    for message in history[index + 1 :]:
        if message.kind not in NOT_TURNS:
            return message
    return None
