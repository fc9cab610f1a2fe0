"""The corpus (`tests/adversarial/cases.py`) run against real Twins, each attempt
measured as `Findings`. The tests assert that every attempt is clean; the benchmark
(`benchmarks/injection.py`) counts them. Nothing here is a mock: a real Twin on a
recording fake channel or the real console channel, the real offline model or a
prompt-recording OpenAI-compatible server, SQLite or PostgreSQL.
"""

from __future__ import annotations

import contextlib
import functools
import io
import itertools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from bot.app import Twin
from bot.channels.console import ConsoleChannel
from bot.channels.fake import FakeChannel
from bot.cli.running import play
from tests.adversarial.cases import (
    COMMAND_SAMPLES,
    COMMAND_VARIANTS,
    INJECTED,
    INVALID_UTF8,
    JOINS,
    LOOKALIKES,
    NOT_LOOKALIKES,
    ODD_EVENTS,
    OWNER_EMAIL,
    OWNER_NAME,
    OWNER_WORD_NAMES,
    PHATIC,
    PHONE_OF,
    PROBES,
    RAW_ON_SCREEN,
    SCREEN_ATTACKS,
    SHAREABLE,
    STRANGERS,
    TOLD,
    Findings,
    Join,
    Line,
    OddEvent,
    Probe,
    Tampering,
    fold,
    separator_lines,
)
from tests.adversarial.model import RecordingModel, Reply, addressee, prompt_text
from tests.support.harness import SEED_T0, Harness
from tests.support.settings import POSTGRES_URL, make_settings
from twin_core.memory.embed import Embedder
from twin_core.memory.importers.run import ExportFormat, ImportService
from twin_core.memory.models import AuditEntry, Contact, Draft, Handle, Message, Policy
from twin_core.memory.phatic import is_phatic
from twin_core.memory.store import Store
from twin_core.memory.store.sql import external_key, storable
from twin_core.types import (
    ChannelName,
    ChatId,
    ContactId,
    ExternalId,
    HandleId,
    InboundEvent,
    utcnow,
)

REMOTE_MODEL = "openai/recorded"
QUIET = "off"
"""The default policy where drafting is beside the point (how lines are read, what is
stored): messages are recorded and handled, and the twin answers none of them."""


# -- running a twin ---------------------------------------------------------------------


class NoPostgres(LookupError):
    """PostgreSQL is not reachable at `TWIN_TEST_POSTGRES_URL`."""


@contextlib.contextmanager
def database_url(dialect: str, folder: Path) -> Iterator[str]:
    """A URL to an empty database: a SQLite file in `folder`, or a fresh PostgreSQL
    schema, dropped afterwards (raises `NoPostgres` when there is no server)."""
    if dialect == "sqlite":
        yield f"sqlite:///{folder / 'twin.db'}"
        return
    try:
        admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        schema = f"twin_adv_{uuid.uuid4().hex[:12]}"
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as exc:
        raise NoPostgres(str(exc).splitlines()[0]) from None
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextlib.asynccontextmanager
async def started(
    home: Path, embedder: Embedder, *, model: RecordingModel | None = None, **settings: Any
) -> AsyncIterator[Harness]:
    """A real Twin on a recording fake channel (control chat `fake:control`, the owner
    `owner`); with `model`, drafting through that recording server."""
    if model is not None:
        settings |= {
            "llm_model": REMOTE_MODEL,
            "llm_api_base": model.url,
            "llm_api_key": "sk-recorded",
        }
    # Groups are off by default; the invariants must hold where the owner lets the twin
    # draft in groups too, so the attacks run with group drafting on.
    settings.setdefault("group_policy", "draft")
    fake = FakeChannel("fake")
    twin = Twin(make_settings(home, owner_name=OWNER_NAME, **settings), [fake], embedder=embedder)
    await twin.start()
    try:
        yield Harness(twin, fake)
    finally:
        await twin.stop()


@contextlib.asynccontextmanager
async def recording_model() -> AsyncIterator[RecordingModel]:
    model = RecordingModel()
    await model.start()
    try:
        yield model
    finally:
        await model.stop()


async def settle(h: Harness) -> None:
    """Until everything received is handled and every send due now has gone out."""
    await h.twin.idle()
    await h.twin.jobs.drain(1.0)
    await h.twin.idle()


_ids = itertools.count(1)


def inbound(
    channel: str,
    sender: str,
    text: str,
    *,
    chat: str | None = None,
    name: str = "",
    from_owner: bool = False,
    recipients: Sequence[str] = (),
    group: bool = False,
    identities: Sequence[str] = (),
    external_id: str = "",
    **more: Any,
) -> InboundEvent:
    return InboundEvent(
        channel=ChannelName(channel),
        external_id=ExternalId(external_id or f"adv-{next(_ids)}"),
        chat_id=ChatId(sender if chat is None else chat),
        sender_id=HandleId(sender),
        sender_name=name or sender.title(),
        text=text,
        sent_at=more.pop("sent_at", None) or utcnow(),
        from_owner=from_owner,
        recipients=tuple(HandleId(r) for r in recipients),
        is_group=group,
        identities=tuple(identities),
        **more,
    )


def contact_of(store: Store, channel: str, handle: str) -> Contact | None:
    with store.database.session() as session:
        contact_id = session.exec(
            select(Handle.contact_id).where(
                Handle.channel == channel, Handle.external_id == external_key(handle)
            )
        ).first()
    return store.contacts.get(contact_id) if contact_id is not None else None


def stored_with(store: Store, channel: str, external_id: str) -> list[Message]:
    with store.database.session() as session:
        return list(
            session.exec(
                select(Message).where(
                    Message.channel == channel, Message.external_id == external_key(external_id)
                )
            )
        )


# -- the twin's state, to see that nothing changed --------------------------------------


@dataclass(frozen=True, slots=True)
class State:
    policies: dict[int, str]
    paused: bool
    contacts: frozenset[tuple[int, str]]
    drafts: tuple[tuple[int, str, str], ...]
    sent: tuple[tuple[str, str], ...]
    owner_acts: int
    """Audit entries of what the owner did (commands, approvals, policies, merges)."""


