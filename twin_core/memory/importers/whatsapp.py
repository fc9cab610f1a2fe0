"""WhatsApp "Export chat" `.txt` files, bare or zipped with their media.

The format is a text file of lines like `[8/15/23, 9:12:43 AM] Alice: hi` (iOS) or
`15/08/2023, 09:12 - Alice: hi` (Android), in the phone's locale: any date order,
12 or 24 hour clocks, `a. m.`, dotted dates, seconds or not, direction marks
(U+200E) and narrow spaces (U+202F) sprinkled in. One header regex covers them all;
which of day and month comes first is decided per file by a streaming pre-scan (a
first or second field above 12 settles it; otherwise the order that keeps the
timestamps chronological wins). The file is read line by line, twice, never whole.

Timestamps carry no zone: they are read in `tz` (the machine's zone by default).
WhatsApp gives messages no id, so each gets one derived from its chat, minute, sender
and text (plus a counter for exact repeats): the same chat exported again, later, or
from a phone with another locale or clock gives the same ids.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Generator, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from functools import partial
from pathlib import Path
from typing import IO

from twin_core.memory.importers.common import (
    ImportItem,
    ImportProblem,
    Marks,
    PrefixHash,
    ReadMark,
    content_id,
    local_zone,
    media_type_of,
    placeholder,
    require_exists,
)
from twin_core.memory.importers.sniff import not_this_format
from twin_core.types import ChannelName, ChatId, HandleId, InboundEvent, MessageKind

CHANNEL = ChannelName("whatsapp")
EXPECTED = (
    "expected a WhatsApp 'Export chat' .txt (or its .zip) with lines like "
    "'[15/08/2023, 09:12:43] Alice: hi' or '15/08/2023, 09:12 - Alice: hi'"
)

_MARKS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
_SPACE = " \u202f\u00a0"

# Groups: 1 "[" | 2,3,4,5 date fields and separator | 6 leading am/pm word (ko, ja, zh)
# | 7,8,9 h, m, s | 10 trailing a/p | 11 the rest of the line.
_HEADER = re.compile(
    rf"[{_MARKS}]*(\[)?[{_MARKS}]*"
    r"(\d{1,4})([./-]) ?(\d{1,2})[./-] ?(\d{1,4})\.?"
    rf",?[{_SPACE}]+(?:à |um |a las |alle |om |klo |kl\. )?"
    r"(?:(오전|오후|午前|午後|上午|下午) ?)?"
    r"(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?"
    rf"(?:[{_SPACE}_]?([aApP])\.?[{_SPACE}]?[mM]\.?)?"
    rf"[{_MARKS}]*(?(1)\][{_SPACE}]|[{_SPACE}][-–][{_SPACE}])"
    r"(.*)"
)
_PM_WORDS = frozenset(("오후", "午後", "下午"))


def _specialize(found: re.Match[str]) -> re.Pattern[str]:
    """A header regex for one file's own layout, with `_HEADER`'s groups.

    It is twice as fast as the general regex (no optional marks, words and classes to
    try on every line); lines it misses still go through the general one, so a file
    pasted together from two phones is read whole.
    """
    line = found.string
    year_first = len(found.group(2)) == 4
    year_last = len(found.group(5)) == 4

    def between(end_group: int, start_group: int) -> str:
        return re.escape(line[found.end(end_group) : found.start(start_group)])

    bracket = found.group(1) is not None
    time_start = 6 if found.group(6) else 7
    return re.compile(
        (r"\u200e?(\[)" if bracket else "()")
        + (r"(\d{4})" if year_first else r"(\d{1,2})")
        + f"({re.escape(found.group(3))})"
        + between(3, 4)
        + r"(\d{1,2})"
        + between(4, 5)
        + (r"(\d{1,2})" if year_first else r"(\d{4})" if year_last else r"(\d{2})")
        + between(5, time_start)
        + (r"(오전|오후|午前|午後|上午|下午) ?" if found.group(6) else "()")
        + r"(\d{1,2})"
        + between(7, 8)
        + r"(\d{2})"
        + rf"(?:{between(7, 8)}(\d{{2}}))?"
        + (rf"[{_SPACE}_]?([aApP])\.?[{_SPACE}]?[mM]\.?" if found.group(10) else "()")
        + re.escape(line[found.start(11) - (2 if bracket else 3) : found.start(11)])
        + "(.*)"
    )


_DELETED = re.compile(
    r"(?:This message was deleted|You deleted this message|Se eliminó este mensaje"
    r"|Eliminaste este mensaje|Este mensaje fue eliminado|Diese Nachricht wurde gelöscht"
    r"|Du hast diese Nachricht gelöscht|Ce message a été supprimé"
    r"|Vous avez supprimé ce message|Esta mensagem foi apagada|Você apagou esta mensagem"
    r"|Mensagem apagada|Questo messaggio è stato eliminato|Hai eliminato questo messaggio"
    r"|Dit bericht is verwijderd|Je hebt dit bericht verwijderd)\.?",
    re.IGNORECASE,
)
_EDITED_SUFFIX = re.compile(
    rf"[{_SPACE}]*[{_MARKS}]*<[^<>]*(?:edited|editó|editado|bearbeitet|modifié|modificato"
    r"|bewerkt)[^<>]*>$",
    re.IGNORECASE,
)
_OMITTED_IOS = re.compile(
    r"(?:.* )?(?P<kind>image|video|audio|sticker|GIF|document|Contact card"
    r"|imagen|vídeo|sticker|documento|tarjeta de contacto|Bild|Video|Audio|Dokument"
    r"|Kontaktkarte|imagem|áudio|figurinha|cartão de contato)"
    r" (?:omitted|omitido|omitida|weggelassen|ocultado|ocultada|absente|omis)",
    re.IGNORECASE,
)
_IOS_KINDS = {
    "imagen": "image",
    "bild": "image",
    "imagem": "image",
    "vídeo": "video",
    "áudio": "audio",
    "figurinha": "sticker",
    "documento": "document",
    "dokument": "document",
    "contact card": "contact",
    "tarjeta de contacto": "contact",
    "kontaktkarte": "contact",
    "cartão de contato": "contact",
}
_ATTACHED_IOS = re.compile(r"<(?:attached|adjunto|Anhang|pièce jointe|anexado|allegato): (.+)>")
_ATTACHED_ANDROID = re.compile(
    r"(\S.*?\.\w{2,5}) \((?:file attached|Datei angehängt|archivo adjunto|fichier joint"
    r"|arquivo anexado|file allegato|bestand bijgevoegd)\)"
)
_OMITTED_ANDROID = re.compile(r"<[^<>:]+ [^<>:]+>|null")
_CALL = re.compile(r"(?:Missed )?(?:group )?(?:voice|video) call\b", re.IGNORECASE)
_IOS_USER_CONTENT = ("Location:", "POLL:", "Standort:", "Ubicación:", "Localização:")
_GROUP_HINT = re.compile(
    r"created group|added|joined using this group|changed the group|changed this group"
    r"|creó el grupo|añadió|hat die Gruppe|hinzugefügt|a créé le groupe|a ajouté"
    r"|criou o grupo|adicionou",
    re.IGNORECASE,
)
_TITLE = re.compile(
    r"^(?:WhatsApp[ -]Chat (?:with|mit|-|met|con|avec)|Chat de WhatsApp con"
    r"|Conversa do WhatsApp com|Discussion WhatsApp avec|Chat WhatsApp con) ?",
    re.IGNORECASE,
)
_PHONE = re.compile(r"\+?[\d ()\-.]{6,}")


@dataclass(slots=True)
class _Layout:
    """What the pre-scan learned about a file."""

    day_first: bool = True
    header: re.Pattern[str] = _HEADER
    is_group: bool = False
    header_lines: int = 0


def parse_whatsapp(
    path: Path | str, *, tz: tzinfo | None = None, chat_title: str | None = None
) -> Iterator[ImportItem]:
    """Read a WhatsApp export; raise `NotThisFormat` now if it is not one.

    `path` is the `.txt`, the `.zip` WhatsApp shares, or the folder that zip unzips to.
    `tz` is the zone the export's clock showed (default: this machine's); `chat_title`
    overrides the title taken from the file name. The chat's id never comes from a
    name: it is derived from the chat's first messages (see `_chat_id`).
    """
    return ChatReader(path, tz=tz, chat_title=chat_title).items()


READER_VERSION = "1"
"""Part of `ChatReader.context`: change it with anything that changes the events a
chat text gives, so that no import resumes past messages read the old way."""


class ChatReader:
    """One WhatsApp export, pre-scanned; reads its messages from the start or from a
    `ReadMark` (a place where reading can start afresh, as a `Marks` recorded it)."""

    def __init__(
        self, path: Path | str, *, tz: tzinfo | None = None, chat_title: str | None = None
    ) -> None:
        path = Path(path)
        require_exists(path)
        self.path = path
        self._open_bytes, text, container = _find_chat(path)
        self.title = chat_title or _title_of(text, container)
        with self._open_text() as stream:
            self.layout = _prescan(stream)
        if self.layout.header_lines == 0:
            raise not_this_format(path, "whatsapp", EXPECTED)
        self.zone = tz or local_zone()
        self.chat_id = _chat_id(self._open_bytes, self.layout, self.zone)
        self.context = "|".join(
            (
                READER_VERSION,
                self.chat_id,
                str(self.zone),
                str(self.layout.day_first),
                str(self.layout.is_group),
                self.layout.header.pattern,
            )
        )
        """What the events depend on besides the bytes: a mark is only good with it."""

    def _open_text(self) -> IO[str]:
        return io.TextIOWrapper(
            self._open_bytes(), encoding="utf-8-sig", errors="replace", newline=None
        )

    def items(self, marks: Marks | None = None) -> Iterator[ImportItem]:
        """Every message and problem from the start; `marks` is kept current."""
        return _parse(
            self._open_bytes(), self.layout, self.title, self.zone, self.chat_id, marks=marks
        )

    def resume(
        self, mark: ReadMark, context: str, marks: Marks | None = None
    ) -> Iterator[ImportItem] | None:
        """The messages after `mark`, or None unless the bytes before it and `context`
        are what they were when it was recorded (then those messages are too)."""
        if context != self.context:
            return None
        stream = self._open_bytes()
        prefix = PrefixHash(stream)
        if prefix.up_to(mark.offset) != mark.digest:
            stream.close()
            return None
        return _parse(
            stream, self.layout, self.title, self.zone, self.chat_id, start=mark, marks=marks
        )

    def prefix_hash(self) -> PrefixHash:
        """Hashes the chat text's beginning up to a mark's offset, as marks move on."""
        return PrefixHash(self._open_bytes())


FINGERPRINT_MESSAGES = 3
"""How many of a chat's first text messages identify it."""


