"""People: who someone is to the owner, promises both ways, facts, check-ins."""

from __future__ import annotations

from bot.handlers.control.registry import Reply, UsageError, command
from bot.handlers.people_actions import PeopleActions


def _number(args: str, what: str, listing: str) -> int:
    word = args.split(maxsplit=1)[0] if args.strip() else ""
    if not word:
        raise UsageError(f"say which {what}: its number from {listing}")
    try:
        return int(word.lstrip("#"))
    except ValueError:
        raise UsageError(f"expected a {what} number, got {word!r} (see {listing})") from None


class PeopleCommands:
    def __init__(self, people: PeopleActions) -> None:
        self.people = people

    @command("who", "/who NAME", "a contact's card: rhythm, languages, promises, facts")
    async def who(self, args: str) -> Reply:
        return await self.people.who(args.strip())

    @command(
        "promises",
        "/promises [NAME] [--all]",
        "open promises, yours and theirs, with due dates (--all: kept ones too)",
    )
    async def promises(self, args: str) -> Reply:
        words = args.split()
        everything = "--all" in words
        name = " ".join(w for w in words if w != "--all")
        return await self.people.promises(name or None, include_done=everything)

    @command("done", "/done N", "close promise N")
    async def done(self, args: str) -> Reply:
        return await self.people.done(_number(args, "promise", "/promises"))

    @command("facts", "/facts NAME", "what is held about a contact, with its source")
    async def facts(self, args: str) -> Reply:
        return await self.people.facts(args.strip())

    @command("forget-fact", "/forget-fact N", "delete fact N")
    async def forget_fact(self, args: str) -> Reply:
        return await self.people.forget_fact(_number(args, "fact", "/facts NAME"))

    @command("checkins", "/checkins", "contacts quieter than their usual rhythm")
    async def checkins(self, args: str) -> Reply:
        return await self.people.checkins()
