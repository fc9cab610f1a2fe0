"""The import service: an export file in, the owner's history in the store.

1. The export is opened with its format's parser (a file that is not that format is
   refused before anything is written).
2. Which participant is the owner comes from `me` (names or ids), else from settings
   (`owner_handles` for the channel, `owner_name`; a Telegram account export names its
   owner itself), else `ask` is called once with the candidates and their message
   counts. Whoever is named must appear in the export: otherwise nothing is written,
   because an imported message's owner flag is not rewritten by a later import.
3. Messages are stored in batches, each in one transaction, idempotently: killing an
   import and running it again ends with the same rows as one uninterrupted run.
4. Running it again does not redo finished work (`Checkpoint`): after each batch the
   store's state table records how many of the export's messages are stored and a
   running hash of them. A run that finds a checkpoint for its export reads those
   messages again only to hash them, never touching SQL for them, and imports from where
   the hash still matches; if it does not (an earlier part of the export changed), it
   imports from the start, which stores nothing twice. Where the reader can start
   afresh mid-file (WhatsApp, `ChatReader`), the checkpoint also records such a place
   with the counts up to it, and a re-run whose bytes before it are the same does not
   even parse that part. A file imported to its end before, byte for byte, is not parsed
   at all: "already imported".
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from itertools import chain, islice
from pathlib import Path
from typing import IO, Any

from twin_core.memory.importers import discord, slack, whatsapp
from twin_core.memory.importers.common import (
    ImportItem,
    ImportProblem,
    Marks,
    ReadMark,
    require_exists,
)
from twin_core.memory.importers.discord import parse_discord
from twin_core.memory.importers.mbox import parse_mbox
from twin_core.memory.importers.slack import parse_slack
from twin_core.memory.importers.telegram import account_owner, parse_telegram
from twin_core.memory.importers.whatsapp import parse_whatsapp
from twin_core.memory.store import OWNER_ACTOR, Store
from twin_core.types import InboundEvent, MessageKind

BATCH_SIZE = 2000
QUICK_OWNER_CHECK = 5_000
"""Messages looked at for a named owner before counting the whole export's senders."""
PROBLEMS_KEPT = 200
"""Problems listed in a summary (all are counted)."""
IDENTITY_MESSAGES = 10
"""An export's first messages that name its checkpoint: a later, longer export of the
same chat starts with the same ones (each carries its chat's id, and whether a checkpoint
applies is decided by its hash, not its name)."""
CHECKPOINT_KEY = "import:"
FINISHED_KEY = "import.done:"
FINISHED_HEAD = 1 << 16
"""Bytes at the start of an export that name its already-imported record."""


class ExportFormat(enum.StrEnum):
    WHATSAPP = "whatsapp"
    TELEGRAM = "telegram"
    DISCORD = "discord"
    SLACK = "slack"
    MBOX = "mbox"


class OwnerUnknown(LookupError):
    """The owner could not be told apart in this export; the message lists candidates."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A participant of the export who could be the owner."""

    sender_id: str
    name: str
    messages: int


AskOwner = Callable[[list[Candidate]], "Candidate | None"]
"""Shown the candidates (most messages first); returns the owner, or None for nobody."""


@dataclass(frozen=True, slots=True)
class Owner:
    keys: frozenset[str]
    """Lower-cased sender ids and names that are the owner."""
    source: str
    """Where it came from: `--me`, `settings`, `telegram account`, `asked`, `nobody`."""

    def matches(self, event: InboundEvent) -> bool:
        if event.kind is MessageKind.SYSTEM or not event.sender_id:
            return False
        return event.sender_id.lower() in self.keys or event.sender_name.lower() in self.keys