def _chat_id(open_chat: Callable[[], IO[bytes]], layout: _Layout, zone: tzinfo) -> ChatId:
    """The chat's id, from what every export of it starts with: its first text messages
    (minute, sender, words). A renamed file, a re-export with more messages, or one
    from a phone with another locale or clock gives the same id; another chat does not.
    Reads only the beginning of the file."""
    firsts: list[str] = []
    system: list[str] = []
    with closing(_parse(open_chat(), layout, "", zone, ChatId(""))) as items:
        for item in items:
            if not isinstance(item, InboundEvent):
                continue
            minute = item.external_id.split(":", 2)[1]
            if item.kind is MessageKind.TEXT:
                firsts += [minute, item.sender_name, item.text]
                if len(firsts) >= 3 * FINGERPRINT_MESSAGES:
                    break
            elif len(system) < 3 * FINGERPRINT_MESSAGES:
                system += [minute, item.sender_name, item.kind.value]
    return ChatId(content_id("wa-", *(firsts or system))[:19])


def _find_chat(path: Path) -> tuple[Callable[[], IO[bytes]], Path, Path | None]:
    """Opens the chat text's bytes; its path (or name in the zip), and the folder or zip
    it is in."""
    if path.is_dir():
        texts = sorted(
            p.relative_to(path).as_posix()
            for p in path.rglob("*")
            if p.is_file() and p.suffix.lower() == ".txt"
        )
        chosen = _choose_chat_text(texts)
        if chosen is None:
            raise not_this_format(path, "whatsapp", EXPECTED)
        return partial(_open_file, path / chosen), path / chosen, path
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            texts = [n for n in archive.namelist() if n.lower().endswith(".txt")]
        chosen = _choose_chat_text(texts)
        if chosen is None:
            raise not_this_format(path, "whatsapp", EXPECTED)
        return partial(_open_member, path, chosen), Path(chosen), path
    return partial(_open_file, path), path, None


