"""Texts as Telegram takes them.

Everything is sent as plain text (no `parse_mode`): nothing a contact or the model
wrote can be read as Markdown or HTML, so there is nothing to escape and no entity
that fails to parse. A message holds at most 4096 characters as Telegram counts them
(UTF-16 code units: an emoji outside the BMP counts two); longer texts are split, at a
paragraph, line or word break where there is one near the end, never inside a
character or a surrogate pair.
"""

from __future__ import annotations

MAX_MESSAGE = 4096
CALLBACK_DATA_MAX = 64
"""Bytes of `callback_data` Telegram keeps with an inline button."""


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_message(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """`text` in parts of at most `limit` UTF-16 code units that join back to `text`."""
    parts: list[str] = []
    rest = text
    while utf16_length(rest) > limit:
        cut = _fit(rest, limit)
        window = rest[:cut]
        for separator in ("\n\n", "\n", " "):
            at = window.rfind(separator)
            if at >= cut // 2:  # a break in the last half; otherwise cut hard
                cut = at + len(separator)
                break
        parts.append(rest[:cut])
        rest = rest[cut:]
    parts.append(rest)
    return parts


def _fit(text: str, limit: int) -> int:
    """How many characters of `text` fit in `limit` UTF-16 code units."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return index
    return len(text)
