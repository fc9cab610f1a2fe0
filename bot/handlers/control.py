"""The owner's control chat: commands, each declaring who may use it.

Permissions are declared on the command and checked in one place (`ControlHandler.handle`),
which answers with the reason and writes the refusal to the audit log.
"""

from __future__ import annotations

import inspect
import shlex
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.handlers.outbox import Outbox
from bot.handlers.services import Services
from twin_core.memory.models import DraftStatus, PolicyMode
from twin_core.memory.recall import RecallError, RecallHit
from twin_core.memory.store import OWNER_ACTOR, Store, UnknownContact
from twin_core.memory.text import shorten
from twin_core.types import InboundEvent

Reply = str | tuple[str, dict[str, Any]]
CommandFunction = Callable[[Any, str], Awaitable[Reply]]

POLICY_WORDS = {
    "on": PolicyMode.AUTO,
    "auto": PolicyMode.AUTO,
    "off": PolicyMode.OFF,
    "draft": PolicyMode.DRAFT,
}


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    usage: str
    help: str
    owner_only: bool
    function: CommandFunction


def command(
    name: str, usage: str, help: str, *, owner_only: bool = True
) -> Callable[[CommandFunction], CommandFunction]:
    """Mark a method of `ControlCommands` as the command `/name` (metadata only)."""

    def mark(function: CommandFunction) -> CommandFunction:
        function.__twin_command__ = Command(  # type: ignore[attr-defined]
            name, usage, help, owner_only, function
        )
        return function

    return mark


class CommandRegistry:
    def __init__(self, commands: list[Command]) -> None:
        self.commands = {c.name: c for c in commands}

    @classmethod
    def of(cls, target: object) -> CommandRegistry:
        found = [
            member.__twin_command__
            for _, member in inspect.getmembers(type(target))
            if hasattr(member, "__twin_command__")
        ]
        return cls(sorted(found, key=lambda c: c.name))

    def get(self, name: str) -> Command | None:
        return self.commands.get(name)


class UsageError(ValueError):
    pass