def chat_bytes(path: Path | str) -> IO[bytes]:
    """The bytes of the chat text in an export (a .txt, or the one in a .zip or folder):
    all the parser reads of it; the media beside it are not."""
    path = Path(path)
    require_exists(path)
    open_bytes, _, _ = _find_chat(path)
    return open_bytes()


# What browsers and file managers add to a name they copy: "(1)", " - Copy", " copy".
_COPY_SUFFIX = re.compile(r"\s*(?:\(\d+\)|-\s*copy|(?<=\s)copy)$", re.IGNORECASE)


def _title_of(text: Path, container: Path | None) -> str:
    """The chat's title where a name says it: `WhatsApp Chat with Alice (1).txt`, or
    `_chat.txt` inside `WhatsApp Chat - Alice` (.zip or folder). A file renamed to
    anything else gives no title ("" : recall then names the chat by its people)."""
    candidates = [text.stem]
    if container is not None:
        candidates.append(container.stem if container.is_file() else container.name)
    if text.name == "_chat.txt":
        candidates.append(text.parent.name)
    for candidate in candidates:
        stripped = _COPY_SUFFIX.sub("", candidate.strip())
        if _TITLE.match(stripped):
            return _COPY_SUFFIX.sub("", _TITLE.sub("", stripped)).strip()
    return ""


