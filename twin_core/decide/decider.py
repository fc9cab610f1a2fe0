"""The decider: the owner's history kept current, the reply-or-not model retrained on a
schedule, and the owner's verdicts folded in.

    decider = Decider(store, owner_name="Sam", timezone="Europe/Lisbon")
    estimate, sample = decider.reply_estimate(message, conversation)   # blocking
    when = decider.send_time(contact_id, now, fixed=None, ceiling=300, quiet=None)

Everything here blocks (SQL, training): call it off the event loop. New messages are
fed to the running `History` incrementally; the model is retrained when enough has
changed since it was last trained (`RETRAIN_EVERY` new outcomes, a new verdict, or
`RETRAIN_AFTER` of age; while it had too little to learn from, any new outcome). A
message recorded out of time order (an import of older history) makes the history be
rebuilt once from the store.
"""

from __future__ import annotations

import random
import threading
import time
from datetime import datetime

from sqlmodel import select

from twin_core.decide.confidence import Calibration
from twin_core.decide.history import History, Sample, Seen
from twin_core.decide.model import Estimate, Lesson, ReplyModel
from twin_core.decide.timing import QuietHours, SendTime, send_time
from twin_core.memory.models import Conversation, Message
from twin_core.memory.store import Store

RETRAIN_EVERY = 200
"""Retrain after this many newly known outcomes."""
RETRAIN_AFTER = 6 * 3600.0
"""...or after this many seconds, whichever comes first."""
MAX_TRAIN = 20_000
"""The model learns from at most this many of the latest known outcomes (and every
verdict): boosting's time grows with them (25 s for 50,000 at load 6, a 100k-message
history; 11.5 s for 20,000), and it is paid when the twin starts and at every retrain."""


def seen(message: Message, is_group: bool) -> Seen:
    assert message.id is not None
    return Seen(
        id=message.id,
        conversation=message.conversation_id,
        contact=message.contact_id,
        from_owner=message.from_owner,
        is_group=is_group,
        text=message.text,
        kind=message.kind,
        at=message.sent_at,
        draft=message.draft_id is not None,
    )


class Decider:
    def __init__(
        self,
        store: Store,
        *,
        owner_name: str = "",
        timezone: str = "UTC",
        seed: int | None = None,
    ) -> None:
        self.store = store
        self.owner_name = owner_name
        self.timezone = timezone
        self.history = History(owner_name, timezone)
        self.model = ReplyModel()
        self.calibration = Calibration()
        self.rng = random.Random(seed)
        self._lock = threading.Lock()
        self._groups: dict[int, bool] = {}
        self._known_at_fit = -1
        self._verdicts_at_fit = -1
        self._fitted_at = 0.0

    @property
    def verdicts_learned(self) -> int:
        """How many of the owner's verdicts the current model and calibration include."""
        return max(self._verdicts_at_fit, 0)

    # -- keeping current ------------------------------------------------------------------

    def refresh(self) -> None:
        """Feed what was recorded since last time; retrain when due. Blocking."""
        with self._lock:
            self._catch_up()
            known = sum(1 for s in self.history.samples if s.replied is not None)
            verdicts = self.store.decisions.judged_count()
            due = (
                self._known_at_fit < 0
                # Too little to learn from last time (a start on an empty store, then
                # an import): try again with every new outcome, not only every 200;
                # too few samples end the try before anything is trained.
                or (not self.model.ready and known != self._known_at_fit)
                or known - self._known_at_fit >= RETRAIN_EVERY
                or verdicts != self._verdicts_at_fit
                or time.monotonic() - self._fitted_at >= RETRAIN_AFTER
            )
            if due:
                self._fit(known, verdicts)

    def _is_group(self, conversation_id: int) -> bool:
        if conversation_id not in self._groups:
            with self.store.database.session() as session:
                for cid, group in session.exec(select(Conversation.id, Conversation.is_group)):
                    if cid is not None:
                        self._groups[cid] = bool(group)
        return self._groups.get(conversation_id, False)

    def _catch_up(self) -> None:
        fresh = list(self.store.messages.iter_after(self.history.last_id))
        if not fresh:
            return
        last_at = self.history.last_at
        if last_at is not None and min(m.sent_at for m in fresh) < last_at:
            # Older history arrived (an import): read it all again, in time order.
            self.history = History(self.owner_name, self.timezone)
            fresh = list(self.store.messages.iter_after(0))
            self._known_at_fit = -1
        fresh.sort(key=lambda m: (m.sent_at, m.id or 0))
        self.history.feed(seen(m, self._is_group(m.conversation_id)) for m in fresh)
        self.history.add_time(max(m.sent_at for m in fresh))

    def _fit(self, known: int, verdicts: int) -> None:
        judged = self.store.decisions.judged()
        lessons = [Lesson(list(d.features), d.verdict == "good") for d in judged if d.features]
        known_samples = list(self.history.known())
        self.model.fit(known_samples[-MAX_TRAIN:], lessons)
        self.calibration = Calibration([(d.raw_confidence, d.verdict == "good") for d in judged])
        self._known_at_fit = known
        self._verdicts_at_fit = verdicts
        self._fitted_at = time.monotonic()

    # -- deciding -------------------------------------------------------------------------

    def reply_estimate(
        self, message: Message, conversation: Conversation
    ) -> tuple[Estimate, Sample]:
        """How likely the owner answers `message` (already recorded), and its features."""
        self.refresh()
        item = seen(message, conversation.is_group)
        with self._lock:
            assert message.id is not None
            # Fed already: its features as they were when it arrived, as in training.
            sample = self.history.by_message.get(message.id) or self.history.sample(item)
            return self.model.estimate(sample.features), sample

    def send_time(
        self,
        contact_id: int | None,
        now: datetime,
        *,
        fixed: float | None,
        ceiling: float,
        quiet: QuietHours | None,
    ) -> SendTime:
        with self._lock:
            return send_time(
                self.history,
                contact_id,
                now,
                fixed=fixed,
                ceiling=ceiling,
                quiet=quiet,
                rng=self.rng,
            )
