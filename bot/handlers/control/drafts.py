"""Drafts: list, approve, edit, reject."""

from __future__ import annotations

from bot.handlers.actions import OwnerActions
from bot.handlers.control.registry import Reply, UsageError, command, draft_number
from twin_core.types import DraftId


class DraftCommands:
    def __init__(self, actions: OwnerActions) -> None:
        self.actions = actions
        self.editing: DraftId | None = None
        """A draft whose new text is the owner's next plain message (`/edit N` alone,
        or a platform's Edit button)."""

    @command("drafts", "/drafts", "drafts waiting for you (and approved ones held by /pause)")
    async def drafts(self, args: str) -> Reply:
        return await self.actions.drafts()

    @command(
        "approve", "/approve [N]", "send draft N as it is (N may be left out if only one waits)"
    )
    async def approve(self, args: str) -> Reply:
        return await self.actions.approve(draft_number(args))

    @command("edit", "/edit N [TEXT]", "send your own text instead of draft N")
    async def edit(self, args: str) -> Reply:
        number = draft_number(args)
        parts = args.strip().split(maxsplit=1)
        if number is None:
            raise UsageError("say which draft and what to send instead: /edit N your text")
        if len(parts) < 2 or not parts[1].strip():
            self.editing = number
            return f"Send the text for draft {number} as your next message (/cancel to keep it)."
        return await self.actions.approve(number, parts[1].strip())

    @command(
        "cancel",
        "/cancel [N]",
        "stop automatic reply N before it goes out; alone: forget a pending /edit",
    )
    async def cancel(self, args: str) -> Reply:
        target = draft_number(args)
        if target is not None:
            return await self.actions.reject(target, cancel=True)
        number, self.editing = self.editing, None
        return f"Draft {number} is left as it was." if number else "Nothing to cancel."

    @command("why", "/why [N]", "the whole reasoning behind draft N")
    async def why(self, args: str) -> Reply:
        return await self.actions.why(draft_number(args))

    @command("teach", "/teach N good|bad", "tell the twin whether draft N was right")
    async def teach(self, args: str) -> Reply:
        words = args.split()
        if len(words) != 2 or words[1].lower() not in ("good", "bad"):
            raise UsageError("usage: /teach N good|bad")
        return await self.actions.teach(draft_number(words[0]), words[1].lower())

    async def edited_text(self, text: str) -> Reply | None:
        """The owner's plain message, when it is the text a pending `/edit` waits for."""
        number, self.editing = self.editing, None
        if number is None:
            return None
        return await self.actions.approve(number, text)

    @command("reject", "/reject N", "drop draft N (also stops a pending auto-reply)")
    async def reject(self, args: str) -> Reply:
        return await self.actions.reject(draft_number(args))