def _choose_chat_text(names: list[str]) -> str | None:
    for name in names:
        if name.rsplit("/", 1)[-1] == "_chat.txt":
            return name
    chats = [n for n in names if "whatsapp" in n.lower()]
    if chats:
        return chats[0]
    return names[0] if len(names) == 1 else None


def _open_file(path: Path) -> IO[bytes]:
    return path.open("rb")


def _open_member(path: Path, member: str) -> IO[bytes]:
    archive = zipfile.ZipFile(path)
    binary = archive.open(member)
    # Closing the archive now is safe: zipfile keeps the file open until its last
    # open member (this one, closed with the wrapper) is closed.
    archive.close()
    return binary


def _prescan(stream: IO[str]) -> _Layout:
    layout = _Layout()
    evidence_dmy = evidence_mdy = 0
    decreases_dmy = decreases_mdy = 0
    previous_dmy: tuple[int, int, int] = (0, 0, 0)
    previous_mdy: tuple[int, int, int] = (0, 0, 0)
    previous_fields = ("", "", "")
    nonblank = 0
    headers = 0
    senders: set[str] = set()
    is_group = False
    general = _HEADER.match
    match = general
    for line in stream:
        found = match(line) or general(line)
        if found is None:
            if headers == 0 and line.strip():
                nonblank += 1
                if nonblank >= 50:
                    break
            continue
        if headers == 0:
            layout.header = _specialize(found)
            match = layout.header.match
        headers += 1
        d1, d2, d3, rest = found.group(2, 4, 5, 11)
        fields = (d1, d2, d3)
        # Only a change of date can add evidence or break the order.
        if fields != previous_fields and len(d1) < 4:
            previous_fields = fields
            first, second, year = int(d1), int(d2), int(d3)
            if first > 12:
                evidence_dmy += 1
            elif second > 12:
                evidence_mdy += 1
            as_dmy = (year, second, first)
            as_mdy = (year, first, second)
            decreases_dmy += as_dmy < previous_dmy
            decreases_mdy += as_mdy < previous_mdy
            previous_dmy, previous_mdy = as_dmy, as_mdy
        if not is_group:
            colon = rest.find(": ")
            if colon > 0:
                senders.add(rest[:colon].lstrip("~" + _MARKS + _SPACE))
                is_group = len(senders) > 2
            elif _GROUP_HINT.search(rest):
                is_group = True
    if evidence_dmy != evidence_mdy:
        layout.day_first = evidence_dmy > evidence_mdy
    elif decreases_dmy != decreases_mdy:
        layout.day_first = decreases_dmy < decreases_mdy
    layout.header_lines = headers
    layout.is_group = is_group
    return layout


