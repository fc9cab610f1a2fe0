"""The console channel: a scriptable conversation on stdin/stdout.

Input lines:
  `@NAME text`   contact NAME writes to the owner
  `> text`       the owner types in the control chat (`> /drafts`)
  `<NAME text`   the owner writes to NAME directly, as from their own phone
  `# ...`        a comment; blank lines are skipped
Output: `[to NAME] text` for each message the twin sends to a contact, `[control] text`
for what it tells the owner, `[console] ...` for input it cannot read; with `json=True`
one JSON object per event instead.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, Any

from bot.channels.base import EventHandler
from twin_core.types import (
    ChannelName,
    ChatId,
    ExternalId,
    HandleId,
    InboundEvent,
    OutboundMessage,
    utcnow,
)

CONSOLE = ChannelName("console")
CONTROL_CHAT = ChatId("control")
OWNER = HandleId("owner")


class ConsoleLineError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class ConsoleLine:
    kind: str  # "contact" | "control" | "owner"
    name: str
    text: str


def parse_line(line: str) -> ConsoleLine | None:
    """One input line as a `ConsoleLine`; None for blank lines and comments."""
    stripped = line.rstrip("\r\n")
    if not stripped.strip() or stripped.lstrip().startswith("#"):
        return None
    stripped = stripped.lstrip()
    if stripped.startswith(">"):
        text = stripped[1:].strip()
        if not text:
            raise ConsoleLineError("'>' needs a command or text, e.g. '> /help'")
        return ConsoleLine("control", "", text)
    if stripped[0] in "@<":
        kind = "contact" if stripped[0] == "@" else "owner"
        name, _, text = stripped[1:].partition(" ")
        if not name:
            raise ConsoleLineError(f"'{stripped[0]}' must be followed by a name, e.g. '@alice hi'")
        if not text.strip():
            raise ConsoleLineError(
                f"'{stripped[0]}{name}' has no text; e.g. '{stripped[0]}{name} hi'"
            )
        return ConsoleLine(kind, name, text.strip())
    raise ConsoleLineError(
        "start a line with '@NAME ' (a contact writes), '> ' (you, in the control chat) "
        "or '<NAME ' (you write to NAME)"
    )


class ConsoleChannel:
    def __init__(self, output: IO[str], *, json_output: bool = False) -> None:
        self.name = CONSOLE
        self.output = output
        self.json_output = json_output
        self._on_event: EventHandler | None = None
        self._names: dict[str, str] = {}
        self._ids = itertools.count(1)
        self._run = f"{time.time_ns():x}"

    async def start(self, on_event: EventHandler) -> None:
        self._on_event = on_event

    async def stop(self) -> None:
        self._on_event = None

    async def send(self, message: OutboundMessage) -> ExternalId:
        external_id = self._next_id("out")
        if message.chat_id == CONTROL_CHAT:
            if message.data is not None and self.json_output:
                self._emit(dict(message.data), "")
            else:
                self._emit({"event": "control", "text": message.text}, "[control] ", message.text)
        else:
            name = self._names.get(message.chat_id, message.chat_id)
            self._emit(
                {"event": "sent", "to": name, "text": message.text, "id": external_id},
                f"[to {name}] ",
                message.text,
            )
        return external_id

    def _emit(self, event: dict[str, Any], prefix: str, text: str = "") -> None:
        if self.json_output:
            self.output.write(json.dumps(event, ensure_ascii=False, default=str) + "\n")
        else:
            self.output.write(prefix + text.replace("\n", "\n" + " " * len(prefix)) + "\n")
        self.output.flush()

    def _next_id(self, direction: str) -> ExternalId:
        return ExternalId(f"console-{self._run}-{direction}-{next(self._ids)}")

    def event_for(self, line: ConsoleLine) -> InboundEvent:
        now = utcnow()
        if line.kind == "control":
            return InboundEvent(
                CONSOLE, self._next_id("in"), CONTROL_CHAT, OWNER, "you", line.text, now
            )
        chat = ChatId(line.name.casefold())
        self._names.setdefault(chat, line.name)
        if line.kind == "owner":
            return InboundEvent(
                CONSOLE, self._next_id("in"), chat, OWNER, "you", line.text, now, from_owner=True
            )
        return InboundEvent(
            CONSOLE, self._next_id("in"), chat, HandleId(chat), line.name, line.text, now
        )

    async def feed(self, lines: Iterable[str]) -> int:
        """Deliver each line in turn, waiting for the twin to handle it; returns how many
        lines could not be read (each reported with its line number)."""
        bad = 0
        for number, raw in enumerate(lines, start=1):
            bad += not await self.feed_line(number, raw)
        return bad

    async def feed_stream(self, stream: IO[str]) -> int:
        bad = 0
        number = 0
        while True:
            raw = await asyncio.to_thread(stream.readline)
            if not raw:
                return bad
            number += 1
            bad += not await self.feed_line(number, raw)

    async def feed_line(self, number: int, raw: str) -> bool:
        """Deliver one line; False (after reporting it) when it cannot be read."""
        if self._on_event is None:
            raise RuntimeError("ConsoleChannel.start() was not awaited")
        try:
            line = parse_line(raw)
        except ConsoleLineError as exc:
            self._emit(
                {"event": "error", "line": number, "error": str(exc)},
                "[console] ",
                f"line {number}: {exc}",
            )
            return False
        if line is not None:
            await self._on_event(self.event_for(line))
        return True