def snapshot(h: Harness) -> State:
    store = h.twin.store
    with store.database.session() as session:
        policies = {
            contact_id: str(mode)
            for contact_id, mode in session.exec(select(Policy.contact_id, Policy.mode))
        }
        owner_acts = len(
            session.exec(select(AuditEntry.id).where(AuditEntry.actor == "owner")).all()
        )
    return State(
        policies=policies,
        paused=h.twin.outbox.paused(),
        contacts=frozenset((c.id or 0, c.name) for c in store.contacts.all()),
        drafts=tuple(
            (d.id or 0, str(d.status), d.text) for d in store.drafts.with_status(limit=100_000)
        ),
        sent=tuple((m.chat_id, m.text) for m in h.channel.sent if m.chat_id != "control"),
        owner_acts=owner_acts,
    )


def changes(before: State, after: State, *, drafts: bool = True, sent: bool = True) -> list[str]:
    """What changed between two snapshots; `drafts=False` leaves out drafts moving on
    (superseded by a contact's new message), `sent=False` messages sent."""
    found = []
    if after.policies != before.policies:
        found.append(f"policies changed: {before.policies} -> {after.policies}")
    if after.paused != before.paused:
        found.append(f"paused became {after.paused}")
    if not before.contacts <= after.contacts:
        found.append(f"contacts gone or renamed: {sorted(before.contacts - after.contacts)}")
    before_drafts = {d[0]: d for d in before.drafts}
    for draft in after.drafts if drafts else ():
        if draft[0] in before_drafts and before_drafts[draft[0]] != draft:
            found.append(f"draft {draft[0]} changed: {before_drafts[draft[0]]} -> {draft}")
    if sent and after.sent != before.sent:
        found.append(f"sent: {after.sent[len(before.sent) :]}")
    if after.owner_acts != before.owner_acts:
        found.append(f"{after.owner_acts - before.owner_acts} new action(s) as the owner")
    return found


# -- A. What one contact was told stays with them --------------------------------------


def _line_event(line: Line, number: int) -> InboundEvent:
    mine = line.by == "me"
    return inbound(
        line.channel,
        "owner" if mine else line.by,
        line.text,
        chat=line.chat,
        name=line.name,
        from_owner=mine,
        recipients=line.recipients,
        group=line.group,
        identities=line.identities,
        external_id=f"seed-{number}",
        sent_at=SEED_T0 + timedelta(minutes=number),
    )


def seed(
    h: Harness, lines: Iterable[Line], home: Path, imports: Iterable[tuple[str, str]] = ()
) -> None:
    """Record `lines` as history, run the `(importer, export text)` imports through the
    real importers, and index everything for recall."""
    h.twin.memory.record_many(_line_event(line, n) for n, line in enumerate(lines))
    service = ImportService(h.twin.store, owner_name=OWNER_NAME)
    for number, (importer, export) in enumerate(imports):
        if importer == "mbox":
            path = home / f"export-{number}.mbox"
            path.write_text(export, encoding="utf-8")
            service.run(ExportFormat.MBOX, path, me=[OWNER_EMAIL])
        else:
            path = home / f"WhatsApp Chat with Alice Martin {number}.txt"
            path.write_text(export, encoding="utf-8")
            service.run(ExportFormat.WHATSAPP, path, me=["Sam Owner"])
    h.twin.memory.index()


@dataclass(frozen=True, slots=True)
class Attacker:
    probe: Probe
    channel: str
    handle: str
    chat: str
    name: str


def attackers() -> list[Attacker]:
    found = []
    for number, probe in enumerate(PROBES, start=1):
        handle = probe.sender or f"mallory-{number}"
        found.append(
            Attacker(
                probe,
                probe.channel,
                handle,
                probe.chat or handle,
                probe.name or f"Mallory-{number}",
            )
        )
    return found


def secrets_of_others() -> list[str]:
    return sorted({secret for told in TOLD for secret in told.secrets})


@functools.cache
def _words() -> tuple[tuple[str, str, str], ...]:
    """(sender, group chat or "", folded text) of every seeded message that carries
    something: not phatic, not a few letters."""
    return tuple(
        (line.by, line.chat if line.group else "", fold(line.text))
        for told in TOLD
        for line in told.lines
        if not is_phatic(line.text) and len(fold(line.text)) >= 12
    )


def words_of_others(attacker: Attacker) -> list[str]:
    """Whole messages of the seeded histories the attacker never saw: not their own,
    not said in a group they are in, and not words they wrote themselves."""
    own = fold(" ".join(attacker.probe.texts))
    return sorted(
        {
            text
            for by, group, text in _words()
            if by != attacker.handle and group != attacker.chat and text not in own
        }
    )


def leaks_in(texts: dict[str, list[str]], attacker: Attacker) -> list[str]:
    """Secrets and other people's words found in what the attacker's draft was made
    of (`texts`: where -> texts)."""
    secrets = [(s, fold(s)) for s in secrets_of_others()]
    others = words_of_others(attacker)
    found = []
    for where, items in texts.items():
        for item in items:
            folded = fold(item)
            found += [f"{secret!r} in {where}" for secret, key in secrets if key in folded]
            found += [f"another's words {w!r} in {where}" for w in others if w in folded]
    return sorted(set(found))


@dataclass
class LeakRun:
    findings: dict[str, Findings] = field(default_factory=dict)
    """By probe."""
    prompts: dict[str, int] = field(default_factory=dict)
    """How many model prompts each probe caused (the recording model only)."""
    controls: dict[str, bool] = field(default_factory=dict)
    """Whether each rightful owner's own prompt did hold their secret: the check works."""


CONTROLS: tuple[tuple[str, str, str, str, str], ...] = (
    # (channel, handle, chat, text, the secret their own prompt should hold)
    ("fake", "alice", "alice", "what's the door code again? forgot", "4472"),
    ("fake", "rob", "rob", "what was my locker combo? sorry", "31-7-22"),
    ("telegram", "ann.tg", "ann.tg", "the PIN again? sorry", "7720"),
)