def looks_like_chat(text: str) -> bool:
    """Whether the beginning of a text has a WhatsApp message header among its lines."""
    return any(_HEADER.match(line) for line in text.splitlines()[:50])


def _split_sender(rest: str) -> tuple[str | None, str]:
    """`Alice: hi` -> ("Alice", "hi"); a system line -> (None, line)."""
    colon = rest.find(": ")
    if colon <= 0 or colon > 80:
        return None, rest
    name = rest[:colon]
    if '"' in name or "“" in name:
        return None, rest
    if name[0] in _ODD or name[-1] in _ODD:
        name = name.lstrip("~" + _MARKS + _SPACE).rstrip(_MARKS + _SPACE)
        if not name:
            return None, rest
    return name, rest[colon + 2 :]


class _Chat:
    """Turns one gathered message (header fields and lines) into an event."""

    __slots__ = ("chat_id", "handles", "is_group", "repeat_window", "repeats", "title")

    def __init__(self, chat_id: ChatId, title: str, is_group: bool) -> None:
        self.chat_id = chat_id
        self.title = title
        self.is_group = is_group
        self.handles: dict[str, HandleId] = {}
        self.repeat_window = ""
        self.repeats: dict[tuple[str, str], int] = {}

    def event(self, stamp: datetime, minute: str, rest: str, extra: list[str]) -> InboundEvent:
        name, text = _split_sender(rest)
        raw: str | None = None
        if extra:
            text = "\n".join([text, *extra])
        if name is None:
            kind = MessageKind.SYSTEM
            sender_name = ""
            text = text.strip(_MARKS)
        else:
            sender_name = name
            original = text
            if text[-1:] == ">":
                edited = _EDITED_SUFFIX.search(text)
                if edited is not None:
                    text = text[: edited.start()]
            head = text[:1]
            newline = text.find("\n") if extra else -1
            if head in _MARKS:
                kind, text = _classify(text.strip(_MARKS), marked=True)
            elif (
                (text[-1:] if newline < 0 else text[newline - 1 : newline]) in ">) "
                or head in _SPACE
                or (len(text) < 60 and (head in _RARE_STARTS or text.endswith(_RARE_ENDINGS)))
            ):
                kind, text = _classify(text, marked=False)
            else:
                kind = MessageKind.TEXT
            if text is not original and text != original:
                raw = original
            if kind is MessageKind.SYSTEM:
                # iOS files its notices under the group's or contact's name: not their voice.
                sender_name = ""
        sender_id = self.handles.get(sender_name)
        if sender_id is None:
            sender_id = self.handles[sender_name] = HandleId(_handle(sender_name))
        # Exact repeats within a minute are numbered; only this minute's are kept.
        if minute != self.repeat_window:
            self.repeat_window = minute
            self.repeats.clear()
        key = (sender_id, text)
        number = self.repeats.get(key, 0)
        self.repeats[key] = number + 1
        return InboundEvent(
            channel=CHANNEL,
            # The minute leads the id so that ids grow with time: a big import then
            # appends to the database's id index instead of writing all over it.
            external_id=content_id(
                f"wa:{minute}:", self.chat_id, minute, sender_id, text, str(number)
            ),
            chat_id=self.chat_id,
            sender_id=sender_id,
            sender_name=sender_name,
            text=text,
            sent_at=stamp,
            chat_title=self.title,
            is_group=self.is_group,
            kind=kind,
            raw=raw,
        )


