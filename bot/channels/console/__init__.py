"""The console channel: a scriptable conversation on stdin/stdout.

Input lines (`lines.py`): `@NAME text` (a contact writes), `> text` (the owner, in the
control chat), `<NAME text` (the owner writes to NAME from their own phone), `# ...`.
Output: `[to NAME] text` for each message the twin sends to a contact, `[control] text`
for what it tells the owner, `[console] ...` for input it cannot read; with
`json_output` one JSON object per event instead. Whatever a contact wrote is shown
escaped (`bot.channels.printable`): no escape sequence in a name or a text reaches the
terminal.

A contact's chat is `@name` and their handle `@name`; the control chat is `control` and
the owner `owner`. No name a contact can take is either.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import IO, Any

from bot.channels.base import EventHandler
from bot.channels.console.lines import (
    ConsoleLine,
    ConsoleLineError,
    aiter_lines,
    parse_line,
    split_lines,
)
from bot.channels.printable import printable, printable_json
from twin_core.settings import Settings
from twin_core.types import (
    ChannelName,
    ChatId,
    ExternalId,
    HandleId,
    InboundEvent,
    OutboundMessage,
    utcnow,
)

__all__ = [
    "CONSOLE",
    "CONTROL_CHAT",
    "OWNER",
    "ConsoleChannel",
    "ConsoleLine",
    "ConsoleLineError",
    "contact_chat",
    "make_channel",
    "parse_line",
    "split_lines",
]

CONSOLE = ChannelName("console")
CONTROL_CHAT = ChatId("control")
OWNER = HandleId("owner")


def contact_chat(name: str) -> ChatId:
    """The console chat (and handle) of the contact called `name`."""
    return ChatId("@" + name.casefold())


def make_channel(settings: Settings) -> ConsoleChannel:
    """The console on this process's stdin and stdout (`twin run`)."""
    import sys

    return ConsoleChannel(sys.stdout, input=sys.stdin.buffer)


class ConsoleChannel:
    def __init__(
        self,
        output: IO[str],
        *,
        json_output: bool = False,
        input: IO[bytes] | None = None,
    ) -> None:
        self.name = CONSOLE
        self.output = output
        self.json_output = json_output
        self.input = input
        """Read by the channel itself once started (`twin run`); scripts feed lines."""
        self._on_event: EventHandler | None = None
        self._names: dict[str, str] = {}
        self._ids = itertools.count(1)
        self._run = f"{time.time_ns():x}"
        self._closed = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self.bad_lines = 0
        """How many lines could not be read."""

    async def start(self, on_event: EventHandler) -> None:
        self._on_event = on_event
        self._closed.clear()
        if self.input is not None and self._reader is None:
            self._reader = asyncio.create_task(self._read(self.input), name="console:stdin")

    async def wait_closed(self) -> None:
        await self._closed.wait()

    async def stop(self) -> None:
        self._on_event = None
        if self._reader is not None:
            self._reader.cancel()
            self._reader = None
        self._closed.set()

    async def _read(self, stream: IO[bytes]) -> None:
        number = 0
        async for raw in aiter_lines(stream):
            number += 1
            line = self.parse(number, raw)
            if line is not None:
                await self.deliver(line)
        self._closed.set()

    async def send(self, message: OutboundMessage) -> ExternalId:
        external_id = self._next_id("out")
        if message.chat_id == CONTROL_CHAT:
            if message.data is not None and self.json_output:
                self._emit(dict(message.data), "")
            else:
                self._emit({"event": "control", "text": message.text}, "[control] ", message.text)
        else:
            name = self._names.get(message.chat_id, message.chat_id.removeprefix("@"))
            self._emit(
                {"event": "sent", "to": name, "text": message.text, "id": external_id},
                f"[to {printable(name, newlines=False)}] ",
                message.text,
            )
        return external_id

    def _emit(self, event: dict[str, Any], prefix: str, text: str = "") -> None:
        if self.json_output:
            self.output.write(printable_json(event) + "\n")
        else:
            shown = printable(text)
            self.output.write(prefix + shown.replace("\n", "\n" + " " * len(prefix)) + "\n")
        self.output.flush()

    def _next_id(self, direction: str) -> ExternalId:
        return ExternalId(f"console-{self._run}-{direction}-{next(self._ids)}")

    def parse(self, number: int, raw: str) -> ConsoleLine | None:
        """Line `number` as a `ConsoleLine`, None for blanks and comments; a line that
        cannot be read is reported (`[console] line N: ...`) and skipped."""
        try:
            return parse_line(raw)
        except ConsoleLineError as exc:
            self._emit(
                {"event": "error", "line": number, "error": str(exc)},
                "[console] ",
                f"line {number}: {exc}",
            )
            self.bad_lines += 1
            return None

    def event_for(self, line: ConsoleLine) -> InboundEvent:
        now = utcnow()
        if line.kind == "control":
            return InboundEvent(
                CONSOLE, self._next_id("in"), CONTROL_CHAT, OWNER, "you", line.text, now
            )
        chat = contact_chat(line.name)
        self._names.setdefault(chat, line.name)
        if line.kind == "owner":
            return InboundEvent(
                CONSOLE, self._next_id("in"), chat, OWNER, "you", line.text, now, from_owner=True
            )
        return InboundEvent(
            CONSOLE, self._next_id("in"), chat, HandleId(chat), line.name, line.text, now
        )

    async def deliver(self, line: ConsoleLine) -> None:
        """Hand one line to the twin as the event it stands for."""
        if self._on_event is None:
            raise RuntimeError("ConsoleChannel.start() was not awaited")
        await self._on_event(self.event_for(line))
