"""The composition root: settings -> store -> memory -> jobs -> handlers -> channels.

    twin = Twin(settings)          # no I/O
    await twin.start()             # migrate, open the index, warm the embedder, connect
    ...
    await twin.stop()              # stop channels, finish queued work, close in order

or `async with Twin(settings) as twin: ...`. Sends happen here, in the process that
holds the channels: deferred sends run on the bot's own queue (in-process, kept in SQL;
or this process's own arq worker on Redis).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import uuid
from collections.abc import Sequence
from types import TracebackType
from typing import Any

from bot.channels.base import Channel
from bot.channels.registry import load_channels
from bot.channels.supervisor import ChannelSupervisor
from bot.handlers.actions import OwnerActions
from bot.handlers.control import ControlHandler
from bot.handlers.dispatch import Dispatcher
from bot.handlers.inbound import InboundProcessor
from bot.handlers.indexing import LiveIndexer
from bot.handlers.outbox import Outbox
from bot.handlers.people_actions import make_people
from bot.handlers.services import Services
from twin_core.memory.embed import Embedder, make_embedder
from twin_core.memory.people import PeopleMemory
from twin_core.memory.service import Memory
from twin_core.memory.store import Store
from twin_core.settings import Settings
from twin_core.style.calibration import Calibrations
from twin_core.style.llm import warm_language_model
from twin_core.types import DraftId, InboundEvent
from workers.jobs import JOBS, JobContext, Queue
from workers.queue import ArqJobQueue, JobQueue, LocalJobQueue, queue_names

log = logging.getLogger("twin")

INSTALL_KEY = "install_id"
_frozen = False


class StartError(RuntimeError):
    """The twin cannot start; the message says what is wrong and what to do."""


def open_store(settings: Settings) -> Store:
    return Store.open(settings.sqlalchemy_url, spill=settings.home / "dead-letters.jsonl")


def open_memory(
    settings: Settings, store: Store | None = None, embedder: Embedder | None = None
) -> Memory:
    """The store with recall's vector index and embedder, as `settings` configure them."""
    return Memory.open(
        store or open_store(settings),
        settings.index_location,
        embedder=embedder or make_embedder(settings.embedder),
        owner_name=settings.owner_name,
        timezone=settings.tz,
    )


def install_id(store: Store) -> str:
    """This twin's id, made on its first start: it keeps its jobs apart on Redis."""
    found = store.state.get(INSTALL_KEY)
    if not found:
        found = uuid.uuid4().hex[:12]
        store.state.set(INSTALL_KEY, found)
    return found