@dataclass(slots=True)
class ImportSummary:
    format: ExportFormat
    path: Path
    owner: Owner
    read: int = 0
    """Messages read from the export."""
    new: int = 0
    """Of those, stored now (the rest were stored by an earlier import)."""
    from_owner: int = 0
    problems: int = 0
    """Lines or records skipped or repaired, each reported."""
    contacts: int = 0
    """People in the export other than the owner."""
    bots: int = 0
    """Bots and integrations that posted (recorded as notices, never contacts)."""
    new_contacts: int = 0
    conversations: int = 0
    resumed_at: int = 0
    """Messages at the start of the export that an earlier run had stored, by its
    checkpoint: read again only to be hashed, never looked up or written."""
    unchanged: bool = False
    """The same file, byte for byte, was imported to its end before: nothing was read."""
    seconds: float = 0.0
    kinds: Counter[str] = field(default_factory=Counter)
    problem_list: list[ImportProblem] = field(default_factory=list)

    @property
    def already_stored(self) -> int:
        return self.read - self.new

    @property
    def rate(self) -> float:
        return self.read / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": self.format.value,
            "path": str(self.path),
            "owner": {"keys": sorted(self.owner.keys), "source": self.owner.source},
            "contacts": self.contacts,
            "new_contacts": self.new_contacts,
            "bots": self.bots,
            "conversations": self.conversations,
            "messages": self.read,
            "new_messages": self.new,
            "already_stored": self.already_stored,
            "resumed_at": self.resumed_at,
            "already_imported": self.unchanged,
            "from_owner": self.from_owner,
            "skipped": self.problems,
            "kinds": dict(self.kinds),
            "seconds": round(self.seconds, 3),
            "messages_per_second": round(self.rate, 1),
            "problems": [
                {"where": p.where, "line": p.line, "reason": p.reason} for p in self.problem_list
            ],
        }


def open_export(
    export_format: ExportFormat, path: Path, *, tz: tzinfo | None = None
) -> Iterator[ImportItem]:
    """The export's messages and problems; raises `NotThisFormat` at once if it is not one."""
    match export_format:
        case ExportFormat.WHATSAPP:
            return parse_whatsapp(path, tz=tz)
        case ExportFormat.TELEGRAM:
            return parse_telegram(path, tz=tz)
        case ExportFormat.DISCORD:
            return parse_discord(path, tz=tz)
        case ExportFormat.SLACK:
            return parse_slack(path)
        case ExportFormat.MBOX:
            return parse_mbox(path, tz=tz)


