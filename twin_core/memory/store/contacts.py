"""Contacts and their handles: who a person is, on every channel.

A contact is a person; a handle is one of their identities on one platform. The name of
a contact is what the owner types in commands (`/auto alice on`), so finding one by
name is strict: an exact name, never a prefix, and a name that fits several contacts is
refused with the candidates listed (see `find`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from twin_core.memory.db import Database
from twin_core.memory.identity import identities_of
from twin_core.memory.models import (
    Contact,
    Conversation,
    Decision,
    Draft,
    Handle,
    Message,
    Policy,
)
from twin_core.memory.store.sql import external_key, storable
from twin_core.types import ContactId, PolicyMode

MAX_NAME = 180
"""Contact names are command handles; the whole display name is kept on the handle."""
_SUFFIX = re.compile(r"^(?P<base>.+?) \((?P<channel>[\w.-]+)(?: \d+)?\)$")


class UnknownContact(LookupError):
    """No contact fits the name; the message says so and lists the known names."""

    def __init__(self, message: str, candidates: Sequence[Contact] = ()) -> None:
        super().__init__(message)
        self.candidates = list(candidates)


class AmbiguousContact(UnknownContact):
    """Several contacts fit the name; `candidates` holds them, the message lists them
    with their channels and how to pick one (`#ID` or the full name)."""


@dataclass(frozen=True, slots=True)
class Merged:
    """The outcome of folding one contact into another."""

    kept: Contact
    merged_name: str
    kept_policy: PolicyMode | None
    """The kept contact's own policy (None: the default), which stays."""
    dropped_policy: PolicyMode | None
    """The merged contact's own policy, which no longer applies."""


def lookup_key(name: str) -> str:
    """How a typed name is compared: NFKC, case-folded, single spaces, no leading '@'."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split()).lstrip("@").strip()


def base_name(name: str) -> str:
    """A contact's name without the ` (channel)` the twin added to keep names unique."""
    match = _SUFFIX.match(name)
    return match.group("base") if match else name


