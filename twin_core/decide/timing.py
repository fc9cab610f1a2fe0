"""When an automatic reply goes out: about as long as the owner usually takes."""

from __future__ import annotations

import itertools
import statistics

from twin_core.memory.store import Store
from twin_core.types import ConversationId

SAMPLE = 200


def reply_delay(
    store: Store, conversation_id: ConversationId, *, fixed: float | None, ceiling: float
) -> float:
    """Seconds to wait: `fixed` when configured, else the owner's median reply time in
    this conversation (capped at `ceiling`), else `ceiling / 10`."""
    if fixed is not None:
        return fixed
    history = store.messages.in_conversation(conversation_id, limit=SAMPLE)
    waits = [
        (later.sent_at - earlier.sent_at).total_seconds()
        for earlier, later in itertools.pairwise(history)
        if not earlier.from_owner and later.from_owner and later.draft_id is None
    ]
    if not waits:
        return ceiling / 10
    return max(0.0, min(statistics.median(waits), ceiling))