class Twin:
    """One running twin: its memory, its channels, its handlers and its job queues."""

    def __init__(
        self,
        settings: Settings,
        channels: Sequence[Channel] | None = None,
        *,
        store: Store | None = None,
        embedder: Embedder | None = None,
    ) -> None:
        """No I/O here: `start()` opens and connects. `channels` default to those
        `TWIN_CHANNELS` names; a given `store` or `embedder` is used (and not closed)."""
        self.settings = settings
        self._given_channels = list(channels) if channels is not None else None
        self._given_store = store
        self._given_embedder = embedder
        self._started = False
        self._arq_worker: Any = None
        self._arq_task: asyncio.Task[None] | None = None

    # Set by start(); a Twin that was not started has none of these.
    services: Services
    memory: Memory
    people: PeopleMemory
    calibrations: Calibrations
    outbox: Outbox
    actions: OwnerActions
    control: ControlHandler
    inbound: InboundProcessor
    indexer: LiveIndexer
    dispatcher: Dispatcher
    supervisor: ChannelSupervisor
    jobs: JobQueue

    @property
    def store(self) -> Store:
        return self.memory.store

    @property
    def index_embedded(self) -> bool:
        """An embedded index opens in one process only: the bot's."""
        return self.settings.qdrant_url is None

    async def start(self) -> None:
        settings = self.settings
        store = (
            self._given_store
            if self._given_store is not None
            else await asyncio.to_thread(open_store, settings)
        )
        try:
            await self._start(store)
        except BaseException:
            await self._close_resources(store)
            raise
        self._started = True

    async def _start(self, store: Store) -> None:
        settings = self.settings
        channels = (
            self._given_channels if self._given_channels is not None else load_channels(settings)
        )
        install = await asyncio.to_thread(install_id, store)
        embedder = (
            self._given_embedder
            if self._given_embedder is not None
            else await asyncio.to_thread(make_embedder, settings.embedder)
        )
        # Warm the models now, so the first message is drafted as fast as the hundredth
        # (and importing litellm, seconds long, never stalls the event loop).
        await asyncio.to_thread(embedder.embed, ["warming up"])
        await asyncio.to_thread(warm_language_model, settings.llm_model)
        self.memory = await asyncio.to_thread(open_memory, settings, store, embedder)
        self.people = make_people(settings, store)
        self.calibrations = Calibrations(store, self.memory.recall_index.embedder)
        self.jobs = self._make_queue(install)
        self.services = Services(
            settings=settings,
            memory=self.memory,
            channels={c.name: c for c in channels},
            jobs=self.jobs,
            install_id=install,
            people=self.people,
        )
        self.outbox = Outbox(self.services)
        self.actions = OwnerActions(settings, store, self.outbox, self.memory)
        self.control = ControlHandler(self.services, self.actions, self._status_lines)
        menu = [(c.name, c.help) for c in self.control.registry.commands.values()]
        for channel in channels:
            set_menu = getattr(channel, "set_command_menu", None)
            if set_menu is not None:  # optional hook (bot.channels.base)
                set_menu(menu)
        self.inbound = InboundProcessor(
            self.services,
            self.outbox,
            concurrency=settings.inbound_concurrency,
            burst_window_s=settings.burst_window_s,
            calibrations=self.calibrations,
        )
        # The reply-or-not model trained on the history now, not on the first message.
        await asyncio.to_thread(self.inbound.warm)
        self.outbox.on_sent = self.inbound.queries.owner_wrote
        self.actions.on_merged = self.inbound.queries.contacts_changed
        self.indexer = LiveIndexer(
            self.memory, self._queue_backlog, gather_s=settings.index_gather_s
        )
        self.dispatcher = Dispatcher(
            self.services, self.control, self.inbound, recorded=self.indexer.wake
        )
        await self._connect_jobs()
        self.indexer.start()
        self.supervisor = ChannelSupervisor(channels, self.dispatch, notify=self._tell)
        self.services.health = self.supervisor.health
        # What start-up loaded (litellm, the models, SQLAlchemy's machinery) lives as
        # long as the process: keep it out of the collector's full passes, which
        # otherwise stop every thread, the event loop included, for hundreds of ms.
        global _frozen
        if not _frozen:  # once per process: a second Twin (tests) finds it done
            gc.collect()
            gc.freeze()
            _frozen = True
        await self.supervisor.start()
        # Due jobs run once the channels they send through are up.
        await self._run_jobs(install)
        await self._queue_people_backlog()
        # A refit the history is due for is queued now, not by the first message.
        await self.inbound.queue_refit_when_due()

    def _make_queue(self, install: str) -> JobQueue:
        if self.settings.redis_url is None:
            return LocalJobQueue(
                self.memory.store,
                self._job_context(),
                queues=("bot", "work"),
                poll_s=self.settings.job_poll_s,
            )
        return ArqJobQueue(
            self.settings.redis_url.get_secret_value(), queue_names(f"twin:{install}")
        )

    def _job_context(self) -> JobContext:
        return JobContext(
            memory=self.memory,
            deliver_draft=self._deliver,
            tell_owner=self._tell,
            people=self.people,
            calibrations=self.calibrations,
        )

    async def _deliver(self, draft_id: int) -> str:
        outcome = await self.outbox.deliver(DraftId(draft_id))
        return f"draft {draft_id}: {outcome.result.value} {outcome.detail}".strip()

    async def _tell(self, text: str) -> None:
        await self.services.tell_owner(text)

    async def _connect_jobs(self) -> None:
        try:
            await self.jobs.start()
        except (OSError, ConnectionError) as exc:
            raise StartError(f"cannot reach Redis at TWIN_REDIS_URL: {exc}") from None
        except Exception as exc:
            if type(exc).__module__.startswith("redis"):
                raise StartError(f"cannot reach Redis at TWIN_REDIS_URL: {exc}") from None
            raise

    async def _run_jobs(self, install: str) -> None:
        await self.jobs.run()
        if self.settings.redis_url is None:
            return
        from workers.settings import context_startup, make_worker

        bot_jobs = [name for name, spec in JOBS.items() if spec.queue == "bot"]
        if self.index_embedded:
            bot_jobs.append("index_backlog")  # only this process can open the index
        self._arq_worker = make_worker(
            self.settings.redis_url.get_secret_value(),
            queue_names(f"twin:{install}")["bot"],
            jobs=bot_jobs,
            on_startup=context_startup(self._job_context()),
        )
        self._arq_task = asyncio.create_task(self._arq_worker.main(), name="jobs:arq-bot")

    async def _queue_people_backlog(self) -> None:
        """Messages stored while no twin read them for people memory (an import, a
        first start on an old database) are read by the `extract_people` job."""
        people = self.services.people
        if people is None:
            return
        pending = await asyncio.to_thread(people.pending)
        if pending:
            highest = await asyncio.to_thread(self.store.messages.highest_id)
            await self.jobs.enqueue(
                "extract_people", key=self.services.job_key("extract-people", highest)
            )

    async def _queue_backlog(self, pending: int) -> None:
        queue: Queue = "bot" if self.index_embedded else "work"
        highest = await asyncio.to_thread(self.store.messages.highest_id)
        queued = await self.jobs.enqueue(
            "index_backlog",
            key=self.services.job_key("index-backlog", highest),
            queue=queue,
        )
        if queued:
            log.info("%s messages to index for recall: queued as a job", f"{pending:,}")

    def _status_lines(self) -> list[str]:
        lines = []
        pending = self.memory.pending()
        if pending:
            lines.append(f"recall: {pending:,} messages not indexed yet (indexing)")
        if self.memory.recall_index.problem:
            lines.append(f"recall: {self.memory.recall_index.problem}")
        elif self.memory.recall_index.rebuild_tuning is not None:
            lines.append(
                "recall: the index was built by an earlier version; `twin reindex` rebuilds "
                "it smaller, and it finds a little more"
            )
        return lines

    async def dispatch(self, event: InboundEvent) -> None:
        """Every channel's events arrive here (see `bot.handlers.dispatch`)."""
        await self.dispatcher(event)

    async def idle(self) -> None:
        """Until every received message has been handled and indexed (for scripts)."""
        await self.inbound.idle()
        await self.indexer.settled()

    async def stop(self) -> None:
        """Stop the channels (nothing new comes in), finish what is queued, close."""
        if not self._started:
            return
        self._started = False
        # Finish what came in while the channels can still carry the answers, then
        # stop them, then handle whatever arrived meanwhile (its cards may find the
        # control chat gone: that is logged and audited, and the messages are stored).
        await self.inbound.idle()
        await self.supervisor.stop()
        await self.inbound.stop()
        await self.indexer.stop()
        if self._arq_worker is not None:
            with contextlib.suppress(Exception):
                await self._arq_worker.close()
            if self._arq_task is not None:
                self._arq_task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self._arq_task
        await self.jobs.stop()
        await self._close_resources(self.memory.store)

    async def _close_resources(self, store: Store) -> None:
        memory = getattr(self, "memory", None)
        if memory is not None:
            await asyncio.to_thread(memory.close)
        if self._given_store is None:
            await asyncio.to_thread(store.close)

    async def __aenter__(self) -> Twin:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