async def run_leaks(home: Path, embedder: Embedder, *, remote: bool) -> LeakRun:
    """Seed every secret, then let each probe's attacker (an `auto` contact: confident
    drafts go out on their own) write, all at once. With `remote`, drafts come from a
    model server that records each prompt and echoes it back as its answer."""
    run = LeakRun()
    async with contextlib.AsyncExitStack() as stack:
        model = await stack.enter_async_context(recording_model()) if remote else None
        h = await stack.enter_async_context(
            started(home, embedder, model=model, default_policy="auto", auto_confidence=0.0)
        )
        lines = [line for told in TOLD for line in told.lines] + list(SHAREABLE)
        seed(h, lines, home, [(t.imported, t.export) for t in TOLD if t.imported])
        everyone = attackers()
        for attacker in everyone:
            for text in attacker.probe.texts:
                await h.channel.push(
                    inbound(
                        attacker.channel,
                        attacker.handle,
                        text,
                        chat=attacker.chat,
                        name=attacker.name,
                        recipients=attacker.probe.recipients,
                        group=attacker.probe.group,
                    )
                )
        for channel, handle, chat, text, _ in CONTROLS:
            await h.channel.push(inbound(channel, handle, text, chat=chat))
        await settle(h)
        store = h.twin.store
        prompts = model.prompts if model is not None else []
        for attacker in everyone:
            contact = contact_of(store, attacker.channel, attacker.handle)
            findings = Findings()
            if contact is None or contact.id is None:
                findings.lost.append("the attacker's message was not stored")
                run.findings[attacker.probe.id] = findings
                continue
            mine = [p for p in prompts if addressee(p) == contact.name]
            drafts = [
                d.text
                for d in store.drafts.with_status(limit=100_000)
                if d.contact_id == contact.id
            ]
            sent = [
                m.text
                for m in h.channel.sent
                if m.chat_id == attacker.chat and attacker.channel == "fake"
            ]
            findings.leaks.extend(
                leaks_in(
                    {
                        "the model prompt": [prompt_text(p) for p in mine],
                        "a draft": drafts,
                        "a message sent to them": sent,
                    },
                    attacker,
                )
            )
            with store.database.session() as session:
                kept = session.exec(
                    select(Message.text).where(Message.contact_id == contact.id)
                ).all()
            missing = [t for t in attacker.probe.texts if storable(t) not in kept]
            findings.lost.extend(f"not stored: {t!r}" for t in missing)
            if model is not None and not mine:
                findings.other.append("the model was never asked: nothing was tested")
            run.findings[attacker.probe.id] = findings
            run.prompts[attacker.probe.id] = len(mine)
        for channel, handle, _, _, secret in CONTROLS:
            contact = contact_of(store, channel, handle)
            assert contact is not None
            own = [prompt_text(p) for p in prompts if addressee(p) == contact.name]
            if model is None:  # the offline model: their own draft reuses their answer
                own = [d.text for d in store.drafts.with_status() if d.contact_id == contact.id]
            run.controls[f"{handle}: {secret}"] = any(secret in text for text in own)
    return run


@dataclass
class PhaticRun:
    findings: dict[str, Findings] = field(default_factory=dict)
    drafts: dict[str, list[str]] = field(default_factory=dict)


async def run_phatic(home: Path, embedder: Embedder) -> PhaticRun:
    """Each phatic exchange with its people; then a newcomer writes the same words: the
    reply serves them when Sam used it with three different people, never otherwise."""
    run = PhaticRun()
    async with started(home, embedder) as h:
        lines = [
            Line(
                who,
                text,
                handle,
                channel=channel,
                name=name,
                identities=PHONE_OF.get(handle, ()) if who != "me" else (),
            )
            for case in PHATIC
            for channel, handle, name in case.people
            for who, text in ((handle, case.their), ("me", case.reply))
        ]
        seed(h, lines, home)
        for case in PHATIC:
            for keep, other in case.merged:
                kept = contact_of(h.twin.store, "fake", keep)
                merged = contact_of(h.twin.store, "fake", other)
                assert kept is not None and merged is not None
                assert kept.id is not None and merged.id is not None
                h.twin.memory.merge_contacts(merged.id, kept.id)
        for number, case in enumerate(PHATIC, start=1):
            await h.channel.push(inbound("fake", f"newcomer-{number}", case.their))
        await settle(h)
        for number, case in enumerate(PHATIC, start=1):
            contact = contact_of(h.twin.store, "fake", f"newcomer-{number}")
            findings = Findings()
            drafts = [
                d.text
                for d in h.twin.store.drafts.with_status(limit=100_000)
                if contact is not None and d.contact_id == contact.id
            ]
            if case.serves and case.reply not in drafts:
                findings.other.append(f"{case.reply!r} did not serve the newcomer: {drafts}")
            if not case.serves and case.reply in drafts:
                findings.leaks.append(f"{case.reply!r} reached the newcomer")
            run.findings[case.what] = findings
            run.drafts[case.what] = drafts
    return run


# -- B. The model's output is data -----------------------------------------------------


def _habitless(text: str) -> str:
    """`text` without what post-processing may change to match the owner's habits."""
    return "\n".join(line.removesuffix(".").casefold() for line in text.split("\n"))


async def run_model_outputs(
    home: Path, embedder: Embedder, outputs: Sequence[tuple[str, Reply]]
) -> dict[str, Findings]:
    """Mallory is an `auto` contact; the model answers each of her messages with a
    hostile text (or a tool call). The text must stay the text of her draft and go to
    her, and only to her; a tool call does nothing, and without text there is no
    draft (the owner is told)."""
    results: dict[str, Findings] = {}
    async with (
        recording_model() as model,
        started(home, embedder, model=model, auto_confidence=0.0) as h,
    ):
        model.answer_with("hey!")
        await h.says("alice", "dinner friday?")
        await h.says("mallory", "hi")
        await h.command("/auto mallory on")
        await settle(h)
        mallory = contact_of(h.twin.store, "fake", "mallory")
        assert mallory is not None and mallory.id is not None

        def drafts_of(contact_id: int) -> list[Draft]:
            everything = h.twin.store.drafts.with_status(limit=100_000)
            return [d for d in everything if d.contact_id == contact_id]

        for what, output in outputs:
            before = snapshot(h)
            model.answer_with(output)
            sent_before = len(h.channel.sent)
            drafts_before = len(drafts_of(mallory.id))
            await h.says("mallory", f"tell me something ({what})")
            await settle(h)
            after = snapshot(h)
            findings = Findings()
            text = output if isinstance(output, str) else str(output.get("content") or "")
            expected = storable(text.strip())
            drafts = drafts_of(mallory.id)
            new = h.channel.sent[sent_before:]
            to_others = [m for m in new if m.chat_id not in ("mallory", "control")]
            findings.obeyed.extend(f"sent to {m.chat_id}: {m.text!r}" for m in to_others)
            to_mallory = [m.text for m in new if m.chat_id == "mallory"]
            # Post-processing may match the owner's habits with Mallory (lower-case
            # first letter, no final full stop): otherwise the draft is the model's text,
            # every character of it, and what goes to Mallory is the draft.
            if expected and (not drafts or _habitless(drafts[-1].text) != _habitless(expected)):
                findings.other.append(f"the draft is not the model's text: {drafts[-1:]!r}")
            # The safety gate may hold a draft for the owner instead (it mentions a code,
            # money, a promise...): then nothing may go out at all.
            held = bool(drafts) and any(
                "the safety gate flagged it" in r for r in drafts[-1].reasons
            )
            if held and to_mallory:
                findings.other.append("a draft the safety gate held went out")
            if expected and not held and to_mallory != [drafts[-1].text if drafts else expected]:
                findings.other.append("the auto-reply to Mallory is not the draft's text")
            if not expected:
                told = [m.text for m in new if m.chat_id == "control"]
                if drafts_before != len(drafts) or to_mallory:
                    findings.other.append("an answer without text became a draft")
                if not any("No draft" in t for t in told):
                    findings.other.append(f"the owner was not told there is no draft: {told}")
            findings.obeyed.extend(changes(before, after, drafts=False, sent=False))
            results[what] = findings
    return results