class ContactRepository:
    def __init__(self, database: Database) -> None:
        self.database = database

    def _session(self) -> Session:
        return self.database.session()

    def for_handle(
        self, channel: str, handle_id: str, name: str, identities: Iterable[str] = ()
    ) -> Contact:
        """The contact behind this identity, created (with a unique name) on first sight.

        A handle new to this channel joins an existing contact when another platform
        already knows the same phone number or email address (`memory.identity`).
        """
        handle_id = external_key(handle_id)
        name = storable(name)
        with self._session() as session:
            found = session.exec(
                select(Contact)
                .join(Handle, col(Handle.contact_id) == col(Contact.id))
                .where(Handle.channel == channel, Handle.external_id == handle_id)
            ).first()
            if found is not None:
                return found
            keys = identities_of(channel, handle_id, identities)
            contact = None
            if keys:
                contact = session.exec(
                    select(Contact)
                    .join(Handle, col(Handle.contact_id) == col(Contact.id))
                    .where(col(Handle.identity).in_(keys))
                    .order_by(col(Contact.id))
                ).first()
            try:
                if contact is None:
                    contact = Contact(name=self._free_name(session, name or handle_id, channel))
                    session.add(contact)
                    session.flush()
                assert contact.id is not None
                session.add(
                    Handle(
                        contact_id=contact.id,
                        channel=channel,
                        external_id=handle_id,
                        display_name=name,
                        identity=keys[0] if keys else None,
                    )
                )
                session.commit()
            except sa.exc.IntegrityError:
                # Another writer created the same handle (or took the same name) first:
                # theirs wins, and this one looks again.
                session.rollback()
                return self.for_handle(channel, handle_id, name, identities)
            return contact

    @staticmethod
    def _free_name(session: Session, wanted: str, channel: str) -> str:
        wanted = " ".join(wanted.split())[:MAX_NAME] or "unknown"
        # SQL's lower() and LIKE fold ASCII letters only on SQLite ("Ольга" stays as it
        # is), and `\`, `%` and `_` are patterns unless escaped: the names starting
        # with exactly `wanted` are asked for too, so a name the database would refuse
        # as a duplicate is always seen here.
        taken = {
            name.lower()
            for name in session.exec(
                select(Contact.name).where(
                    func.lower(Contact.name).startswith(wanted.lower(), autoescape=True)
                    | col(Contact.name).startswith(wanted, autoescape=True)
                )
            )
        }
        if wanted.lower() not in taken:
            return wanted
        candidate = f"{wanted} ({channel})"
        counter = 2
        while candidate.lower() in taken:
            candidate = f"{wanted} ({channel} {counter})"
            counter += 1
        return candidate

    def get(self, contact_id: ContactId) -> Contact | None:
        with self._session() as session:
            return session.get(Contact, contact_id)

    def all(self) -> list[Contact]:
        with self._session() as session:
            return list(session.exec(select(Contact).order_by(col(Contact.name))))

    def names(self) -> dict[ContactId, str]:
        with self._session() as session:
            return {
                ContactId(contact_id): name
                for contact_id, name in session.exec(select(Contact.id, Contact.name))
                if contact_id is not None
            }

    def find(self, name: str) -> Contact:
        """The one contact `name` means: `#ID`, or a name that fits exactly one contact.

        A name fits a contact when it equals (case-folded) its full name, its name
        without the ` (channel)` suffix, or the display name of one of its handles. No
        prefix matching: `/auto bob on` never reaches `bobby`. When several contacts fit,
        `AmbiguousContact` lists them; when none does, `UnknownContact`. `#ID` is the
        contact with that id, unless another contact is called so (a name a contact
        chose to make the owner's `/auto #1 on` hit someone else): then it is ambiguous.
        """
        wanted = lookup_key(name)
        contacts = self.all()
        if not wanted:
            raise UnknownContact("say which contact: a name, or #ID from the list")
        displayed: dict[int, set[str]] = {}
        with self._session() as session:
            for contact_id, shown in session.exec(select(Handle.contact_id, Handle.display_name)):
                displayed.setdefault(contact_id, set()).add(lookup_key(shown))
        fits = [
            c
            for c in contacts
            if wanted in (lookup_key(c.name), lookup_key(base_name(c.name)))
            or wanted in displayed.get(c.id or 0, ())
        ]
        if wanted.startswith("#") and wanted[1:].isdigit():
            by_id = next((c for c in contacts if c.id == int(wanted[1:])), None)
            if by_id is None and not fits:
                raise UnknownContact(f"no contact #{wanted[1:]} (see twin contacts)")
            # A contact may call themselves "#1": then "#1" could mean either.
            fits = list({c.id: c for c in [*([by_id] if by_id else []), *fits]}.values())
        if len(fits) == 1:
            return fits[0]
        if fits:
            raise AmbiguousContact(
                f"{name!r} could be any of: {self.describe(fits)}. "
                "Say which with its full name or its #ID.",
                fits,
            )
        known = ", ".join(c.name for c in contacts[:8]) or "none yet"
        raise UnknownContact(f"no contact named {name!r} (known: {known})")

    def describe(self, contacts: Sequence[Contact]) -> str:
        """`#3 mom (email), #7 mom (console)`: names with ids and channels."""
        channels = self.channels_of([c.id for c in contacts if c.id is not None])
        return ", ".join(
            f"#{c.id} {c.name} ({', '.join(channels.get(c.id, [])) or 'no channel'})"
            for c in contacts
            if c.id is not None
        )

    def channels_of(self, contact_ids: Sequence[ContactId]) -> dict[ContactId, list[str]]:
        with self._session() as session:
            rows = session.exec(
                select(Handle.contact_id, Handle.channel)
                .where(col(Handle.contact_id).in_(list(contact_ids)))
                .order_by(col(Handle.id))
            ).all()
        found: dict[ContactId, list[str]] = {}
        for contact_id, channel in rows:
            listed = found.setdefault(ContactId(contact_id), [])
            if channel not in listed:
                listed.append(channel)
        return found

    def overview(self) -> list[dict[str, Any]]:
        """Every contact with their handles and how many messages they sent."""
        with self._session() as session:
            counts = dict(
                session.exec(
                    select(Message.contact_id, func.count()).group_by(col(Message.contact_id))
                ).all()
            )
            handles: dict[int, list[str]] = {}
            for handle in session.exec(select(Handle).order_by(col(Handle.id))):
                handles.setdefault(handle.contact_id, []).append(
                    f"{handle.channel}:{handle.external_id}"
                )
            return [
                {
                    "id": contact.id,
                    "name": contact.name,
                    "handles": handles.get(contact.id or 0, []),
                    "messages": counts.get(contact.id, 0),
                }
                for contact in session.exec(select(Contact).order_by(col(Contact.name)))
            ]

    def same_person(self, contact_id: ContactId) -> list[tuple[Contact, int]]:
        """Other contacts this one may be, with how many messages each sent (most first):
        a name, or a handle's shown name or username, that reads the same (case,
        accents, spacing, a leading `@` and the `(channel)` suffix of a second "Kai"
        ignored). Phone numbers and emails join contacts on their own (`for_handle`)."""
        with self._session() as session:
            handles: dict[int, list[Handle]] = {}
            for handle in session.exec(select(Handle)):
                handles.setdefault(handle.contact_id, []).append(handle)
            contacts = {c.id: c for c in session.exec(select(Contact)) if c.id is not None}
            if contact_id not in contacts:
                return []

            def keys(contact: Contact) -> set[str]:
                found = {_fold(contact.name)}
                for handle in handles.get(contact.id or 0, []):
                    found.add(_fold(handle.display_name))
                    if any(ch.isalpha() for ch in handle.external_id):
                        found.add(_fold(handle.external_id))
                return {k for k in found if len(k) >= 2}

            wanted = keys(contacts[contact_id])
            matches = [c for cid, c in contacts.items() if cid != contact_id and keys(c) & wanted]
            if not matches:
                return []
            counts = dict(
                session.exec(
                    select(Message.contact_id, func.count())
                    .where(col(Message.contact_id).in_([c.id for c in matches]))
                    .group_by(col(Message.contact_id))
                ).all()
            )
        ranked = [(c, int(counts.get(c.id, 0))) for c in matches]
        return sorted(ranked, key=lambda pair: (-pair[1], pair[0].id or 0))

    def handles(self, contact_id: ContactId) -> list[Handle]:
        with self._session() as session:
            return list(
                session.exec(
                    select(Handle).where(Handle.contact_id == contact_id).order_by(col(Handle.id))
                )
            )

    def people(self, contact_ids: Iterable[ContactId]) -> int:
        """How many different people these contacts are. Merged identities are one
        contact already; contacts not merged count once too when they share a phone
        number or address, or the same name up to the ` (channel)` suffix (the same
        person on two accounts). When in doubt, fewer people."""
        ids = sorted({int(i) for i in contact_ids})
        if len(ids) < 2:
            return len(ids)
        parent: dict[int, int] = {i: i for i in ids}

        def root(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        def join(a: int, b: int) -> None:
            parent[root(a)] = root(b)

        with self._session() as session:
            names = dict(
                session.exec(select(Contact.id, Contact.name).where(col(Contact.id).in_(ids))).all()
            )
            handles = session.exec(
                select(Handle.contact_id, Handle.identity, Handle.display_name).where(
                    col(Handle.contact_id).in_(ids)
                )
            ).all()
        first_by_key: dict[str, int] = {}
        keys: list[tuple[int, str]] = [
            (i, "name:" + lookup_key(base_name(n))) for i, n in names.items() if i is not None
        ]
        for contact_id, identity, shown in handles:
            if identity:
                keys.append((contact_id, identity))
            if lookup_key(shown):
                keys.append((contact_id, "name:" + lookup_key(shown)))
        for contact_id, key in keys:
            if key in first_by_key:
                join(contact_id, first_by_key[key])
            else:
                first_by_key[key] = contact_id
        return len({root(i) for i in ids})

    def merge(self, source_id: ContactId, target_id: ContactId) -> Merged:
        """Fold contact `source_id` into `target_id`: handles, conversations, messages
        and drafts move over. The target's own policy stays; the source's is dropped."""
        if source_id == target_id:
            raise ValueError("a contact cannot be merged with itself")
        with self._session() as session:
            source = session.get(Contact, source_id)
            target = session.get(Contact, target_id)
            if source is None or target is None:
                raise UnknownContact(
                    f"no contact with id {source_id if source is None else target_id}"
                )
            # People memory's rows move too (its figures are rebuilt by the caller,
            # `Memory.merge_contacts`); imported here, as that package imports this one.
            from twin_core.memory.people.models import Commitment, Fact, Relationship

            session.execute(
                sa.delete(Relationship).where(col(Relationship.contact_id) == source_id)
            )
            for model in (Handle, Conversation, Message, Draft, Fact, Commitment, Decision):
                column = model.__table__.c.contact_id  # type: ignore[attr-defined,union-attr]
                session.execute(
                    sa.update(model).where(column == source_id).values(contact_id=target_id)
                )
            source_policy = session.get(Policy, source_id)
            target_policy = session.get(Policy, target_id)
            dropped = PolicyMode(source_policy.mode) if source_policy is not None else None
            if source_policy is not None:
                session.delete(source_policy)
            session.flush()
            merged_name = source.name
            session.delete(source)
            session.commit()
            return Merged(
                kept=target,
                merged_name=merged_name,
                kept_policy=PolicyMode(target_policy.mode) if target_policy else None,
                dropped_policy=dropped,
            )

    def count(self) -> int:
        with self._session() as session:
            return session.exec(select(func.count()).select_from(Contact)).one()


_CHANNEL_SUFFIX = re.compile(r"\s*\([^()]*\)$")


def _fold(name: str) -> str:
    """A name as the same-person check compares it."""
    plain = unicodedata.normalize("NFKD", name)
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    plain = _CHANNEL_SUFFIX.sub("", " ".join(plain.split())).lstrip("@")
    return plain.casefold()
