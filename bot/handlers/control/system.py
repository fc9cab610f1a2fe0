"""The twin itself: help, pause, resume, status."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.handlers.actions import OwnerActions
from bot.handlers.control.registry import CommandRegistry, Reply, command
from bot.handlers.services import Services


class SystemCommands:
    def __init__(
        self,
        actions: OwnerActions,
        services: Services,
        registry: Callable[[], CommandRegistry],
        extra_status: Callable[[], list[str]] = list,
    ) -> None:
        self.actions = actions
        self.services = services
        self.registry = registry
        self.extra_status = extra_status

    @command("help", "/help", "this list")
    async def help(self, args: str) -> Reply:
        lines = ["Commands:"]
        lines += [f"{c.usage:<28} {c.help}" for c in self.registry().commands.values()]
        return "\n".join(lines)

    @command("pause", "/pause", "stop every outgoing message until /resume")
    async def pause(self, args: str) -> Reply:
        return await self.actions.pause()

    @command("resume", "/resume", "send again (and release approved drafts held by /pause)")
    async def resume(self, args: str) -> Reply:
        return await self.actions.resume()

    @command("status", "/status", "what the twin is doing, channel by channel")
    async def status(self, args: str) -> Reply:
        store = self.services.store
        settings = self.services.settings
        stats = await asyncio.to_thread(store.stats)
        paused = await asyncio.to_thread(store.state.get, "paused")
        lines = [
            f"{'Paused' if paused == '1' else 'Running'} · model {settings.llm_model} · "
            f"default policy {settings.default_policy}",
            f"{stats['contacts']} contacts, {stats['messages']} messages, "
            f"{stats['drafts']['pending']} drafts waiting, {stats['audit_entries']} audit entries"
            + (
                f", {stats['dead_letters']} not stored (see twin stats)"
                if stats["dead_letters"]
                else ""
            ),
        ]
        lines += [health.describe() for health in self.services.health.values()]
        for channel in self.services.channels.values():
            # Optional hook (`bot.channels.base`): what a channel has to say about
            # itself: a Telegram Business connection that may not reply, WhatsApp's
            # sending budget and what it held back.
            describe = getattr(channel, "status_lines", None)
            if describe is not None:
                lines += describe()
        lines += self.extra_status()
        return "\n".join(lines)
