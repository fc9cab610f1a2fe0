"""The composition root: settings -> stores -> channels -> run."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from types import TracebackType
from typing import Any

from bot.channels.base import Channel
from bot.handlers.control import ControlHandler
from bot.handlers.inbound import InboundHandler
from bot.handlers.outbox import Outbox
from bot.handlers.services import Services
from twin_core.memory.embed import Embedder, make_embedder
from twin_core.memory.recall import Progress
from twin_core.memory.service import Memory
from twin_core.memory.store import SYSTEM_ACTOR, Store
from twin_core.memory.text import shorten
from twin_core.settings import Settings
from twin_core.types import InboundEvent
from workers.jobs import JobContext
from workers.queue import ArqJobQueue, JobQueue, LocalJobQueue

log = logging.getLogger("twin")


def open_memory(
    settings: Settings,
    store: Store | None = None,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
) -> Memory:
    """The store with recall's vector index and embedder, as `settings` configure them."""
    return Memory.open(
        store or Store.open(settings.sqlalchemy_url),
        settings.index_location,
        embedder=embedder or make_embedder(settings.embedder),
        owner_name=settings.owner_name,
        progress=progress,
        timezone=settings.tz,
    )


class Twin:
    """One running twin: its memory, its channels, its handlers and its job queue."""

    def __init__(
        self,
        settings: Settings,
        channels: Sequence[Channel],
        *,
        store: Store | None = None,
        queue: JobQueue | None = None,
        embedder: Embedder | None = None,
    ) -> None:
        self.settings = settings
        store = store or Store.open(settings.sqlalchemy_url)
        self.memory = open_memory(settings, store, embedder)
        ctx: dict[str, Any] = {}
        if queue is None:
            queue = (
                ArqJobQueue(settings.redis_url.get_secret_value())
                if settings.redis_url is not None
                else LocalJobQueue(store, ctx)
            )
        self.services = Services(
            settings=settings,
            memory=self.memory,
            channels={c.name: c for c in channels},
            queue=queue,
        )
        self.outbox = Outbox(self.services)
        ctx["twin"] = self.job_context()
        self.inbound = InboundHandler(self.services, self.outbox)
        self.control = ControlHandler(self.services, self.outbox)

    @property
    def store(self) -> Store:
        return self.memory.store

    def job_context(self) -> JobContext:
        return JobContext(deliver_draft=self.outbox.deliver)

    async def start(self) -> None:
        await self.services.queue.start()
        for channel in self.services.channels.values():
            await channel.start(self.dispatch)

    async def stop(self) -> None:
        for channel in self.services.channels.values():
            await channel.stop()
        await self.services.queue.stop()
        self.memory.close()

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

    def is_control_chat(self, event: InboundEvent) -> bool:
        return (
            event.channel == self.settings.control_channel
            and event.chat_id == self.settings.control_chat_id
        )

    async def dispatch(self, event: InboundEvent) -> None:
        """Every channel's events arrive here. A failure is reported, never raised into
        the channel: the message is already stored, so nothing is lost."""
        try:
            if self.is_control_chat(event):
                await self.control.handle(event)
            else:
                await self.inbound.handle(event)
        except Exception as exc:
            log.exception("handling %s/%s failed", event.channel, event.external_id)
            self.store.audit(
                SYSTEM_ACTOR,
                "error",
                f"{event.channel}:{event.external_id}",
                f"{type(exc).__name__}: {exc}",
            )
            try:
                await self.services.tell_owner(
                    f"Something went wrong with a message from {event.sender_name}: "
                    f"{type(exc).__name__}: {shorten(str(exc), 200)}. The message is stored."
                )
            except Exception:
                log.exception("could not tell the owner")