def _lines(stream: IO[bytes], offset: int, number: int) -> Iterator[tuple[int, int, str]]:
    """The text's lines as the text reader gives them (UTF-8 with a BOM dropped, bad bytes
    replaced, `\\r\\n`, `\\n` and `\\r` all ending a line), each with its number and the
    byte offset where it starts (-1 for a line that a lone `\\r` began)."""
    for raw in stream:
        line = raw.decode("utf-8", "replace")
        if offset == 0 and line[:1] == "\ufeff":
            line = line[1:]
        if line[-1:] == "\n":
            line = line[:-1]
        if line[-1:] == "\r":  # `\r\n`, or a lone `\r` ending the file
            line = line[:-1]
        if "\r" in line:
            first, *more = line.split("\r")
            number += 1
            yield number, offset, first
            for part in more:
                number += 1
                yield number, -1, part
        else:
            number += 1
            yield number, offset, line
        offset += len(raw)


def _parse(
    stream: IO[bytes],
    layout: _Layout,
    title: str,
    zone: tzinfo,
    chat_id: ChatId,
    *,
    start: ReadMark | None = None,
    marks: Marks | None = None,
) -> Generator[ImportItem]:
    """The messages of a chat text, from its start or from `start` (where `stream` is
    positioned). `marks` is told each place where reading could start afresh: a
    message's first line whose minute is not the previous message's (the repeat
    counter holds nothing then), with the messages and problems before it."""
    chat = _Chat(chat_id, title, layout.is_group)
    # (date fields) -> the day and its ordinal, or None when no order makes a date.
    days: dict[tuple[str, str, str], tuple[date, int] | None] = {}
    match = layout.header.match
    general = _HEADER.match
    day_first = layout.day_first
    messages = start.messages if start else 0
    problems = start.problems if start else 0

    # The message being gathered: its time, the rest of its header line, more lines.
    stamp: datetime | None = None
    minute_key = ""
    rest = ""
    extra: list[str] = []
    skipping = False

    with stream:
        lines = _lines(stream, start.offset, start.line) if start else _lines(stream, 0, 0)
        for number, offset, line in lines:
            found = match(line) or general(line)
            if found is None:
                if stamp is not None:
                    extra.append(line)
                elif not skipping and line.strip():
                    problems += 1
                    yield ImportProblem(number, "text before the first message, skipped")
                continue
            if stamp is not None:
                messages += 1
                yield chat.event(stamp, minute_key, rest, extra)
                stamp = None
                extra = []
            _, d1, _, d2, d3, pre, hour, minute, second, ampm, rest = found.groups()
            key = (d1, d2, d3)
            day = days.get(key, _UNSEEN)
            if day is _UNSEEN:
                day = days[key] = _date(d1, d2, d3, day_first)
            h = int(hour)
            m = int(minute)
            if ampm or pre:
                pm = ampm in ("p", "P") if ampm else pre in _PM_WORDS
                h = h % 12 + 12 if pm else h % 12
            if day is None or h > 23 or m > 59 or (second and int(second) > 59):
                problems += 1
                yield ImportProblem(number, f"impossible date or time in {line[:40]!r}, skipped")
                skipping = True
                continue
            skipping = False
            when, ordinal = day
            stamp = datetime(
                when.year, when.month, when.day, h, m, int(second) if second else 0, tzinfo=zone
            )
            # Minutes, not seconds: the same chat exported from a phone that shows
            # seconds and from one that does not must give the same ids.
            minute_key = f"{ordinal * 1440 + h * 60 + m:010}"
            if marks is not None and offset >= 0 and minute_key != chat.repeat_window:
                marks.add(ReadMark(offset, number - 1, messages, problems))
        if stamp is not None:
            yield chat.event(stamp, minute_key, rest, extra)