class ControlCommands:
    def __init__(self, services: Services, outbox: Outbox) -> None:
        self.services = services
        self.outbox = outbox
        self.registry = CommandRegistry.of(self)

    @property
    def store(self) -> Store:
        return self.services.store

    @command("help", "/help", "this list")
    async def help(self, args: str) -> Reply:
        lines = ["Commands:"]
        lines += [f"{c.usage:<28} {c.help}" for c in self.registry.commands.values()]
        return "\n".join(lines)

    @command("drafts", "/drafts", "drafts waiting for you (and approved ones held by /pause)")
    async def drafts(self, args: str) -> Reply:
        waiting = self.store.drafts(DraftStatus.PENDING, DraftStatus.APPROVED)
        if not waiting:
            return "No drafts waiting."
        lines = []
        for draft in waiting:
            contact = self.store.contact(draft.contact_id)
            held = " (approved, held)" if draft.status == DraftStatus.APPROVED else ""
            lines.append(
                f"{draft.id}. {contact.name if contact else '?'}{held} "
                f"[{draft.confidence:.2f}]: {shorten(draft.text, 100)}"
            )
        return "\n".join(lines)

    def _draft_number(self, args: str, *, newest_if_missing: bool) -> int:
        word = args.split(maxsplit=1)[0] if args.strip() else ""
        if not word and newest_if_missing:
            pending = self.store.drafts(DraftStatus.PENDING)
            if not pending or pending[-1].id is None:
                raise UsageError("no draft is waiting")
            return pending[-1].id
        try:
            return int(word.lstrip("#"))
        except ValueError:
            raise UsageError(f"expected a draft number, got {word!r} (see /drafts)") from None

    @command("approve", "/approve [N]", "send draft N as it is (default: the newest)")
    async def approve(self, args: str) -> Reply:
        number = self._draft_number(args, newest_if_missing=True)
        return await self._approve(number, None)

    @command("edit", "/edit N TEXT", "send your own text instead of draft N")
    async def edit(self, args: str) -> Reply:
        number = self._draft_number(args, newest_if_missing=False)
        text = args.strip().split(maxsplit=1)[1:] if args.strip() else []
        if not text or not text[0].strip():
            raise UsageError("say what to send instead: /edit N your text")
        return await self._approve(number, text[0].strip())

    async def _approve(self, number: int, text: str | None) -> Reply:
        draft = self.store.draft(number)
        if draft is None:
            raise UsageError(f"there is no draft {number} (see /drafts)")
        if not self.store.move_draft(
            number, [DraftStatus.PENDING], DraftStatus.APPROVED, text=text
        ):
            return f"Draft {number} is {draft.status}; nothing to do."
        action = "edited" if text is not None else "approved"
        contact = self.store.contact(draft.contact_id)
        name = contact.name if contact else "?"
        self.store.audit(OWNER_ACTOR, action, name, f"you {action} draft {number}", draft_id=number)
        outcome = await self.outbox.deliver(number)
        if outcome == "sent":
            return f"Sent to {name}."
        if outcome.startswith("held"):
            return f"Draft {number} approved; it goes to {name} on /resume (the twin is paused)."
        return f"Draft {number} to {name}: {outcome}"

    @command("reject", "/reject N", "drop draft N (also stops a pending auto-reply)")
    async def reject(self, args: str) -> Reply:
        number = self._draft_number(args, newest_if_missing=False)
        draft = self.store.draft(number)
        if draft is None:
            raise UsageError(f"there is no draft {number} (see /drafts)")
        if not self.store.move_draft(
            number, [DraftStatus.PENDING, DraftStatus.APPROVED], DraftStatus.REJECTED
        ):
            return f"Draft {number} is {draft.status}; nothing to do."
        self.store.audit(OWNER_ACTOR, "rejected", str(number), "you rejected it", draft_id=number)
        return f"Draft {number} rejected."

    @command("auto", "/auto NAME on|off|draft", "auto-send, never answer, or draft for NAME")
    async def auto(self, args: str) -> Reply:
        try:
            words = shlex.split(args)
        except ValueError:
            words = args.split()
        if len(words) < 2 or words[-1].lower() not in POLICY_WORDS:
            raise UsageError("usage: /auto NAME on|off|draft")
        contact = self.store.find_contact(" ".join(words[:-1]))
        mode = POLICY_WORDS[words[-1].lower()]
        assert contact.id is not None
        self.store.set_policy(contact.id, mode)
        self.store.audit(OWNER_ACTOR, "policy", contact.name, f"set to {mode.value}")
        meaning = {
            PolicyMode.AUTO: "confident replies go out on their own; the rest come to you",
            PolicyMode.OFF: "the twin stays silent with them",
            PolicyMode.DRAFT: "every reply waits for your approval",
        }[mode]
        return f"{contact.name}: {mode.value} ({meaning})."

    @command("merge", "/merge KEEP OTHER", "OTHER is the same person as KEEP: join them")
    async def merge(self, args: str) -> Reply:
        try:
            words = shlex.split(args)
        except ValueError as exc:
            raise UsageError(f"cannot read that: {exc}") from None
        if len(words) != 2:
            raise UsageError('usage: /merge KEEP OTHER (quote names with spaces: "Alice (slack)")')
        keep, other = (self.store.find_contact(w) for w in words)
        assert keep.id is not None and other.id is not None
        if keep.id == other.id:
            raise UsageError(f"{keep.name} and {other.name} are already one contact")
        self.services.memory.merge_contacts(other.id, keep.id)
        self.store.audit(OWNER_ACTOR, "merge", keep.name, f"{other.name} is the same person")
        handles = ", ".join(f"{h.channel}:{h.external_id}" for h in self.store.handles(keep.id))
        return f"{other.name} is now part of {keep.name} ({handles})."

    @command("pause", "/pause", "stop every outgoing message until /resume")
    async def pause(self, args: str) -> Reply:
        self.outbox.set_paused(True)
        self.store.audit(OWNER_ACTOR, "pause", why="you paused the twin")
        return "Paused: nothing goes out until /resume. Drafts still come to you."

    @command("resume", "/resume", "send again (and release approved drafts held by /pause)")
    async def resume(self, args: str) -> Reply:
        self.outbox.set_paused(False)
        self.store.audit(OWNER_ACTOR, "resume", why="you resumed the twin")
        outcomes = await self.outbox.release_held()
        sent = sum(1 for o in outcomes if o == "sent")
        return "Resumed." + (f" Sent {sent} held draft(s)." if sent else "")

    @command("recall", "/recall [@NAME] QUERY", "find moments in your history")
    async def recall(self, args: str) -> Reply:
        contact_id = None
        query = args.strip()
        if query.startswith("@"):
            name, _, query = query[1:].partition(" ")
            contact = self.store.find_contact(name)
            contact_id = contact.id
        hits = self.services.memory.recall(query, contact_id=contact_id)
        names: dict[int | None, str] = {c.id: c.name for c in self.store.contacts()}
        return format_recall(query, hits, names), {
            "event": "recall",
            "query": query,
            "hits": [
                {
                    "message_id": h.message.id,
                    "speaker": h.speaker,
                    "conversation": h.conversation,
                    "sent_at": h.message.sent_at.isoformat(),
                    "text": h.message.text,
                    "score": round(h.score, 3),
                    "why": h.why,
                }
                for h in hits
            ],
        }

    @command("status", "/status", "what the twin is doing")
    async def status(self, args: str) -> Reply:
        stats = self.store.stats()
        settings = self.services.settings
        return (
            f"{'Paused' if self.outbox.paused else 'Running'} · model {settings.llm_model} · "
            f"default policy {settings.default_policy}\n"
            f"{stats['contacts']} contacts, {stats['messages']} messages, "
            f"{stats['drafts']['pending']} drafts waiting, {stats['audit_entries']} audit entries"
        )


