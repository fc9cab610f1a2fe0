"""Text as a platform takes it: long replies split at the platform's limit, measured
after its markup escaping, and buttons labelled from the commands they send.

Every platform caps one message (Telegram 4,096 characters, Discord 2,000, a Slack
section block 3,000) and escapes some characters into longer sequences (`<` is `&lt;`
on Slack). `split_text` cuts the text *before* escaping, at the last paragraph break,
line break or space that keeps each escaped part within the limit, so no escape
sequence, word or emoji is cut in two and nothing is lost or repeated.
"""

from __future__ import annotations

from collections.abc import Callable

BREAKS = ("\n\n", "\n", " ")
"""Where a long text is cut, best first."""


def split_text(
    text: str, limit: int, escape: Callable[[str], str] = lambda part: part
) -> list[str]:
    """`text` in parts whose `escape`d form is at most `limit` characters, cut at the
    best break in each; whitespace at a cut is dropped. An empty text is one empty
    part (the caller decides whether to send it)."""
    if limit < 1:
        raise ValueError("limit must be positive")
    parts: list[str] = []
    rest = text
    while len(escape(rest)) > limit:
        end = _fitting(rest, limit, escape)
        cut = end
        for mark in BREAKS:
            found = rest.rfind(mark, 0, end)
            if found > 0:
                cut = found
                break
        part = rest[:cut].rstrip()
        parts.append(part if part else rest[:end])
        rest = rest[cut:].lstrip() if part else rest[end:]
    if rest or not parts:
        parts.append(rest)
    return parts


def _fitting(text: str, limit: int, escape: Callable[[str], str]) -> int:
    """The longest prefix length of `text` whose escaped form fits `limit` (at least
    one character, so a single over-long escape still makes progress)."""
    low, high = 1, min(len(text), limit)
    while low < high:
        middle = (low + high + 1) // 2
        if len(escape(text[:middle])) <= limit:
            low = middle
        else:
            high = middle - 1
    return low
