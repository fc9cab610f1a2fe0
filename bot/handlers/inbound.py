"""A contact's message after it was recorded: decide, compose, route.

The channel's callback only records the event (`bot.handlers.dispatch`) and hands it
here. The processor keeps one queue per conversation: each conversation is handled in
order, conversations concurrently (at most `concurrency` at a time), and everything that
blocks (SQL, the index, the embedder) runs off the event loop. A conversation is drafted
for once it has been quiet for `burst_window_s`, so a burst ("hey" / "are you free" /
"tonight?") gets one draft answering all of it; a message that arrives after a draft was
made supersedes that draft with one that answers everything unanswered.

A contact's words are data. Nothing here parses them as commands: a contact who writes
"/approve 3" gets an ordinary draft reply like any other message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, timedelta

from bot.handlers.actions import draft_card_key
from bot.handlers.cards import (
    card_of,
    careful,
    draft_buttons,
    draft_card,
    draft_data,
    name_warning,
    same_person_line,
)
from bot.handlers.outbox import Outbox
from bot.handlers.services import Services
from twin_core.aio import TaskGroup
from twin_core.decide.confidence import combine
from twin_core.decide.decider import Decider
from twin_core.decide.history import FEATURES, Sample
from twin_core.decide.model import Estimate
from twin_core.decide.reply import names_owner, should_reply
from twin_core.decide.route import Route, route
from twin_core.decide.safety import check
from twin_core.decide.timing import QuietHours
from twin_core.memory.models import (
    Contact,
    Conversation,
    Decision,
    Draft,
    DraftStatus,
    Message,
)
from twin_core.memory.store import SYSTEM_ACTOR, TWIN_ACTOR, Recorded
from twin_core.memory.text import shorten
from twin_core.style.calibration import Calibrations
from twin_core.style.compose import ComposeSettings, NoDraft, Prepared, Proposal, compose, prepare
from twin_core.style.llm import ModelError
from twin_core.style.queries import StyleQueries
from twin_core.types import ContactId, ConversationId, MessageId, PolicyMode, utcnow

log = logging.getLogger("twin.inbound")

MAX_BURST = 6
"""At most this many unanswered messages are answered together."""
BURST_SPAN = timedelta(hours=1)
"""Unanswered messages older than this before the newest are not part of its burst."""
NEW_CONTACT = timedelta(days=14)
"""How long after a contact first wrote their cards may say whom else they may be."""


@dataclass(slots=True)
class _Queue:
    items: list[Recorded] = field(default_factory=list)
    last_arrival: float = 0.0
    worker: asyncio.Task[None] | None = None


@dataclass(frozen=True, slots=True)
class _Plan:
    """What the blocking half of drafting found: whom to answer, which messages, the
    prompt, and what was superseded."""

    contact: Contact
    conversation: Conversation
    burst: list[Message]
    policy: PolicyMode
    prepared: Prepared
    superseded: list[int]
    others: list[str]
    estimate: Estimate
    sample: Sample
    steps: list[str]
    """The reasoning so far, in words (for `/why`)."""
    same_person: str | None = None
    """For a new contact who may be someone already known: the line saying so."""


class InboundProcessor:
    def __init__(
        self,
        services: Services,
        outbox: Outbox,
        *,
        concurrency: int = 4,
        burst_window_s: float = 2.0,
        calibrations: Calibrations | None = None,
    ) -> None:
        self.services = services
        self.outbox = outbox
        self.burst_window_s = burst_window_s
        self._queues: dict[int, _Queue] = {}
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks = TaskGroup()
        self._held = 0
        self._released = asyncio.Event()
        self._released.set()
        self.queries = StyleQueries(services.store)
        self.calibrations = calibrations or Calibrations(
            services.store, services.memory.recall_index.embedder
        )
        """The offline responder's confidence fitted on the owner's own history; the
        `refit_calibration` job fits it again as the history grows (an import, weeks of
        chat), queued from here when due."""
        self.decider = Decider(
            services.store,
            owner_name=services.settings.owner_name,
            timezone=services.settings.timezone,
        )
        """Kept for the processor's life: the owner's history, kept current, and the
        reply-or-not model retrained on its schedule."""
        """Kept for the processor's life: its caches serve draft after draft."""
        settings = services.settings
        self.compose_settings = ComposeSettings(
            owner_name=settings.owner_name,
            model=settings.llm_model,
            api_key=settings.llm_api_key.get_secret_value() if settings.llm_api_key else None,
            api_base=settings.llm_api_base,
            timeout=settings.llm_timeout_s,
            max_chars=settings.max_message_chars,
            retries=settings.llm_retries,
            fallbacks=tuple(settings.llm_fallback_models),
            daily_budget_usd=settings.llm_daily_budget_usd,
        )

    # -- queueing ---------------------------------------------------------------------

    def submit(self, recorded: Recorded) -> None:
        """Queue a newly recorded message for its conversation. Never blocks."""
        conversation_id = recorded.conversation.id
        assert conversation_id is not None
        queue = self._queues.setdefault(conversation_id, _Queue())
        queue.items.append(recorded)
        queue.last_arrival = asyncio.get_running_loop().time()
        if queue.worker is None:
            queue.worker = self._tasks.spawn(
                self._work(conversation_id, queue), name=f"inbound:{conversation_id}"
            )

    @contextlib.asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        """Queue without processing until the block ends (a script feeding a burst)."""
        self._held += 1
        self._released.clear()
        try:
            yield
        finally:
            self._held -= 1
            if not self._held:
                self._released.set()

    @property
    def busy(self) -> int:
        """Conversations queued or being handled."""
        return len(self._queues)

    async def idle(self) -> None:
        """Until every queued message has been handled."""
        while self._queues:
            workers = [q.worker for q in self._queues.values() if q.worker is not None]
            await asyncio.gather(*workers, return_exceptions=True)

    def warm(self) -> None:
        """Blocking: what the first draft after a start would otherwise pay, done
        before the channels connect. The reply-or-not model reads the owner's history
        and is trained (seconds: scikit-learn is imported, boosting is fitted; on the
        first message it was most of the first draft's time), and the calibration is
        read. (`queue_refit_when_due` then looks whether it should be refitted.)"""
        self.decider.refresh()
        self.calibrations.current()

    async def stop(self) -> None:
        """Finish what is queued, then stop."""
        self._released.set()
        self._held = 0
        await self.idle()
        await self._tasks.cancel()

    async def _work(self, conversation_id: int, queue: _Queue) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                while True:
                    await self._released.wait()
                    quiet = loop.time() - queue.last_arrival
                    if quiet >= self.burst_window_s:
                        break
                    await asyncio.sleep(self.burst_window_s - quiet)
                if not queue.items:
                    return
                batch, queue.items = queue.items, []
                async with self._slots:
                    await self._handle_safely(batch)
        finally:
            self._queues.pop(conversation_id, None)
            if queue.items:  # only after a cancellation: hand them to a new worker
                for recorded in queue.items:
                    self.submit(recorded)

    async def _handle_safely(self, batch: list[Recorded]) -> None:
        """A failure is reported, never raised into the queue: the messages are stored,
        so nothing is lost, and the owner hears what happened."""
        try:
            await self.handle(batch)
        except Exception as exc:
            last = batch[-1]
            log.exception("handling %s/%s failed", last.message.channel, last.message.external_id)
            sender = last.contact.name if last.contact else "you"
            warning = ""
            if last.contact is not None:
                with contextlib.suppress(Exception):
                    names = await asyncio.to_thread(self.services.store.contacts.names)
                    warning = careful(
                        last.contact, name_warning(last.contact, list(names.values()))
                    )
            with contextlib.suppress(Exception):
                await asyncio.to_thread(
                    self.services.store.audit.record,
                    SYSTEM_ACTOR,
                    "error",
                    f"{last.message.channel}:{last.message.external_id}",
                    f"{type(exc).__name__}: {exc}",
                )
            await self.services.tell_owner(
                f"Something went wrong with a message from {sender}: "
                f"{type(exc).__name__}: {shorten(str(exc), 200)}. The message is stored; "
                "answer it yourself." + (f"\n{warning.strip()}" if warning else "")
            )

    # -- one conversation's batch -----------------------------------------------------

    async def handle(self, batch: list[Recorded]) -> None:
        """Handle the new messages of one conversation, oldest first."""
        conversation = batch[-1].conversation
        assert conversation.id is not None
        owner_at = [i for i, r in enumerate(batch) if r.message.from_owner]
        for index in owner_at:
            self.queries.owner_wrote(batch[index].message.text)
        if owner_at:
            await asyncio.to_thread(self._owner_answered, conversation.id)
        fresh = [
            r
            for r in batch[(owner_at[-1] + 1 if owner_at else 0) :]
            if r.contact is not None and not r.message.from_owner
        ]
        if not fresh:
            return
        contact = fresh[-1].contact
        assert contact is not None
        await self.queue_refit_when_due()
        plan = await asyncio.to_thread(
            self._plan, conversation, contact, [r.message for r in fresh if r.contact == contact]
        )
        if plan is None:
            return
        for number in plan.superseded:
            await self.services.tell_owner(
                f"Draft {number} for {contact.name} is replaced: they wrote again.",
                card=draft_card_key(number),
            )
        try:
            proposal = await compose(
                self.services.memory,
                contact,
                plan.burst,
                self.compose_settings,
                prepared=plan.prepared,
            )
        except (NoDraft, ModelError) as exc:
            await asyncio.to_thread(
                self.services.store.audit.record,
                TWIN_ACTOR,
                "no_draft",
                contact.name,
                str(exc),
                message_id=plan.burst[-1].id,
            )
            await self.services.tell_owner(
                f'{contact.name} wrote: "{shorten(plan.burst[-1].text, 200)}"\n'
                + careful(contact, name_warning(contact, plan.others))
                + (f"{plan.same_person}\n" if plan.same_person else "")
                + f"No draft: {exc}. Answer them yourself."
            )
            return
        await self._route(plan, proposal)

    async def queue_refit_when_due(self) -> None:
        """At most every `CHECK_EVERY_S`: queue the `refit_calibration` job when the
        history has grown enough since the stored fit. The key is the highest message
        id, so one history is refitted once however often this looks. A failure here is
        logged, never the draft's."""
        if not self.calibrations.time_to_check():
            return
        try:
            highest = await asyncio.to_thread(self.calibrations.refit_due)
            if highest is None:
                return
            if await self.services.jobs.enqueue(
                "refit_calibration", key=self.services.job_key("refit-calibration", highest)
            ):
                log.info("style calibration: the history has grown; refit queued as a job")
        except Exception:
            log.exception("style calibration: could not queue a refit")

    def _owner_answered(self, conversation_id: ConversationId) -> None:
        """The owner answered from their own device: their words replace any draft."""
        store = self.services.store
        for draft in store.drafts.open_in(conversation_id):
            assert draft.id is not None
            if store.drafts.move(
                draft.id, [DraftStatus.PENDING, DraftStatus.APPROVED], DraftStatus.EXPIRED
            ):
                store.audit.record(
                    TWIN_ACTOR,
                    "draft_expired",
                    str(draft.id),
                    "you replied yourself",
                    draft_id=draft.id,
                )

    def _plan(
        self, conversation: Conversation, contact: Contact, fresh: list[Message]
    ) -> _Plan | None:
        """Blocking: decide whether to answer, gather the burst, supersede older drafts,
        and build the prompt."""
        settings = self.services.settings
        store = self.services.store
        assert contact.id is not None and conversation.id is not None
        policy, policy_why = self._policy(contact, conversation, fresh)
        decisions = [should_reply(m, conversation, policy, settings.owner_name) for m in fresh]
        if not any(d.reply for d in decisions):
            why = policy_why if policy is PolicyMode.OFF else decisions[-1].why
            store.audit.record(TWIN_ACTOR, "no_reply", contact.name, why, message_id=fresh[-1].id)
            return None
        last = next(m for m, d in zip(reversed(fresh), reversed(decisions), strict=True) if d.reply)
        estimate, sample = self.decider.reply_estimate(last, conversation)
        likely = (
            f"the model learned from your history says you answer messages like this "
            f"{estimate.probability:.0%} of the time"
            if estimate.learned
            else f"too little history to learn from yet; you answer {contact.name} "
            f"{estimate.probability:.0%} of the time (smoothed)"
        )
        steps = [
            policy_why,
            f"rules: {decisions[-1].why}",
            f"reply or not: {likely}",
            "what it saw: " + _describe(sample),
        ]
        if estimate.learned and estimate.probability < settings.reply_floor:
            why = f"you would likely not answer this ({estimate.probability:.0%} < " + (
                f"{settings.reply_floor:.0%})"
            )
            store.audit.record(
                TWIN_ACTOR,
                "no_reply",
                contact.name,
                why,
                message_id=last.id,
                reply_probability=round(estimate.probability, 3),
                steps=steps,
            )
            return None
        burst = self._burst(conversation.id, contact.id, fresh)
        superseded: list[int] = []
        for draft in store.drafts.open_in(conversation.id):
            assert draft.id is not None
            if draft.contact_id != contact.id:
                continue
            allowed = [DraftStatus.PENDING] + ([DraftStatus.APPROVED] if draft.auto else [])
            if store.drafts.move(draft.id, allowed, DraftStatus.SUPERSEDED):
                superseded.append(draft.id)
                store.audit.record(
                    TWIN_ACTOR,
                    "draft_superseded",
                    contact.name,
                    f"{contact.name} wrote again; a new draft answers everything unanswered",
                    draft_id=draft.id,
                )
        prepared = prepare(
            self.services.memory,
            contact,
            burst,
            self.compose_settings,
            queries=self.queries,
            calibration=self.calibrations.current(),
        )
        others = list(self.queries.names().values())
        same = None
        created = contact.created_at
        if utcnow() - (created if created.tzinfo else created.replace(tzinfo=UTC)) <= NEW_CONTACT:
            same = same_person_line(contact, store.contacts.same_person(contact.id))
        return _Plan(
            contact,
            conversation,
            burst,
            policy,
            prepared,
            superseded,
            others,
            estimate,
            sample,
            steps,
            same,
        )

    def _policy(
        self, contact: Contact, conversation: Conversation, fresh: list[Message]
    ) -> tuple[PolicyMode, str]:
        """The contact's own policy, else the default (new contacts: draft). In a group,
        never more than the group policy (default off: the twin stays out of group
        chatter), except that a message naming the owner is addressed to them and gets
        a draft (never an automatic reply unless the group policy is `auto`)."""
        settings = self.services.settings
        assert contact.id is not None
        own = self.services.store.policies.get(contact.id)
        policy = own or PolicyMode(settings.default_policy)
        why = (
            f"policy for {contact.name}: {policy.value}"
            if own
            else f"{contact.name} has no policy of their own: the default {policy.value}"
        )
        if conversation.is_group:
            group = PolicyMode(settings.group_policy)
            order = [PolicyMode.OFF, PolicyMode.DRAFT, PolicyMode.AUTO]
            named = any(names_owner(m.text, settings.owner_name) for m in fresh)
            cap = group if not named or group is PolicyMode.AUTO else PolicyMode.DRAFT
            if order.index(cap) < order.index(policy):
                policy = cap
                why += (
                    f"; a group message naming you: at most {cap.value}"
                    if named
                    else f"; a group conversation: at most {cap.value} (TWIN_GROUP_POLICY)"
                )
        return policy, why

    def _burst(
        self, conversation_id: ConversationId, contact_id: ContactId, fresh: list[Message]
    ) -> list[Message]:
        """The contact's unanswered text messages up to the newest: everything since
        the owner last wrote in this conversation (at most `MAX_BURST`, within
        `BURST_SPAN` of the newest)."""
        newest = fresh[-1]
        history = self.services.store.messages.in_conversation(
            conversation_id, around=newest.sent_at, limit=MAX_BURST * 4
        )
        unanswered: list[Message] = []
        for message in reversed(history):
            if message.from_owner:
                break
            if (
                message.contact_id == contact_id
                and message.kind == "text"
                and newest.sent_at - message.sent_at <= BURST_SPAN
            ):
                unanswered.append(message)
            if len(unanswered) >= MAX_BURST:
                break
        ids = {m.id for m in unanswered}
        unanswered += [m for m in fresh if m.id not in ids and m.kind == "text"]
        unanswered.sort(key=lambda m: (m.sent_at, m.id or 0))
        return unanswered[-MAX_BURST:] or fresh[-1:]

    async def _route(self, plan: _Plan, proposal: Proposal) -> None:
        settings = self.services.settings
        store = self.services.store
        contact, message = plan.contact, plan.burst[-1]
        assert contact.id is not None and message.id is not None
        paused = await asyncio.to_thread(self.outbox.paused)
        gate = check("\n".join(m.text for m in plan.burst), proposal.text)
        confidence = combine(
            plan.estimate.probability if plan.estimate.learned else None,
            proposal.confidence,
            proposal.style_distance,
            gate,
            calibration=self.decider.calibration,
        )
        own = await asyncio.to_thread(store.policies.threshold, contact.id)
        threshold = own if own is not None else settings.auto_confidence
        routing = route(plan.policy, confidence.value, threshold, paused=paused, gate=gate)
        auto = routing.route is Route.AUTO
        draft = await asyncio.to_thread(
            store.drafts.add,
            Draft(
                conversation_id=message.conversation_id,
                contact_id=contact.id,
                message_id=message.id,
                text=proposal.text,
                confidence=confidence.value,
                reasons=[*proposal.reasons, *confidence.reasons, routing.why],
                model=proposal.model,
                status=DraftStatus.APPROVED if auto else DraftStatus.PENDING,
                auto=auto,
            ),
        )
        assert draft.id is not None
        await asyncio.to_thread(
            store.audit.record,
            TWIN_ACTOR,
            "auto_approved" if auto else "drafted",
            contact.name,
            routing.why,
            draft_id=draft.id,
            answers=[m.id for m in plan.burst],
            confidence=confidence.value,
            reasons=[*proposal.reasons, *confidence.reasons],
            concerns=[c.value for c in gate.concerns],
        )
        warning = name_warning(contact, plan.others)
        delay: float | None = None
        steps = [
            *plan.steps,
            f"the safety gate: {gate.describe()}",
            f"draft by {proposal.model}: " + "; ".join(proposal.reasons),
            f"confidence {confidence.value:.2f}: " + "; ".join(confidence.reasons),
            f"threshold {threshold:.2f} ("
            + ("their own" if own is not None else "TWIN_AUTO_CONFIDENCE")
            + f"); route: {routing.route.value}, {routing.why}",
        ]
        if auto:
            when = await asyncio.to_thread(
                self.decider.send_time,
                contact.id,
                utcnow(),
                fixed=settings.auto_send_delay_s,
                ceiling=settings.auto_send_max_delay_s,
                quiet=QuietHours.parse(settings.quiet_hours) if settings.quiet_hours else None,
            )
            delay = max(when.delay_s, settings.undo_window_s)
            steps.append(
                f"timing: {when.why}; waits {delay:.0f}s in all "
                f"(undo window {settings.undo_window_s:.0f}s)"
            )
        await asyncio.to_thread(
            store.decisions.add,
            Decision(
                draft_id=draft.id,
                message_id=MessageId(plan.sample.message_id),
                contact_id=contact.id,
                features=plan.sample.features,
                reply_probability=plan.estimate.probability if plan.estimate.learned else None,
                confidence=confidence.value,
                raw_confidence=confidence.raw,
                threshold=threshold,
                concerns=[c.value for c in gate.concerns],
                steps=steps,
            ),
        )
        if delay is not None:
            await self.services.jobs.enqueue(
                "send_draft",
                draft.id,
                key=self.services.job_key("send-draft", draft.id),
                defer_s=delay,
            )
        await self.services.tell_owner(
            draft_card(
                draft,
                contact,
                plan.burst,
                warning=warning,
                auto_in=delay,
                same_person=plan.same_person,
            ),
            data=draft_data(
                draft,
                contact,
                plan.burst,
                warning=warning,
                auto_in=delay,
                same_person=plan.same_person,
            ),
            buttons=draft_buttons(draft, auto=delay is not None),
            card=card_of(draft),
        )


def _describe(sample: Sample) -> str:
    """A sample's features in words, for `/why`."""
    f = dict(zip(FEATURES, sample.features, strict=True))
    parts = [
        "a group message" if f["group"] else "a direct message",
        "a question"
        if f["question"]
        else "only closing the conversation"
        if f["closing"]
        else "a statement",
        f"at {sample.local_hour:02d}:00 local time",
        f"their reply rate from you so far {f['contact_reply_rate']:.0%}",
        "you had written last in the thread" if f["thread_answered"] else "they wrote last",
    ]
    if f["owner_active_hour"] < 0.15:
        parts.append("an hour you rarely write in")
    return ", ".join(parts)
