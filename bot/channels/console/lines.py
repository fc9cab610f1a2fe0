"""The console's input: one line is one message.

Lines are split on `\\n` alone (`\\r\\n` tolerated), never on the other characters
`str.splitlines()` treats as line breaks (U+2028, U+2029, NEL, VT, FF, FS, GS, RS, a
lone CR): those are part of what a contact wrote, and splitting on them would let the
rest of a contact's message run as the owner's command. Bytes that are not UTF-8 become
U+FFFD and the rest of the input is read on. A byte order mark at the very start (as
Windows editors write one) is not part of the first line.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import IO, Literal

LineKind = Literal["contact", "control", "owner"]
BOM = "\ufeff"


class ConsoleLineError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class ConsoleLine:
    kind: LineKind
    name: str
    text: str


def split_lines(data: bytes | str) -> list[str]:
    """`data` as lines: split on LF only, a CR right before the LF dropped."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    lines = text.removeprefix(BOM).split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def iter_lines(stream: IO[bytes]) -> Iterator[str]:
    """Lines of a binary stream as they come (for stdin), split as `split_lines` does."""
    first = True
    for raw in stream:  # a binary stream yields at b"\n" only
        line = raw.decode("utf-8", "replace").removesuffix("\n").removesuffix("\r")
        yield line.removeprefix(BOM) if first else line
        first = False


async def aiter_lines(stream: IO[bytes]) -> AsyncIterator[str]:
    """`iter_lines` without blocking the event loop."""
    first = True
    while True:
        raw = await asyncio.to_thread(stream.readline)
        if not raw:
            return
        line = raw.decode("utf-8", "replace").removesuffix("\n").removesuffix("\r")
        yield line.removeprefix(BOM) if first else line
        first = False


def parse_line(line: str) -> ConsoleLine | None:
    """One input line as a `ConsoleLine`; None for blank lines and comments.

    `@NAME text`   contact NAME writes to the owner
    `> text`       the owner types in the control chat
    `<NAME text`   the owner writes to NAME directly, as from their own phone
    `# ...`        a comment
    """
    if not line.strip() or line.lstrip().startswith("#"):
        return None
    stripped = line.strip(" \t")
    if stripped.startswith(">"):
        text = stripped[1:].strip(" \t")
        if not text:
            raise ConsoleLineError("'>' needs a command or text, e.g. '> /help'")
        return ConsoleLine("control", "", text)
    if stripped[0] in "@<":
        kind: LineKind = "contact" if stripped[0] == "@" else "owner"
        name, _, text = stripped[1:].partition(" ")
        if not name:
            raise ConsoleLineError(f"'{stripped[0]}' must be followed by a name, e.g. '@alice hi'")
        if not text.strip():
            raise ConsoleLineError(
                f"'{stripped[0]}{name}' has no text; e.g. '{stripped[0]}{name} hi'"
            )
        return ConsoleLine(kind, name, text.strip(" \t"))
    raise ConsoleLineError(
        "start a line with '@NAME ' (a contact writes), '> ' (you, in the control chat) "
        "or '<NAME ' (you write to NAME)"
    )