def format_recall(query: str, hits: list[RecallHit], names: dict[int | None, str]) -> str:
    """The text `/recall` and `twin recall` show; `names` maps contact ids to names."""
    if not hits:
        return f'Nothing found for "{shorten(query, 80)}".'
    lines = [f'{len(hits)} moment(s) for "{shorten(query, 80)}":']
    for number, hit in enumerate(hits, start=1):
        lines.append(
            f"{number}. {hit.conversation}, {hit.message.sent_at.astimezone():%Y-%m-%d %H:%M} "
            f"(score {hit.score:.2f}; {hit.why})"
        )
        for message in hit.context:
            marker = ">" if message.id == hit.message.id else " "
            who = "you" if message.from_owner else names.get(message.contact_id, "?")
            lines.append(f"   {marker} {who}: {shorten(message.text, 160)}")
    return "\n".join(lines)


class ControlHandler:
    """Runs control-chat messages: only from the owner, only as registered commands."""

    def __init__(self, services: Services, outbox: Outbox) -> None:
        self.services = services
        self.commands = ControlCommands(services, outbox)

    async def handle(self, event: InboundEvent) -> None:
        store = self.services.store
        text = event.text.strip()
        is_owner = self.services.settings.is_owner(event.channel, event.sender_id)
        name, _, args = text.partition(" ")
        found = (
            self.commands.registry.get(name[1:].split("@")[0].lower())
            if name.startswith("/")
            else None
        )
        if not is_owner and (found is None or found.owner_only):
            store.audit(
                f"{event.channel}:{event.sender_id}",
                "refused",
                shorten(text, 200),
                "not the owner: only the owner commands the twin",
                sender_name=event.sender_name,
            )
            await self.services.tell_owner(
                f"Refused: {event.sender_name or event.sender_id} is not the owner and cannot "
                "give commands here."
            )
            return
        if not text:
            await self.services.tell_owner("Empty message. /help lists the commands.")
            return
        if not name.startswith("/"):
            await self.services.tell_owner("Commands start with '/'. /help lists them.")
            return
        if found is None:
            await self.services.tell_owner(
                f"Unknown command {shorten(name, 40)}. /help lists them."
            )
            return
        store.audit(OWNER_ACTOR, "command", shorten(text, 300), f"/{found.name}")
        try:
            reply = await found.function(self.commands, args)
        except (UsageError, UnknownContact, RecallError) as exc:
            reply = f"{exc.args[0] if exc.args else exc}"
        if isinstance(reply, tuple):
            await self.services.tell_owner(reply[0], data=reply[1])
        else:
            await self.services.tell_owner(reply)
