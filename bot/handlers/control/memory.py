"""Memory: finding moments in the history."""

from __future__ import annotations

import shlex

from bot.handlers.actions import OwnerActions
from bot.handlers.control.registry import Reply, UsageError, command


class MemoryCommands:
    def __init__(self, actions: OwnerActions) -> None:
        self.actions = actions

    @command("recall", "/recall [@NAME] QUERY", "find moments in your history")
    async def recall(self, args: str) -> Reply:
        query = args.strip()
        contact = None
        if query.startswith("@"):
            if query.startswith('@"'):
                try:
                    name, *rest = shlex.split(query[1:])
                except ValueError as exc:
                    raise UsageError(f"cannot read that: {exc}") from None
                contact, query = name, " ".join(rest)
            else:
                contact, _, query = query[1:].partition(" ")
        outcome = await self.actions.recall(query, contact)
        return outcome