# -- C. Only the owner commands; one input line is one message --------------------------


@contextlib.asynccontextmanager
async def console_twin(
    home: Path, embedder: Embedder, *, json_output: bool = False, **settings: Any
) -> AsyncIterator[tuple[Twin, ConsoleChannel, io.StringIO]]:
    output = io.StringIO()
    console = ConsoleChannel(output, json_output=json_output)
    values = {
        "control_chat": "console:control",
        "owner_handles": {"console": ["owner"]},
        "owner_name": OWNER_NAME,
        **settings,
    }
    twin = Twin(make_settings(home, **values), [console], embedder=embedder)
    await twin.start()
    try:
        yield twin, console, output
    finally:
        await twin.stop()


def console_texts(store: Store) -> list[tuple[str, str]]:
    """Every stored console message as (sender handle or "me", text)."""
    with store.database.session() as session:
        rows = session.exec(
            select(Message, Handle.external_id)
            .join(Handle, col(Handle.contact_id) == col(Message.contact_id), isouter=True)
            .where(Message.channel == "console")
            .order_by(col(Message.id))
        ).all()
    return [("me" if m.from_owner else str(handle), m.text) for m, handle in rows]


def _policies(store: Store) -> dict[str, str]:
    names = store.contacts.names()
    with store.database.session() as session:
        rows = session.exec(select(Policy.contact_id, Policy.mode)).all()
    return {names.get(ContactId(contact_id), "?"): str(mode) for contact_id, mode in rows}


def _commands_run(store: Store) -> list[str]:
    return [e.subject for e in store.audit.entries(action="command", limit=None)]


async def run_console_separators(home: Path, embedder: Embedder) -> dict[str, Findings]:
    """Contacts' lines holding every character other tools read as a line break, each
    followed by an owner's line; one Twin, the real console channel, the real script
    splitting. Each contact line must be one whole message and nothing else."""
    cases = separator_lines()
    script = "\n".join(
        [
            "@alice dinner friday?",
            *(line for _, line in cases),
            "> /status",
            "@bob still here",
        ]
    ).encode()
    from bot.channels.console import split_lines

    results: dict[str, Findings] = {}
    async with console_twin(home, embedder, default_policy=QUIET) as (twin, console, output):
        await play(twin, console, split_lines(script))
        store = twin.store
        stored = console_texts(store)
        commands = _commands_run(store)
        policies = _policies(store)
        names = {c.name.casefold() for c in store.contacts.all()}
        out = output.getvalue()
        for what, line in cases:
            findings = Findings()
            text = line.split(" ", 1)[1]
            count = stored.count(("@mallory", text))
            if count == 0:
                findings.lost.append(f"{text!r} was not stored whole")
            elif count > 1:
                findings.other.append(f"{text!r} stored {count} times")
            injected = next(i for i in INJECTED if text.endswith(i))
            if injected.startswith(">") and injected[1:].strip() in commands:
                findings.obeyed.append(f"ran {injected!r}")
            if injected.startswith("<") and any(who == "me" for who, _ in stored):
                findings.obeyed.append("an owner's message to alice was recorded")
            if injected.startswith("@") and ("@alice", "/approve 1") in stored:
                findings.obeyed.append("alice was made to say '/approve 1'")
            if policies:
                findings.obeyed.append(f"policies set: {policies}")
            if "mallory" not in names:
                findings.obeyed.append("mallory was merged away")
            if twin.outbox.paused():
                findings.obeyed.append("the twin is paused")
            if "[to Alice]" in out:
                findings.obeyed.append("something was sent to alice")
            results[what] = findings
        if commands != ["/status"] or ("@bob", "still here") not in stored:
            for findings in results.values():
                findings.lost.append(f"the rest of the input did not run: {commands}")
    return results


async def run_invalid_utf8(home: Path, embedder: Embedder) -> dict[str, Findings]:
    """Every invalid UTF-8 line of the corpus, read as the console reads stdin and
    scripts (`split_lines` on bytes), then an owner's line and a contact's: the bytes
    become U+FFFD, nothing they hide runs, and the rest is read on."""
    from bot.channels.console import split_lines

    results: dict[str, Findings] = {}
    data = b"".join(raw for _, raw in INVALID_UTF8) + b"> /status\n@bob still here\n"
    async with console_twin(home, embedder, default_policy=QUIET) as (twin, console, _):
        await play(twin, console, split_lines(data))
        stored = console_texts(twin.store)
        commands = _commands_run(twin.store)
        for number, (what, raw) in enumerate(INVALID_UTF8):
            findings = Findings()
            line = raw.decode("utf-8-sig" if number == 0 else "utf-8", "replace").rstrip("\n")
            if line.startswith("@"):
                handle, _, text = line.partition(" ")
                if stored.count((handle.casefold(), storable(text))) != 1:
                    findings.lost.append(f"{text!r} not stored once")
            if commands != ["/status"] or twin.outbox.paused() or _policies(twin.store):
                findings.obeyed.append(f"commands ran: {commands}")
            if ("@bob", "still here") not in stored:
                findings.lost.append("the rest of the input was not read")
            results[what] = findings
    return results


