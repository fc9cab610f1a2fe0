"""Commands declare who may use them; one registry per control handler collects them.

A command is a method of a section class (`drafts`, `contacts`, `memory`, `system`)
marked with `@command(...)`: metadata only, no global registry filled at import. The
handler checks the declared permission in one place (`ControlHandler.handle`).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.handlers.actions import Outcome
from twin_core.types import DraftId

Reply = Outcome | str | tuple[str, dict[str, Any]]
CommandFunction = Callable[[Any, str], Awaitable[Reply]]


class UsageError(ValueError):
    """The command's words cannot be read; the message shows how to write it."""


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    usage: str
    help: str
    owner_only: bool
    function: Callable[[str], Awaitable[Reply]]


def command(
    name: str, usage: str, help: str, *, owner_only: bool = True
) -> Callable[[CommandFunction], CommandFunction]:
    """Mark a section method as the command `/name` (metadata only)."""

    def mark(function: CommandFunction) -> CommandFunction:
        function.__twin_command__ = (name, usage, help, owner_only)  # type: ignore[attr-defined]
        return function

    return mark


class CommandRegistry:
    def __init__(self, commands: list[Command]) -> None:
        self.commands = {c.name: c for c in commands}

    @classmethod
    def of(cls, *sections: object) -> CommandRegistry:
        found: list[Command] = []
        for section in sections:
            for _, member in inspect.getmembers(section, inspect.ismethod):
                meta = getattr(member, "__twin_command__", None)
                if meta is not None:
                    name, usage, help_text, owner_only = meta
                    found.append(Command(name, usage, help_text, owner_only, member))
        names = [c.name for c in found]
        duplicated = {n for n in names if names.count(n) > 1}
        if duplicated:
            raise ValueError(f"commands declared twice: {', '.join(sorted(duplicated))}")
        return cls(sorted(found, key=lambda c: c.name))

    def get(self, name: str) -> Command | None:
        return self.commands.get(name)


def draft_number(args: str) -> DraftId | None:
    """The draft number at the start of `args` (`3` or `#3`); None when there is none."""
    word = args.split(maxsplit=1)[0] if args.strip() else ""
    if not word:
        return None
    try:
        return DraftId(int(word.lstrip("#")))
    except ValueError:
        raise UsageError(f"expected a draft number, got {word!r} (see /drafts)") from None
