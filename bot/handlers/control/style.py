"""Style: how the owner writes to each contact."""

from __future__ import annotations

from bot.handlers.actions import OwnerActions
from bot.handlers.control.contacts import words_of
from bot.handlers.control.registry import Reply, UsageError, command


class StyleCommands:
    def __init__(self, actions: OwnerActions) -> None:
        self.actions = actions

    @command("style", "/style NAME", "how you write to NAME: length, emoji, laughter, ...")
    async def style(self, args: str) -> Reply:
        words = words_of(args)
        if not words:
            raise UsageError('usage: /style NAME (quote names with spaces: "Ann Lee")')
        return await self.actions.style(" ".join(words))