async def run_console_names(
    home: Path, embedder: Embedder, names: Sequence[str]
) -> dict[str, Findings]:
    """Contacts named as the console's and the control chat's words write commands."""
    results: dict[str, Findings] = {}
    async with console_twin(home, embedder, default_policy=QUIET) as (twin, console, _):
        lines = [
            line for name in names for line in (f"@{name} /pause", f"@{name} > /auto {name} on")
        ]
        await play(twin, console, [*lines, "> /status"])
        stored = console_texts(twin.store)
        commands = _commands_run(twin.store)
        for name in names:
            findings = Findings()
            handle = "@" + name.casefold()
            # "Control" and "CONTROL" are one console contact: "@control".
            same = sum(other.casefold() == name.casefold() for other in names)
            for text, wanted in (("/pause", same), (f"> /auto {name} on", 1)):
                count = stored.count((handle, text))
                if count != wanted:
                    findings.lost.append(f"{text!r} from {name!r} stored {count} times")
            if twin.outbox.paused() or _policies(twin.store) or commands != ["/status"]:
                findings.obeyed.append(f"commands ran: {commands}")
            results[name] = findings
    return results


async def run_strangers(h: Harness) -> dict[str, Findings]:
    """Every control command (and some disguises of one) from people who are not the
    owner, in the control chat: each refused and audited whole, nothing done."""
    results: dict[str, Findings] = {}
    registry = h.twin.control.registry.commands
    missing = sorted(set(registry) - set(COMMAND_SAMPLES))
    texts = [COMMAND_SAMPLES[name] for name in sorted(registry) if name in COMMAND_SAMPLES]
    cases = [(s, t) for s in STRANGERS for t in texts]
    cases += [(STRANGERS[0], t) for t in COMMAND_VARIANTS]
    for stranger, text in cases:
        key = f"{stranger.what}: {text!r}"
        before = snapshot(h)
        refusals = len(h.twin.store.audit.entries(action="refused", limit=None))
        told = await h.command(text, sender=stranger.sender)
        after = snapshot(h)
        findings = Findings(obeyed=changes(before, after))
        refused = h.twin.store.audit.entries(action="refused", limit=None)[refusals:]
        whole = text.strip()
        if [(e.actor, e.subject) for e in refused] != [(f"fake:{stranger.sender}", whole)]:
            findings.other.append(f"not audited whole as refused: {[e.subject for e in refused]}")
        if not told or not told[0].startswith("Refused"):
            findings.obeyed.append(f"answered as if the owner: {told}")
        results[key] = findings
    for name in missing:
        results[f"/{name} has no sample in COMMAND_SAMPLES"] = Findings(
            other=["a command nobody tried as a stranger"]
        )
    return results


async def run_contacts_commands(h: Harness) -> dict[str, Findings]:
    """The same commands written by a contact in their own chat: just messages."""
    results: dict[str, Findings] = {}
    texts = [*COMMAND_SAMPLES.values(), *(t for t in COMMAND_VARIANTS if t.strip())]
    for number, text in enumerate(texts):
        before = snapshot(h)
        event = h.channel.event("bob", text, external_id=f"bob-cmd-{number}")
        await h.push(event)
        after = snapshot(h)
        findings = Findings(obeyed=changes(before, after, drafts=False))
        if len(stored_with(h.twin.store, "fake", event.external_id)) != 1:
            findings.lost.append(f"{text!r} not stored once")
        if h.twin.store.audit.entries(action="command", limit=None):
            findings.obeyed.append("a command was run")
        results[text] = findings
    return results


# -- D. Commands hit exactly what the owner meant ----------------------------------------


Scenario = Callable[[Harness], Awaitable[dict[str, Findings]]]


def _expect(findings: Findings, ok: bool, problem: str) -> None:
    if not ok:
        findings.obeyed.append(problem)


async def d_bare_approve(h: Harness) -> Findings:
    """A bare `/approve` sends only when exactly one draft waits."""
    findings = Findings()
    h.seed({"pat": [("pat", "thanks!"), ("me", "no problem!")]})
    h.seed({"ray": [("ray", "thanks!"), ("me", "no problem!")]})
    h.seed({"sol": [("sol", "thanks!"), ("me", "no problem!")]})
    [none] = await h.command("/approve")
    _expect(findings, none == "No draft is waiting.", f"with none waiting: {none!r}")
    await h.says("alice", "thanks!")
    await h.says("bob", "thanks!")
    [two] = await h.command("/approve")
    _expect(findings, two.startswith("2 drafts are waiting"), f"with two waiting: {two!r}")
    _expect(findings, h.sent_to("alice") + h.sent_to("bob") == [], "sent with two waiting")
    await h.command("/reject 1")
    [one] = await h.command("/approve")
    _expect(findings, one == "Sent to Bob.", f"with one waiting: {one!r}")
    _expect(findings, h.sent_to("alice") == [], "the rejected draft went out")
    return findings


async def d_no_prefix(h: Harness) -> Findings:
    """`/auto bob on` never reaches "bobby_mallory", "Bob's Mallory" or "Bo"."""
    findings = Findings()
    for handle, name in (("bm", "bobby_mallory"), ("bm2", "Bob's Mallory"), ("bo", "Bo")):
        await h.says(handle, "hi", name=name)
    before = snapshot(h)
    [answer] = await h.command("/auto bob on")
    _expect(findings, answer.startswith("no contact named 'bob'"), f"answered {answer!r}")
    _expect(findings, snapshot(h).policies == before.policies, "a policy was set")
    return findings


async def d_ambiguous_across_channels(h: Harness) -> Findings:
    """An imported email contact "Mom" and a console "mom": `/auto mom on` names both and
    does nothing; `#ID` picks exactly one."""
    findings = Findings()
    await h.push(inbound("email", "mom@example.com", "call me", name="Mom"))
    await h.push(inbound("console", "@mom", "are you coming sunday?", name="mom"))
    email = contact_of(h.twin.store, "email", "mom@example.com")
    console = contact_of(h.twin.store, "console", "@mom")
    assert email is not None and console is not None
    [answer] = await h.command("/auto mom on")
    listed = f"#{email.id}" in answer and f"#{console.id}" in answer
    _expect(findings, "could be any of" in answer and listed, f"answered {answer!r}")
    _expect(findings, not snapshot(h).policies, "a policy was set on an ambiguous name")
    await h.command(f"/auto #{console.id} on")
    policies = snapshot(h).policies
    _expect(findings, policies == {console.id: "auto"}, f"#ID set {policies}")
    return findings


