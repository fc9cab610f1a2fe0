"""One person, one contact: the keys that tie a person's handles on different platforms
together (a phone number on WhatsApp and in a Telegram contact card, an address on
email and in a Slack profile).

Only what a platform documents as a phone number or an address is a key. A numeric id
is not a phone number: Telegram's user 5123456789 and the WhatsApp number +5123456789
are not the same person because their digits agree. So a handle becomes a key only on
the channels whose handles *are* phone numbers (`PHONE_CHANNELS`) or addresses
(`ADDRESS_CHANNELS`); everything else has to come in `InboundEvent.identities`, from
a field the adapter or importer knows to be a phone number or an address.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_PHONE = re.compile(r"\+?[\d\s().-]{8,}")
_EMAIL = re.compile(r"[^@\s<>\ud800-\udfff]+@[^@\s<>\ud800-\udfff]+\.[^@\s<>\ud800-\udfff]+")
_WHATSAPP_JID = re.compile(r"(\d{6,})(?::\d+)?@(s\.whatsapp\.net|c\.us)")
MIN_PHONE_DIGITS = 8
MAX_PHONE_DIGITS = 15
"""E.164: no phone number has more digits. Longer is not a number, and not a key."""
MAX_ADDRESS = 254
"""RFC 5321 (with its erratum): no deliverable address is longer. Longer is not an
address, and not a key; it could not be stored as one either (`Handle.identity`)."""

PHONE_CHANNELS = frozenset({"whatsapp", "sms", "signal"})
"""Channels whose user handles are phone numbers (a WhatsApp JID is the number)."""
ADDRESS_CHANNELS = frozenset({"email", "mbox"})
"""Channels whose user handles are email addresses."""


def phone_key(number: str) -> str | None:
    """`tel:<digits>` for something written as a phone number, else None."""
    number = number.strip()
    if not _PHONE.fullmatch(number):
        return None
    digits = "".join(c for c in number if c.isdigit()).lstrip("0")
    return f"tel:{digits}" if MIN_PHONE_DIGITS <= len(digits) <= MAX_PHONE_DIGITS else None


def email_key(address: str) -> str | None:
    """`email:<address>` for an email address, else None."""
    address = address.strip()
    if len(address) > MAX_ADDRESS or not _EMAIL.fullmatch(address):
        return None
    return f"email:{address.casefold()}"


def identity_of(channel: str, handle: str) -> str | None:
    """The key a handle on `channel` is by itself, or None (a user id, a name)."""
    handle = handle.strip()
    if channel in ADDRESS_CHANNELS:
        return email_key(handle)
    if channel in PHONE_CHANNELS:
        jid = _WHATSAPP_JID.fullmatch(handle)
        return phone_key(jid.group(1)) if jid else phone_key(handle)
    return None


def identities_of(channel: str, handle: str, declared: Iterable[str] = ()) -> list[str]:
    """Every key for this sender: the handle's own, then the declared ones (checked)."""
    keys: list[str] = []
    own = identity_of(channel, handle)
    if own is not None:
        keys.append(own)
    for key in declared:
        kind, _, value = key.partition(":")
        checked = (
            phone_key(value) if kind == "tel" else email_key(value) if kind == "email" else None
        )
        if checked is not None and checked not in keys:
            keys.append(checked)
    return keys
