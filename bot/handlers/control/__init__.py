"""The owner's control chat: commands, each declaring who may use it.

Permissions are declared on the command and checked in one place (`handle`), which
answers with the reason. Everything said in the control chat is written to the audit
log whole: commands, refusals, plain text and unknown commands alike.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from bot.handlers.actions import Outcome, OwnerActions
from bot.handlers.control.contacts import ContactCommands
from bot.handlers.control.drafts import DraftCommands
from bot.handlers.control.memory import MemoryCommands
from bot.handlers.control.people import PeopleCommands
from bot.handlers.control.registry import Command, CommandRegistry, Reply, UsageError
from bot.handlers.control.style import StyleCommands
from bot.handlers.control.system import SystemCommands
from bot.handlers.services import Services
from twin_core.memory.store import OWNER_ACTOR
from twin_core.memory.text import shorten
from twin_core.types import InboundEvent

__all__ = ["Command", "CommandRegistry", "ControlHandler", "UsageError"]

log = logging.getLogger("twin.control")


class ControlHandler:
    """Runs control-chat messages: only from the owner, only as registered commands."""

    def __init__(
        self,
        services: Services,
        actions: OwnerActions,
        extra_status: Callable[[], list[str]] = list,
    ) -> None:
        self.services = services
        self.actions = actions
        self.drafts = DraftCommands(actions)
        self.registry = CommandRegistry.of(
            self.drafts,
            ContactCommands(actions),
            MemoryCommands(actions),
            PeopleCommands(actions.people),
            StyleCommands(actions),
            SystemCommands(actions, services, lambda: self.registry, extra_status),
        )
        self._lock = asyncio.Lock()

    async def _audit(self, actor: str, action: str, text: str, why: str, **detail: object) -> None:
        await asyncio.to_thread(
            self.services.store.audit.record, actor, action, text, why, **detail
        )

    async def handle(self, event: InboundEvent) -> None:
        # One command at a time: the owner's commands act in the order they were given.
        async with self._lock:
            await self._handle(event)

    async def _handle(self, event: InboundEvent) -> None:
        tell = self.services.tell_owner
        text = event.text.strip()
        is_owner = await asyncio.to_thread(
            self.services.identity().is_owner, event.channel, event.sender_id
        )
        actor = OWNER_ACTOR if is_owner else f"{event.channel}:{event.sender_id}"
        words = text.split(maxsplit=1)
        head = words[0] if words else ""
        args = words[1] if len(words) > 1 else ""
        found = self.registry.get(head[1:].split("@")[0].lower()) if head.startswith("/") else None
        if not is_owner and (found is None or found.owner_only):
            await self._audit(
                actor,
                "refused",
                text,
                "not the owner: only the owner commands the twin",
                sender_name=event.sender_name,
            )
            await tell(
                f"Refused: {shorten(event.sender_name or event.sender_id, 80)} is not the "
                "owner and cannot give commands here."
            )
            return
        if not head.startswith("/"):
            edited = await self.drafts.edited_text(text) if text else None
            if edited is not None:
                await self._audit(actor, "control_message", text, "the new text for /edit")
                await self._reply(edited)
                return
            await self._audit(actor, "control_message", text, "not a command")
            await tell(
                "Commands start with '/'. /help lists them."
                if text
                else "Empty message. /help lists the commands."
            )
            return
        if found is None:
            await self._audit(actor, "control_message", text, "unknown command")
            await tell(f"Unknown command {shorten(head, 40)}. /help lists them.")
            return
        await self._audit(actor, "command", text, f"/{found.name}")
        if found.name != "edit":
            # A pending /edit takes the very next message only; a command in between
            # means the owner moved on.
            self.drafts.editing = None
        try:
            reply: Reply = await found.function(args)
        except UsageError as exc:
            reply = str(exc)
        except Exception as exc:
            log.exception("/%s failed", found.name)
            reply = f"/{found.name} failed: {type(exc).__name__}: {shorten(str(exc), 200)}"
        await self._reply(reply)

    async def _reply(self, reply: Reply) -> None:
        tell = self.services.tell_owner
        if isinstance(reply, Outcome):
            await tell(reply.text, data=reply.data(), card=reply.card)
        elif isinstance(reply, tuple):
            await tell(reply[0], data=reply[1])
        else:
            await tell(reply)