_UNSEEN = (date.min, -1)


def _date(d1: str, d2: str, d3: str, day_first: bool) -> tuple[date, int] | None:
    if len(d1) == 4:
        orders = [(int(d1), int(d2), int(d3))]
    elif len(d3) in (2, 4):
        year = int(d3) + 2000 if len(d3) == 2 else int(d3)
        dmy = (year, int(d2), int(d1))
        mdy = (year, int(d1), int(d2))
        # A line the file's order cannot read (exports pasted together from two
        # phones) is read the other way rather than lost.
        orders = [dmy, mdy] if day_first else [mdy, dmy]
    else:
        return None
    for year, month, day in orders:
        try:
            found = date(year, month, day)
        except ValueError:
            continue
        return found, found.toordinal()
    return None


_ODD = "~" + _MARKS + _SPACE
_OMITTED_ENDINGS = (
    "omitted",
    "omitido",
    "omitida",
    "weggelassen",
    "ocultado",
    "ocultada",
    "absente",
    "omis",
)
_RARE_ENDINGS = (*_OMITTED_ENDINGS, "null")
# First letters of the deleted-message and call notices: only such short texts are
# matched against those regexes.
_RARE_STARTS = frozenset("TtYySsEeDdCcVvMmQqHhJjGg")


def _classify(text: str, marked: bool) -> tuple[MessageKind, str]:
    """The kind of a sender's message and the text to store for it."""
    first, _, caption = text.partition("\n")
    bare = first.strip(_SPACE)
    last = bare[-1:]
    attached = None
    if last == ">":
        attached = _ATTACHED_IOS.fullmatch(bare)
        if attached is None and not caption and _OMITTED_ANDROID.fullmatch(bare) is not None:
            return MessageKind.MEDIA, placeholder("media")
    elif last == ")":
        attached = _ATTACHED_ANDROID.fullmatch(bare)
    if attached is not None:
        file_name = attached.group(1).strip(_MARKS)
        return MessageKind.MEDIA, _with_caption(placeholder(_file_kind(file_name)), caption)
    if len(bare) < 60:
        if bare.endswith(_OMITTED_ENDINGS):
            omitted = _OMITTED_IOS.fullmatch(bare)
            if omitted is not None:
                kind = omitted.group("kind").lower()
                label = placeholder(_IOS_KINDS.get(kind, kind))
                return MessageKind.MEDIA, _with_caption(label, caption)
        elif bare == "null" and not caption:
            return MessageKind.MEDIA, placeholder("media")
        if bare[:1] in _RARE_STARTS:
            if not caption and _DELETED.fullmatch(bare) is not None:
                return MessageKind.DELETED, "[deleted]"
            if _CALL.match(bare) is not None:
                return MessageKind.CALL, text.replace("\u200e", "")
    if marked and not bare.startswith(_IOS_USER_CONTENT):
        # iOS writes its own notices under a sender, behind a U+200E mark.
        return MessageKind.SYSTEM, text.replace("\u200e", "")
    return MessageKind.TEXT, text


def _with_caption(label: str, caption: str) -> str:
    return f"{label}\n{caption}" if caption else label


def _file_kind(file_name: str) -> str:
    upper = file_name.upper()
    for word, kind in (("PHOTO", "image"), ("STICKER", "sticker"), ("GIF", "gif")):
        if word in upper:
            return kind
    if upper.startswith("PTT-"):
        return "voice"
    return media_type_of(file_name)


def _handle(sender_name: str) -> str:
    """A sender's handle: their phone number in `+digits` form when shown, else the name."""
    if sender_name and _PHONE.fullmatch(sender_name):
        digits = "".join(c for c in sender_name if c.isdigit())
        if len(digits) >= 6:
            return f"+{digits}" if sender_name.lstrip().startswith("+") else digits
    return sender_name