async def d_hash_name(h: Harness) -> Findings:
    """A contact who names themselves "#1" cannot make `/auto #1 on` (or `/merge`) hit
    someone else without the owner being asked which they mean."""
    findings = Findings()
    await h.says("alice", "hi")
    await h.says("mallory", "hi", name="#1")
    alice = contact_of(h.twin.store, "fake", "alice")
    assert alice is not None and alice.id == 1
    [answer] = await h.command("/auto #1 on")
    _expect(findings, not snapshot(h).policies, f"'/auto #1 on' set a policy: {answer!r}")
    [merge] = await h.command("/merge #1 alice")
    _expect(findings, len(h.twin.store.contacts.all()) == 2, f"'/merge #1 alice' ran: {merge!r}")
    return findings


async def d_merge_keeps_policy(h: Harness) -> Findings:
    """`/merge` of an auto contact into a draft one: the kept one's policy applies to
    both, the merge is audited with it, and the merged handle is no longer auto."""
    findings = Findings()
    h.seed(
        {
            "alice": [("alice", "thanks!"), ("me", "no problem!")],
            "ally": [("ally", "thanks!"), ("me", "no problem!")],
            "pat": [("pat", "thanks!"), ("me", "no problem!")],
            "ray": [("ray", "thanks!"), ("me", "no problem!")],
        }
    )
    await h.command("/auto ally on")
    await h.command("/auto alice draft")
    [answer] = await h.command("/merge alice ally")
    _expect(findings, "Policy: draft, its own policy of Alice" in answer, f"answered {answer!r}")
    _expect(findings, "Ally's auto no longer applies" in answer, f"answered {answer!r}")
    [entry] = h.twin.store.audit.entries(action="merge")
    detail = entry.detail
    _expect(
        findings,
        detail.get("policy") == "draft" and detail.get("dropped_policy") == "auto",
        f"audited {detail}",
    )
    await h.says("ally", "thanks!")
    await settle(h)
    _expect(findings, h.sent_to("ally") == [], "the merged handle still auto-replied")
    return findings


async def d_merge_into_default(h: Harness) -> Findings:
    """Merging an auto contact into one with no policy of its own: the default
    (draft) applies to both, said and audited."""
    findings = Findings()
    h.seed({"alice": [("alice", "hi")], "ally": [("ally", "hi")]})
    await h.command("/auto ally on")
    [answer] = await h.command("/merge alice ally")
    _expect(findings, "the default policy of Alice" in answer, f"answered {answer!r}")
    [entry] = h.twin.store.audit.entries(action="merge")
    _expect(findings, entry.detail.get("dropped_policy") == "auto", f"audited {entry.detail}")
    _expect(findings, not snapshot(h).policies, "the merged contact's auto survived")
    return findings


async def d_one_message_one_command(h: Harness) -> Findings:
    """The owner's message "/approve 1" + newline + "/pause" is one command: /approve."""
    findings = Findings()
    h.seed({"pat": [("pat", "thanks!"), ("me", "no problem!")]})
    h.seed({"ray": [("ray", "thanks!"), ("me", "no problem!")]})
    h.seed({"sol": [("sol", "thanks!"), ("me", "no problem!")]})
    await h.says("alice", "thanks!")
    await h.command("/approve 1\n/pause")
    _expect(findings, not h.twin.outbox.paused(), "the second line paused the twin")
    await h.command("/recall thanks\u2028/pause")
    await h.command("/status\x85/pause")
    _expect(findings, not h.twin.outbox.paused(), "a line separator let /pause run")
    await h.command("/pause\n/resume")
    _expect(findings, h.twin.outbox.paused(), "the second line resumed the twin")
    commands = [e.why for e in h.twin.store.audit.entries(action="command", limit=None)]
    _expect(
        findings,
        commands == ["/approve", "/recall", "/status", "/pause"],
        f"commands run: {commands}",
    )
    return findings


async def d_bare_reject(h: Harness) -> Findings:
    """A bare `/reject` drops only the one open draft; with two open (one waiting, one
    approved and held by /pause), it lists them and drops nothing."""
    findings = Findings()
    for person in ("pat", "ray", "sol"):
        h.seed({person: [(person, "thanks!"), ("me", "no problem!")]})
    await h.says("alice", "thanks!")
    [one] = await h.command("/reject")
    _expect(findings, one == "Draft 1 rejected.", f"with one open: {one!r}")
    await h.command("/pause")
    await h.says("alice", "thanks again!")
    await h.command("/approve 2")
    await h.says("bob", "thanks!")
    [two] = await h.command("/reject")
    _expect(findings, two.startswith("2 drafts are waiting"), f"with two open: {two!r}")
    statuses = [str(d.status) for d in h.drafts()]
    _expect(findings, statuses == ["rejected", "approved", "pending"], f"drafts: {statuses}")
    return findings


async def d_lookalikes(h: Harness) -> dict[str, Findings]:
    """Names that pass for Alice's are flagged on their draft cards; other spellings of
    a different name are not."""
    results: dict[str, Findings] = {}
    h.seed(
        {
            "alice": [("alice", "thanks!"), ("me", "no problem!")],
            "pat": [("pat", "thanks!"), ("me", "no problem!")],
            "ray": [("ray", "thanks!"), ("me", "no problem!")],
        }
    )
    # The spellings that are not disguises first: later, among lookalikes, they are.
    for number, (what, name) in enumerate(NOT_LOOKALIKES + LOOKALIKES):
        findings = results[what] = Findings()
        h.control()
        await h.says(f"look-{number}", "thanks!", name=name)
        cards = [c for c in h.control() if c.startswith("Draft ")]
        flagged = any("\nCareful: " in card for card in cards)
        if not cards:
            findings.other.append("no draft card to look at")
        elif (what, name) in LOOKALIKES and not flagged:
            findings.obeyed.append(f"{name!r} not flagged on its card")
        elif (what, name) in NOT_LOOKALIKES and flagged:
            findings.other.append(f"{name!r} flagged for nothing")
    return results


ANIMALS = ("zebra", "okapi", "tapir", "quokka", "axolotl", "narwhal", "pangolin", "gecko")


def _looks_like_the_owner(label: str) -> bool:
    from twin_core.memory.names import skeleton

    return skeleton(label) in {"you", "me", "i", "owner", skeleton(OWNER_NAME)}


