"""One person, one contact: the keys that tie a person's handles on different
platforms together (a phone number on WhatsApp and Telegram, an address on email and
Slack)."""

from __future__ import annotations

import re

_PHONE = re.compile(r"\+?[\d\s().-]{8,}")
_EMAIL = re.compile(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+")
MIN_PHONE_DIGITS = 8


def identity_of(handle: str) -> str | None:
    """`tel:<digits>` for a phone number, `email:<address>` for an email address, else
    None (a user id or a name identifies someone on one platform only)."""
    handle = handle.strip()
    if _EMAIL.fullmatch(handle):
        return f"email:{handle.casefold()}"
    if _PHONE.fullmatch(handle):
        digits = "".join(c for c in handle if c.isdigit())
        if len(digits) >= MIN_PHONE_DIGITS:
            return f"tel:{digits.lstrip('0')}"
    return None
