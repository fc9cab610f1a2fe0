"""Contacts: each one's policy, and joining two that are one person."""

from __future__ import annotations

import shlex

from bot.handlers.actions import POLICY_WORDS, OwnerActions
from bot.handlers.control.registry import Reply, UsageError, command


def words_of(args: str) -> list[str]:
    try:
        return shlex.split(args)
    except ValueError as exc:
        raise UsageError(f'cannot read that ({exc}); quote names with spaces: "Ann Lee"') from None


class ContactCommands:
    def __init__(self, actions: OwnerActions) -> None:
        self.actions = actions

    @command(
        "auto",
        "/auto NAME on|off|draft [THRESHOLD]",
        "auto-send (above NAME's own confidence threshold, 0-1), never answer, or draft",
    )
    async def auto(self, args: str) -> Reply:
        words = words_of(args)
        threshold: float | None = None
        if len(words) >= 3 and words[-2].lower() in POLICY_WORDS:
            try:
                threshold = float(words[-1])
            except ValueError:
                threshold = -1.0
            if not 0.0 <= threshold <= 1.0:
                raise UsageError(f"the threshold is a number from 0 to 1, not {words[-1]!r}")
            words = words[:-1]
        if len(words) < 2 or words[-1].lower() not in POLICY_WORDS:
            raise UsageError("usage: /auto NAME on|off|draft (NAME exactly, or #ID)")
        return await self.actions.set_policy(
            " ".join(words[:-1]), POLICY_WORDS[words[-1].lower()], threshold=threshold
        )

    @command("merge", "/merge KEEP OTHER", "OTHER is the same person as KEEP: join them")
    async def merge(self, args: str) -> Reply:
        words = words_of(args)
        if len(words) != 2:
            raise UsageError('usage: /merge KEEP OTHER (quote names with spaces: "Alice (slack)")')
        return await self.actions.merge(words[0], words[1])