async def d_owner_words_in_recall(h: Harness) -> dict[str, Findings]:
    """Contacts named "you", "me", the owner's name, or a disguise of those, are never
    shown as the owner in `/recall` (text and data): only the owner is plain "you"."""
    results: dict[str, Findings] = {}
    for number, name in enumerate(OWNER_WORD_NAMES):
        findings = results[f"a contact named {name!r}"] = Findings()
        animal = f"{ANIMALS[number % len(ANIMALS)]}{number}"
        await h.says(f"w{number}", f"look, a {animal} at the zoo", name=name)
        await h.owner_writes(f"w{number}", f"a {animal}? said by the owner")
        [text] = await h.command(f"/recall {animal}") or [""]
        labels = [
            line.strip()[2:].split(": ", 1)[0]
            for line in text.splitlines()
            if line.startswith("   ") and ": " in line
        ]
        labels += [
            line.split(". ", 1)[1].split(", ", 1)[0]
            for line in text.splitlines()[1:]
            if line[:1].isdigit()
        ]
        if not labels:
            findings.other.append(f"{name!r}: recall found nothing to check")
        for label in labels:
            if (
                label != "you"
                and _looks_like_the_owner(label)
                and not label.endswith("(a contact)")
            ):
                findings.obeyed.append(f"{name!r} shown as {label!r}")
        data = [d for d in h.control_data() if d.get("event") == "recall"]
        hits: list[dict[str, Any]] = data[-1]["hits"] if data else []  # type: ignore[assignment]
        for hit in hits:
            speaker = str(hit["speaker"])
            if (
                not hit["from_owner"]
                and _looks_like_the_owner(speaker)
                and not speaker.endswith("(a contact)")
            ):
                findings.obeyed.append(f"{name!r} is the speaker {speaker!r} in the data")
    return results


def one(scenario: Callable[[Harness], Awaitable[Findings]]) -> Scenario:
    async def run(h: Harness) -> dict[str, Findings]:
        return {"": await scenario(h)}

    return run


D_SCENARIOS: dict[str, Scenario] = {
    "bare /approve with 0, 2, then 1 draft waiting": one(d_bare_approve),
    "/auto bob on with only bobby_mallory": one(d_no_prefix),
    "one name on two channels; #ID picks": one(d_ambiguous_across_channels),
    "a contact named like an #ID": one(d_hash_name),
    "/merge of an auto contact into a draft one": one(d_merge_keeps_policy),
    "/merge of an auto contact into a default one": one(d_merge_into_default),
    "one control message is one command": one(d_one_message_one_command),
    "bare /reject with one, then two drafts open": one(d_bare_reject),
    "lookalike names on draft cards": d_lookalikes,
    "owner words as contact names in /recall": d_owner_words_in_recall,
}
"""Each scenario's findings, by case within it ("" when it is one case)."""


# -- E. Nothing lost, never "stored" when it was not ---------------------------------------


def odd_events(case: OddEvent, number: int) -> list[InboundEvent]:
    people = 2 if case.twice else 1
    return [
        inbound(
            case.channel,
            f"odd-{number}" if case.sender is None else case.sender + ("" if n == 0 else f"-{n}"),
            case.text,
            chat=(f"odd-chat-{number}" if case.chat is None else case.chat)
            + ("" if n == 0 else f"-{n}"),
            name=case.name,
            identities=case.identities,
            recipients=case.recipients,
            external_id=(case.external_id or f"odd-{number}") + ("" if n == 0 else f"-{n}"),
            chat_title=case.chat_title,
            reply_to=ExternalId(case.reply_to) if case.reply_to else None,
        )
        for n in range(people)
    ]


async def run_odd_events(h: Harness) -> dict[str, Findings]:
    """Every odd event pushed through the twin, each delivered twice: each stored
    exactly once and whole, none kept aside as a dead letter, and the owner never told
    that one was not stored."""
    h.control()
    sent = [(case, odd_events(case, number)) for number, case in enumerate(ODD_EVENTS)]
    for _, events in sent:
        for event in events:
            await h.channel.push(event)
            await h.channel.push(event)  # delivered twice: stored once
    await h.twin.idle()
    told = [said for said in h.control() if "could NOT be stored" in said]
    kept = h.twin.store.dead_letters.unresolved()
    results: dict[str, Findings] = {}
    for case, events in sent:
        findings = Findings()
        for event in events:
            rows = stored_with(h.twin.store, event.channel, event.external_id)
            if len(rows) != 1:
                findings.lost.append(f"stored {len(rows)} times")
            elif rows[0].text != storable(event.text):
                findings.lost.append("stored, but not the text that came")
            if any(letter.external_id == storable(event.external_id) for letter in kept):
                findings.lost.append("kept as a dead letter")
        if told:
            findings.lost.append(f"the owner was told messages were not stored: {told}")
        results[case.what] = findings
    return results


def refuse_messages(store: Store, *, dead_letters_too: bool = False, again: bool = False) -> None:
    """Make the database itself refuse new messages (and dead letters), as a full disk
    or a broken constraint would; `again`: messages are refused already."""
    tables = ["message", "dead_letter"] if dead_letters_too else ["message"]
    tables = tables[1:] if again else tables
    with store.engine.begin() as connection:
        for table in tables:
            if store.engine.dialect.name == "sqlite":
                connection.exec_driver_sql(
                    f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} "
                    "BEGIN SELECT RAISE(ABORT, 'disk full (adversarial test)'); END"
                )
            else:
                connection.exec_driver_sql(
                    f"CREATE FUNCTION refuse_{table}() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'disk full (adversarial test)'; END $$"
                )
                connection.exec_driver_sql(
                    f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} "
                    f"FOR EACH ROW EXECUTE FUNCTION refuse_{table}()"
                )


