"""Drafts: list, approve, edit, reject."""

from __future__ import annotations

from bot.handlers.actions import OwnerActions
from bot.handlers.control.registry import Reply, UsageError, command, draft_number


class DraftCommands:
    def __init__(self, actions: OwnerActions) -> None:
        self.actions = actions

    @command("drafts", "/drafts", "drafts waiting for you (and approved ones held by /pause)")
    async def drafts(self, args: str) -> Reply:
        return await self.actions.drafts()

    @command(
        "approve", "/approve [N]", "send draft N as it is (N may be left out if only one waits)"
    )
    async def approve(self, args: str) -> Reply:
        return await self.actions.approve(draft_number(args))

    @command("edit", "/edit N TEXT", "send your own text instead of draft N")
    async def edit(self, args: str) -> Reply:
        number = draft_number(args)
        parts = args.strip().split(maxsplit=1)
        if number is None or len(parts) < 2 or not parts[1].strip():
            raise UsageError("say which draft and what to send instead: /edit N your text")
        return await self.actions.approve(number, parts[1].strip())

    @command("reject", "/reject N", "drop draft N (also stops a pending auto-reply)")
    async def reject(self, args: str) -> Reply:
        return await self.actions.reject(draft_number(args))