@dataclass
class ImportService:
    """Imports exports into `store`. `owner_handles` and `owner_name` come from settings."""

    store: Store
    owner_handles: dict[str, list[str]] = field(default_factory=dict)
    owner_name: str = ""
    batch_size: int = BATCH_SIZE

    def run(
        self,
        export_format: ExportFormat,
        path: Path,
        *,
        me: Sequence[str] = (),
        ask: AskOwner | None = None,
        tz: tzinfo | None = None,
        on_progress: Callable[[int], None] | None = None,
        on_resume: Callable[[int], None] | None = None,
        from_start: bool = False,
    ) -> ImportSummary:
        """Import one export; `on_progress` is told how many messages were stored (or
        found stored by a checkpoint) so far, `on_resume` how many an earlier run had
        stored when that is confirmed. `from_start` ignores what earlier runs recorded."""
        export_format = ExportFormat(export_format)
        require_exists(path)
        # Named by the export's beginning (cheap: a wrong file is still refused at once),
        # confirmed by the hash of all of it.
        finished_key = (
            FINISHED_KEY
            + f"{export_format.value}:"
            + _export_digest(export_format, path, limit=FINISHED_HEAD)
        )
        if not from_start:
            done = self._finished(finished_key, export_format, path, me)
            if done is not None:
                self._audit(done)
                return done
        # Opened first: the wrong format is refused before anything else is done. Its
        # first messages are read ahead to look for the owner, then imported first.
        reader = (
            whatsapp.ChatReader(path, tz=tz) if export_format is ExportFormat.WHATSAPP else None
        )
        # Places to resume from are kept for what is read ahead: the owner check, a batch.
        marks = Marks(QUICK_OWNER_CHECK + 2 * self.batch_size) if reader is not None else None
        items = (
            reader.items(marks) if reader is not None else open_export(export_format, path, tz=tz)
        )
        head: list[ImportItem] = []
        seen = 0
        for item in items:
            head.append(item)
            seen += isinstance(item, InboundEvent)
            if seen >= QUICK_OWNER_CHECK:
                break
        first = [item for item in head if isinstance(item, InboundEvent)]
        owner = self.find_owner(export_format, path, me=me, ask=ask, tz=tz, first=first)
        started = time.perf_counter()
        contacts_before = self.store.contacts.count()
        key = CHECKPOINT_KEY + _identity(export_format, owner, first)
        checkpoint = None if from_start else Checkpoint.load(self.store, key)
        tally = _Tally(ImportSummary(export_format, path, owner))
        resume = None
        if checkpoint is not None and checkpoint.resume is not None and reader is not None:
            # Where the reader allows, the stored part is not even parsed: the reader
            # starts at the place recorded, if the bytes before it are the same.
            rest = reader.resume(checkpoint.resume.mark, checkpoint.resume.context, marks)
            if rest is not None:
                if isinstance(items, Generator):
                    items.close()
                resume = checkpoint.resume
                tally.restore(resume)
                events = self._events(rest, tally.summary)
        if resume is None:
            events = self._events(chain(head, items), tally.summary)
            if checkpoint is not None and not self._skip(events, tally, checkpoint, on_progress):
                # An earlier part of the export is not what was stored: import it all.
                tally = _Tally(ImportSummary(export_format, path, owner))
                if reader is not None:
                    marks = Marks(QUICK_OWNER_CHECK + 2 * self.batch_size)
                    items = reader.items(marks)
                else:
                    items = open_export(export_format, path, tz=tz)
                events = self._events(items, tally.summary)
        summary = tally.summary
        if summary.resumed_at and on_resume is not None:
            on_resume(summary.resumed_at)
        prefix = reader.prefix_hash() if reader is not None else None
        try:
            while batch := list(islice(events, self.batch_size)):
                # The last place in this batch the reader could start afresh from.
                mark = None
                if marks is not None:
                    mark = marks.last_within(summary.read, summary.read + len(batch) - 1)
                if mark is not None and resume is not None and mark.offset <= resume.mark.offset:
                    mark = None
                marked: list[InboundEvent] = []
                for event in batch:
                    if mark is not None and summary.read + len(marked) == mark.messages:
                        assert reader is not None and prefix is not None
                        resume = tally.snapshot(mark, prefix.up_to(mark.offset), reader.context)
                    marked.append(tally.add(event))
                summary.new += self.store.messages.record_many(marked)
                summary.read += len(marked)
                Checkpoint(summary.read, tally.digest(), resume).save(self.store, key)
                if on_progress is not None:
                    on_progress(summary.read)
        finally:
            if prefix is not None:
                prefix.close()
        summary.seconds = time.perf_counter() - started
        summary.contacts = len(tally.people)
        summary.bots = len(tally.bots)
        summary.conversations = len(tally.chats)
        summary.new_contacts = self.store.contacts.count() - contacts_before
        self.store.state.set(
            finished_key,
            self._finished_record(summary, _export_digest(export_format, path)),
        )
        self._audit(summary)
        return summary

    def _skip(
        self,
        events: Iterator[InboundEvent],
        tally: _Tally,
        checkpoint: Checkpoint,
        on_progress: Callable[[int], None] | None,
    ) -> bool:
        """Reads the export's first `checkpoint.messages` messages, hashing and counting
        them without SQL; whether they are the ones the checkpoint hashed."""
        summary = tally.summary
        for event in islice(events, checkpoint.messages):
            tally.add(event)
            summary.read += 1
            if on_progress is not None and summary.read % self.batch_size == 0:
                on_progress(summary.read)
        if summary.read != checkpoint.messages or tally.digest() != checkpoint.digest:
            return False
        summary.resumed_at = summary.read
        return True

    def _finished(
        self, key: str, export_format: ExportFormat, path: Path, me: Sequence[str]
    ) -> ImportSummary | None:
        """The summary of the earlier import that read this file to its end, as found
        now (nothing new), or None. A `--me` other than that import's owner is not the
        same import."""
        value = self.store.state.get(key)
        if not value:
            return None
        try:
            done = json.loads(value)
            digest = str(done["digest"])
            owner = Owner(frozenset(done["owner"]), str(done["owner_source"]))
            summary = ImportSummary(
                export_format,
                path,
                owner,
                read=int(done["messages"]),
                from_owner=int(done["from_owner"]),
                problems=int(done["problems"]),
                contacts=int(done["contacts"]),
                bots=int(done["bots"]),
                conversations=int(done["conversations"]),
                kinds=Counter({str(k): int(v) for k, v in done["kinds"].items()}),
                resumed_at=int(done["messages"]),
                unchanged=True,
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        if me and _keys(me) != owner.keys:
            return None
        if _export_digest(export_format, path) != digest:
            return None
        return summary

    @staticmethod
    def _finished_record(summary: ImportSummary, digest: str) -> str:
        return json.dumps(
            {
                "digest": digest,
                "messages": summary.read,
                "from_owner": summary.from_owner,
                "problems": summary.problems,
                "contacts": summary.contacts,
                "bots": summary.bots,
                "conversations": summary.conversations,
                "kinds": dict(summary.kinds),
                "owner": sorted(summary.owner.keys),
                "owner_source": summary.owner.source,
            }
        )

    def _audit(self, summary: ImportSummary) -> None:
        self.store.audit.record(
            OWNER_ACTOR,
            "import",
            f"{summary.format.value}:{summary.path.name}",
            why=f"twin import {summary.format.value}",
            **{k: v for k, v in summary.as_dict().items() if k != "problems"},
        )

    @staticmethod
    def _events(items: Iterator[ImportItem], summary: ImportSummary) -> Iterator[InboundEvent]:
        for item in items:
            if isinstance(item, InboundEvent):
                yield item
            else:
                summary.problems += 1
                if len(summary.problem_list) < PROBLEMS_KEPT:
                    summary.problem_list.append(item)

    # -- who is the owner ---------------------------------------------------------------

    def find_owner(
        self,
        export_format: ExportFormat,
        path: Path,
        *,
        me: Sequence[str] = (),
        ask: AskOwner | None = None,
        tz: tzinfo | None = None,
        first: Sequence[InboundEvent] = (),
    ) -> Owner:
        """Who the owner is; `first` are the export's first messages, if already read."""
        channel = _CHANNELS[export_format]
        if me:
            owner = Owner(_keys(me), "--me")
        else:
            configured = {h.lower() for h in self.owner_handles.get(channel, [])}
            if export_format is ExportFormat.TELEGRAM:
                own_id = account_owner(path)
                if own_id is not None:
                    # The export says whose account it is: nothing to guess.
                    return Owner(frozenset({own_id.lower(), *configured}), "telegram account")
            if self.owner_name.strip():
                configured.add(self.owner_name.strip().lower())
            owner = Owner(_keys(configured), "settings")
        if owner.keys and any(owner.matches(event) for event in first):
            return owner
        # Names the export knows a person by besides the one on their messages: a Slack
        # username, display name or email, a Discord username or nickname.
        reader = _ALIASES.get(export_format)
        if owner.keys and reader is not None:
            known = {
                sender_id.lower()
                for sender_id, names in reader(path).items()
                if owner.keys & {n.lower() for n in names}
            }
            if known:
                owner = Owner(owner.keys | known, owner.source)
        candidates = self.candidates(export_format, path, tz=tz)
        if owner.keys and any(
            owner.keys & {c.sender_id.lower(), c.name.lower()} for c in candidates
        ):
            return owner
        if me:
            raise OwnerUnknown(
                f"nobody in {path.name} is {', '.join(me)}; the senders are: "
                + _describe(candidates)
            )
        if ask is None:
            raise OwnerUnknown(
                f"which of the senders in {path.name} is you? Say it with --me; they are: "
                + _describe(candidates)
            )
        chosen = ask(candidates)
        if chosen is None:
            return Owner(frozenset(), "nobody")
        return Owner(frozenset({chosen.sender_id.lower()}), "asked")

    def candidates(
        self, export_format: ExportFormat, path: Path, *, tz: tzinfo | None = None
    ) -> list[Candidate]:
        """Everyone who wrote in the export, most messages first (one streaming pass)."""
        counts: Counter[str] = Counter()
        names: dict[str, str] = {}
        for item in open_export(export_format, path, tz=tz):
            if isinstance(item, InboundEvent) and item.sender_id:
                if item.kind is MessageKind.SYSTEM:
                    continue
                counts[item.sender_id] += 1
                names.setdefault(item.sender_id, item.sender_name)
        return [Candidate(s, names[s], n) for s, n in counts.most_common()]


def _keys(names: Sequence[str] | set[str]) -> frozenset[str]:
    """What the owner said they are, as keys: lower-cased, and Telegram's `user123` as
    the `123` its messages carry."""
    keys = {k.strip().lower() for k in names if k.strip()}
    keys |= {k[4:] for k in keys if k.startswith("user") and k[4:].isdigit()}
    return frozenset(keys)


_ALIASES: dict[ExportFormat, Callable[[Path], dict[str, set[str]]]] = {
    ExportFormat.SLACK: slack.aliases,
    ExportFormat.DISCORD: discord.aliases,
}

_CHANNELS = {
    ExportFormat.WHATSAPP: "whatsapp",
    ExportFormat.TELEGRAM: "telegram",
    ExportFormat.DISCORD: "discord",
    ExportFormat.SLACK: "slack",
    ExportFormat.MBOX: "email",
}


def _describe(candidates: list[Candidate], limit: int = 8) -> str:
    if not candidates:
        return "none (the export has no messages with a sender)"
    shown = [
        f"{c.name} ({c.sender_id}, {c.messages} messages)"
        if c.name != c.sender_id
        else f"{c.name} ({c.messages} messages)"
        for c in candidates[:limit]
    ]
    more = f" and {len(candidates) - limit} more" if len(candidates) > limit else ""
    return "; ".join(shown) + more


@dataclass(frozen=True, slots=True)
class Resume:
    """A place where the export's reader can start afresh (`ReadMark`), with what had
    been read before it: the summary's counts and the hash of those messages."""

    mark: ReadMark
    context: str
    """What the reader's events depend on besides the bytes (`ChatReader.context`)."""
    digest: str
    from_owner: int
    kinds: dict[str, int]
    people: list[tuple[str, str]]
    bots: list[str]
    chats: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "mark": dataclasses.asdict(self.mark)}

    @classmethod
    def from_dict(cls, found: dict[str, Any]) -> Resume:
        mark = found["mark"]
        return cls(
            ReadMark(
                int(mark["offset"]),
                int(mark["line"]),
                int(mark["messages"]),
                int(mark["problems"]),
                str(mark["digest"]),
            ),
            str(found["context"]),
            str(found["digest"]),
            int(found["from_owner"]),
            {str(k): int(v) for k, v in found["kinds"].items()},
            [(str(c), str(s)) for c, s in found["people"]],
            [str(b) for b in found["bots"]],
            [str(c) for c in found["chats"]],
        )


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """How far an import of one export got: its first `messages` messages are stored,
    and `digest` hashes them (`_Tally.add`); `resume`, where the reader allows, is a
    place at or a little before that to read on from without parsing what precedes it.
    Kept in the store's state table under a key named by the export's first messages
    and owner, so a later, longer export of the same chat finds it too."""

    messages: int
    digest: str
    resume: Resume | None = None

    @classmethod
    def load(cls, store: Store, key: str) -> Checkpoint | None:
        value = store.state.get(key)
        if not value:
            return None
        try:
            found = json.loads(value)
            resume = Resume.from_dict(found["resume"]) if found.get("resume") else None
            return cls(int(found["messages"]), str(found["digest"]), resume)
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    def save(self, store: Store, key: str) -> None:
        value: dict[str, Any] = {"messages": self.messages, "digest": self.digest}
        if self.resume is not None:
            value["resume"] = self.resume.as_dict()
        store.state.set(key, json.dumps(value))