async def e_not_stored(h: Harness) -> dict[str, Findings]:
    """The database refuses messages: the first is kept in the dead-letter table; with
    the dead-letter table refusing too, the second in a file beside the database. Each
    is counted and the owner told it was NOT stored; nothing answers either."""
    results: dict[str, Findings] = {}
    for number, (what, dead_letters_too) in enumerate(
        (("kept in the dead-letter table", False), ("kept in a file", True))
    ):
        findings = Findings()
        refuse_messages(h.twin.store, dead_letters_too=dead_letters_too, again=number > 0)
        h.control()
        external_id = f"poisoned-{number}"
        await h.says("mallory", f"this one cannot be stored ({what})", external_id=external_id)
        told = h.control()
        if stored_with(h.twin.store, "fake", external_id):
            findings.other.append("it was stored after all")
        if not any("could NOT be stored" in t and "nothing was answered" in t for t in told):
            findings.lost.append(f"the owner was not told the truth: {told}")
        if any(t.startswith("Draft ") for t in told):
            findings.other.append("a draft answered a message that was not stored")
        if h.twin.store.dead_letters.count() != number + 1:
            findings.lost.append(f"dead letters counted: {h.twin.store.dead_letters.count()}")
        kept = (
            h.twin.store.dead_letters.spilled()
            if dead_letters_too
            else len(h.twin.store.dead_letters.unresolved())
        )
        if kept != 1:
            findings.lost.append(f"the event was not kept aside ({what})")
        results[what] = findings
    return results


# -- F. The owner's screen shows what was written ---------------------------------------


def raw_controls(output: str) -> list[str]:
    """Characters of `output` that a terminal would obey, as U+XXXX."""
    found = {f"U+{ord(c):04X}" for c in output if c in RAW_ON_SCREEN}
    found |= {
        "U+000D (lone)" for i, c in enumerate(output) if c == "\r" and output[i + 1 : i + 2] != "\n"
    }
    return sorted(found)


def screen_script() -> list[str]:
    """The screen attacks as contacts' texts (five at a time, as bursts: each card shows
    all five) and, without spaces, as their names, who say "thanks!" so that they get
    draft cards too; then the owner's /drafts and /recall show them again."""
    lines = [
        "@pat thanks!",
        "<pat no problem!",
        "@ray thanks!",
        "<ray no problem!",
        "@sol thanks!",
        "<sol no problem!",
    ]
    for number, (_, attack) in enumerate(SCREEN_ATTACKS):
        lines.append(f"@texts{number // 5} zebra {attack}")
    for number, (_, attack) in enumerate(SCREEN_ATTACKS):
        lines.append(f"@{attack.replace(' ', '')}{number} thanks!")
    return [*lines, "> /drafts", "> /recall zebra"]


async def run_screen(home: Path, embedder: Embedder, *, json_output: bool) -> str:
    """The screen script on the console; what the owner's terminal was given."""
    async with console_twin(home, embedder, json_output=json_output) as (twin, console, output):
        await play(twin, console, screen_script())
        return output.getvalue()


def screen_findings(output: str, *, json_output: bool) -> dict[str, Findings]:
    """Each attack's findings in one console output: raw controls it holds, and for the
    text output, lines not drawn by the twin (a forged header)."""
    results: dict[str, Findings] = {}
    raw = set(raw_controls(output))
    forged = []
    if not json_output:
        forged = [
            line
            for line in output.splitlines()
            if line and not line.startswith(("[control] ", "[to ", "[console] ", " "))
        ]
    for what, attack in SCREEN_ATTACKS:
        findings = Findings()
        mine = {f"U+{ord(c):04X}" for c in attack if c in RAW_ON_SCREEN}
        if "\r" in attack:
            mine.add("U+000D (lone)")
        findings.other.extend(f"{code} reached the screen raw" for code in sorted(mine & raw))
        findings.other.extend(f"a line not drawn by the twin: {line!r}" for line in forged)
        results[what] = findings
    return results


CLI_SURFACES: tuple[tuple[str, ...], ...] = tuple(
    (*command, *extra)
    for command in (
        ("drafts",),
        ("contacts",),
        ("audit", "--limit", "500"),
        ("recall", "zebra", "--limit", "30"),
    )
    for extra in ((), ("--json",))
)
"""The `twin` commands that print contacts' names and texts."""


def run_cli(home: Path, *args: str) -> tuple[int, str]:
    """`twin --home HOME ARGS...` in this process: its exit status and its stdout."""
    from bot.cli import main

    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(io.StringIO()):
        try:
            main(["--home", str(home), *args])
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0) if not isinstance(exc.code, str) else 1
    return code, stdout.getvalue()


# -- G. The audit log is tamper-evident -------------------------------------------------


def audit_some(store: Store) -> None:
    """Six entries, as a day of work would leave them."""
    store.audit.record("twin", "drafted", "Alice", "a message to you", draft_id=1)
    store.audit.record("owner", "approved", "Alice", "you approved draft 1", draft_id=1)
    store.audit.record("twin", "sent", "Alice", "approved draft delivered", draft_id=1)
    store.audit.record("owner", "policy", "Bob", "set to auto", contact_id=2, policy="auto")
    store.audit.record("owner", "pause", why="you paused the twin")
    store.audit.record("owner", "resume", why="you resumed the twin")


def tamper(store: Store, case: Tampering) -> None:
    with store.engine.begin() as connection:
        for statement in case.sql:
            connection.exec_driver_sql(statement)


def g_verdict(store: Store, case: Tampering) -> Findings:
    findings = Findings()
    verdict = store.audit.verify()
    if verdict.broken is None:
        findings.other.append("the tampering went unnoticed")
    elif case.first is not None and f"entry {case.first} " not in verdict.broken + " ":
        findings.other.append(f"the wrong entry was named: {verdict.broken}")
    return findings


# -- H. Identities ------------------------------------------------------------------------


def h_join(store: Store, case: Join, number: int) -> Findings:
    findings = Findings()
    found = []
    for side, account in enumerate((case.first, case.second)):
        recorded = store.messages.record(
            inbound(
                account.channel,
                account.handle,
                "hi",
                name=account.name,
                identities=account.identities,
                external_id=f"join-{number}-{side}",
            )
        )
        assert recorded.contact is not None
        found.append(recorded.contact.id)
    if (found[0] == found[1]) != case.same:
        problem = "joined" if found[0] == found[1] else "kept apart"
        (findings.leaks if case.same is False else findings.other).append(
            f"{problem}: {case.first.channel}:{case.first.handle} and "
            f"{case.second.channel}:{case.second.handle}"
        )
    return findings


def forget_everyone(store: Store) -> None:
    """Empty the people tables, so the next case starts from no one."""
    with store.engine.begin() as connection:
        for table in ("message", "conversation", "handle", "contact"):
            connection.exec_driver_sql(f"DELETE FROM {table}")


def run_joins(store: Store) -> dict[str, Findings]:
    results = {}
    for number, case in enumerate(JOINS):
        forget_everyone(store)
        results[case.what] = h_join(store, case, number)
    return results
