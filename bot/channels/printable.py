"""Show what a contact wrote, not what it pretends to be.

Contacts' names and messages reach the owner's terminal (and, later, platform
messages). A terminal obeys control characters: an escape sequence in a name can move
the cursor and rewrite a draft card's header to show another name, set the window
title, or hide a link behind other text; a right-to-left override shows the rest of the
line backwards. `printable` writes every such character as visible text (`\\x1b`,
`\\u202e`), so the owner sees exactly what was sent and the screen stays as drawn.

Escaped: C0 controls except tab and newline (a newline is written as `\\n` when
`newlines=False`), DEL, C1 controls (U+0080 to U+009F, among them NEL and the 8-bit
CSI), a carriage return not followed by a newline, the bidi embeddings, overrides and
isolates (U+202A to U+202E, U+2066 to U+2069), the line and paragraph separators
(U+2028, U+2029), and lone surrogates (text decoded with `surrogateescape` would
otherwise fail to print at all). Everything else is left alone: letters of every
script, emoji and their zero-width joiners, the left-to-right and right-to-left marks
that Arabic and Hebrew text needs. A backslash already in the text stays as it is, so
`\\x1b` typed by a contact and an escaped ESC look the same; what matters is that
neither is obeyed.

`printable_json` does the same for JSON lines (`--json`): json.dumps escapes the C0
controls, and leaves DEL, C1, the separators, bidi controls and lone surrogates raw.
Every `twin` command prints through these two (`bot.cli.common`), as the console does,
and logs through `PrintableFormatter`.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any


def _escape(code: int) -> str:
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


_ESCAPED = [
    *(code for code in range(0x00, 0x20) if code not in (0x09, 0x0A, 0x0D)),  # C0
    0x7F,  # DEL
    *range(0x80, 0xA0),  # C1, with NEL (U+0085) and the 8-bit CSI (U+009B)
    *range(0x202A, 0x202F),  # LRE RLE PDF LRO RLO
    *range(0x2066, 0x206A),  # LRI RLI FSI PDI
    0x2028,  # LINE SEPARATOR
    0x2029,  # PARAGRAPH SEPARATOR
    *range(0xD800, 0xE000),  # lone surrogates
]
_KEEP_NEWLINES = {code: _escape(code) for code in _ESCAPED}
_ESCAPE_NEWLINES = {**_KEEP_NEWLINES, 0x0A: "\\n", 0x0D: "\\r"}
_LONE_CR = re.compile(r"\r(?!\n)")


def printable(text: str, *, newlines: bool = True) -> str:
    """`text` with every character that could rewrite or reorder the screen written as
    a visible escape (`\\x1b`, `\\u202e`). Tabs stay; newlines stay (and CRLF with
    them) unless `newlines` is False, when they are written as `\\n` and `\\r`."""
    if newlines:
        return _LONE_CR.sub(r"\\r", text).translate(_KEEP_NEWLINES)
    return text.translate(_ESCAPE_NEWLINES)


# In JSON, json.dumps already writes C0 controls as \u escapes; these it leaves raw.
_JSON_UNSAFE = re.compile(
    "[\x7f\u0080-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def printable_json(value: Any) -> str:
    """`value` as one line of JSON that a terminal shows as written: besides the C0
    controls json.dumps escapes, DEL, the C1 controls, the line and paragraph
    separators, the bidi marks, embeddings, overrides and isolates, and lone surrogates
    are written as `\\uXXXX`, which every JSON reader reads back as the same text."""
    line = json.dumps(value, ensure_ascii=False, default=str)
    return _JSON_UNSAFE.sub(lambda match: f"\\u{ord(match.group()):04x}", line)


class PrintableFormatter(logging.Formatter):
    """Log lines for a terminal, as `printable` shows them: a failure is logged with
    the platform's ids, and names or texts of contacts, which must not move the
    cursor or set the title of the terminal `twin run` logs to."""

    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record))