class _Tally:
    """What a summary counts of the messages read, and a hash chained through them."""

    __slots__ = ("bots", "chain", "chats", "people", "summary")

    def __init__(self, summary: ImportSummary) -> None:
        self.summary = summary
        self.people: set[tuple[str, str]] = set()
        self.bots: set[str] = set()
        self.chats: set[str] = set()
        self.chain = b""

    def add(self, event: InboundEvent) -> InboundEvent:
        """Count `event` (marked as the owner's where it is) and hash it; returns it."""
        summary = self.summary
        if summary.owner.matches(event):
            event = dataclasses.replace(event, from_owner=True)
            summary.from_owner += 1
        elif event.sender_id and event.kind is not MessageKind.SYSTEM:
            self.people.add((event.channel, event.sender_id))
        elif event.kind is MessageKind.SYSTEM and event.sender_name:
            self.bots.add(event.sender_name)
        self.chats.add(event.chat_id)
        summary.kinds[event.kind.value] += 1
        # Chained, not one running hash: the hash after any message can be stored and
        # continued from (`Resume`).
        self.chain = hashlib.blake2b(self.chain + _fingerprint(event), digest_size=16).digest()
        return event

    def digest(self) -> str:
        return self.chain.hex()

    def snapshot(self, mark: ReadMark, prefix: str, context: str) -> Resume:
        """What has been counted, as of `mark` (whose bytes before it hash to `prefix`)."""
        summary = self.summary
        return Resume(
            dataclasses.replace(mark, digest=prefix),
            context,
            self.digest(),
            summary.from_owner,
            dict(summary.kinds),
            sorted(self.people),
            sorted(self.bots),
            sorted(self.chats),
        )

    def restore(self, resume: Resume) -> None:
        """Count as if the messages before `resume` had been read now."""
        summary = self.summary
        summary.read = summary.resumed_at = resume.mark.messages
        summary.problems = resume.mark.problems
        summary.from_owner = resume.from_owner
        summary.kinds = Counter(resume.kinds)
        self.people = set(resume.people)
        self.bots = set(resume.bots)
        self.chats = set(resume.chats)
        self.chain = bytes.fromhex(resume.digest)


def _fingerprint(event: InboundEvent) -> bytes:
    """Everything of an event that storing it writes or looks up. The chat's title is
    left out: it names a conversation only when the conversation is created, so a renamed
    file resumes."""
    return "\x1f".join(
        (
            event.channel,
            event.external_id,
            event.chat_id,
            event.sender_id,
            event.sender_name,
            event.text,
            event.sent_at.isoformat(),
            "1" if event.from_owner else "0",
            "1" if event.is_group else "0",
            event.reply_to or "",
            event.kind.value,
            event.raw or "",
            "\x1d".join(event.recipients),
            "\x1d".join(event.identities),
            "\x1e",
        )
    ).encode("utf-8", "surrogatepass")


def _identity(export_format: ExportFormat, owner: Owner, first: Sequence[InboundEvent]) -> str:
    """Names an export's checkpoint: its format, owner and first messages."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{export_format.value}\x1f{sorted(owner.keys)}\x1e".encode())
    for event in first[:IDENTITY_MESSAGES]:
        digest.update(_fingerprint(event))
    return f"{export_format.value}:{digest.hexdigest()}"


def _export_digest(export_format: ExportFormat, path: Path, limit: int | None = None) -> str:
    """A hash of the export's bytes (of each file's first `limit` bytes, if given): a
    file's, every file's in a folder (with its name), or for WhatsApp the chat text alone
    (a zip of it with media may be gigabytes). Reading is far cheaper than parsing."""
    digest = hashlib.blake2b(digest_size=16)
    if export_format is ExportFormat.WHATSAPP:
        with whatsapp.chat_bytes(path) as stream:
            _hash_stream(digest, stream, limit)
        return digest.hexdigest()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        name = file.relative_to(path).as_posix() if path.is_dir() else ""
        digest.update(f"{name}\x1f".encode())
        with file.open("rb") as stream:
            _hash_stream(digest, stream, limit)
        digest.update(b"\x1e")
    return digest.hexdigest()


def _hash_stream(digest: Any, stream: IO[bytes], limit: int | None = None) -> None:
    left = limit
    while chunk := stream.read(1 << 20 if left is None else min(1 << 20, left)):
        digest.update(chunk)
        if left is not None:
            left -= len(chunk)
            if left <= 0:
                break
