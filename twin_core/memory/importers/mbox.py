"""Email: mbox files (Gmail Takeout, Thunderbird, Apple Mail, mutt) and single `.eml`s.

The standard library's `mailbox.mbox` decodes `From ` lines as ASCII and raises on the
non-ASCII bytes real mailboxes have, and builds a table of contents first; here the
byte stream is split on `From ` lines while it is read, one message in memory at a
time. Messages are parsed with the fast `compat32` policy and headers decoded by hand.

What is stored as a message's `text` is what its sender wrote: quoted replies
(`> ...`, `On ... wrote:`, Outlook's `-----Original Message-----` block, Gmail's
`gmail_quote`) and signatures are cut; the full body, with its headers, stays in `raw`.
A conversation is a thread: its id is the Message-ID of the thread's first message
(the first of `References`, else the parent's root, else the message itself).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, tzinfo
from email.header import Header, decode_header
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from email.utils import getaddresses, parseaddr, parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import IO

from twin_core.memory.importers.common import (
    ExportTree,
    ImportItem,
    ImportProblem,
    content_id,
    local_zone,
    media_type_of,
    placeholder,
    require_exists,
)
from twin_core.memory.importers.sniff import not_this_format
from twin_core.types import ChannelName, ChatId, ExternalId, HandleId, InboundEvent, MessageKind

CHANNEL = ChannelName("email")
EXPECTED = (
    "expected an mbox file (messages each starting with a 'From ' line, as Gmail Takeout "
    "writes them), a .eml message, or a folder or .zip of them"
)
_FROM_LINE = re.compile(rb"From \S*\s.*\d{1,2}:\d{2}")
# A `From ` line exactly as mbox writers put it (`From <sender> <asctime> [zone] year`),
# unlike any line a person writes: it starts a message even without a blank line before.
_STRICT_FROM_LINE = re.compile(
    rb"From \S+ +(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct"
    rb"|Nov|Dec) +\d{1,2} \d{1,2}:\d{2}(?::\d{2})?(?: [+-]\d{4})? \d{4}\s*$"
)
_HEADER_LINE = re.compile(rb"[A-Za-z][A-Za-z0-9-]*:")
_MAIL_HEADER = re.compile(
    rb"(?:From|To|Cc|Subject|Date|Message-ID|In-Reply-To|References|Received|Return-Path"
    rb"|MIME-Version|Delivered-To|Reply-To|Sender):",
    re.IGNORECASE,
)
_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
_SUBJECT_PREFIX = re.compile(
    r"^\s*(?:(?:re|fwd?|aw|wg|sv|vs|antw|rif|tr|r|enc)\s*(?:\[\d+\])?\s*:\s*)+", re.IGNORECASE
)
_ROOTS_KEPT = 50_000


def parse_mbox(path: Path | str, *, tz: tzinfo | None = None) -> Iterator[ImportItem]:
    """Read an mbox, a .eml, or a folder or .zip of them; raise `NotThisFormat` now if not.

    `tz` reads dates written without a zone (rare; default: this machine's zone).
    """
    path = Path(path)
    require_exists(path)
    tree = ExportTree(path)
    if tree.is_single_file:
        names = tree.names()
    else:
        names = [n for n in tree.names() if n.lower().endswith((".mbox", ".eml", ".mbx"))]
    kinds: list[tuple[str, str]] = []
    for name in names:
        with tree.open(name) as stream:
            kind = sniff_mail(stream)
        if kind:
            kinds.append((name, kind))
    if not kinds:
        tree.close()
        raise not_this_format(path, "mbox", EXPECTED)
    return _parse(tree, kinds, tz or local_zone())


def sniff_mail(stream: IO[bytes]) -> str:
    """`mbox`, `eml`, or "" for neither, from the first lines: an mbox starts with a
    `From ` line; a message starts with header lines, one of them a mail header (a
    JSON file's `{"name": ...` is a line with a colon too, and no email)."""
    headers = 0
    for line in stream:
        stripped = line.strip()
        if not stripped:
            if headers:
                break
            continue
        if not headers and line.startswith(b"From ") and _FROM_LINE.match(line):
            return "mbox"
        if line[:1] in (b" ", b"\t") and headers:
            continue  # a folded header's next line
        if _HEADER_LINE.match(line) is None:
            return ""
        if _MAIL_HEADER.match(line):
            return "eml"
        headers += 1
        if headers >= 40:
            break
    return ""


def _parse(tree: ExportTree, kinds: list[tuple[str, str]], zone: tzinfo) -> Iterator[ImportItem]:
    reader = MessageReader(zone)
    with tree:
        for name, kind in kinds:
            with tree.open(name) as stream:
                if kind == "eml":
                    yield from reader.read(stream.read(), None, 1, name)
                    continue
                for line, from_line, data in split_mbox(stream):
                    yield from reader.read(data, from_line, line, name)


def split_mbox(stream: Iterable[bytes]) -> Iterator[tuple[int, bytes, bytes]]:
    """The messages of an mbox as (line number of its `From ` line, that line, bytes).

    A message starts at a `From ` line that follows a blank line (or opens the file)
    and looks like one (`From <sender> <date with a time>`), or at one written exactly
    as mbox writers write them; body lines quoted as `>From ` (mboxrd) are unquoted.
    """
    lines: list[bytes] = []
    from_line = b""
    start = 0
    blank_before = True
    for number, line in enumerate(stream, 1):
        if line[:5] == b"From " and (
            (blank_before and _FROM_LINE.match(line)) or _STRICT_FROM_LINE.match(line)
        ):
            if start:
                yield start, from_line, b"".join(lines)
            lines = []
            from_line = line
            start = number
            blank_before = False
            continue
        if line[:1] == b">" and line.lstrip(b">")[:5] == b"From ":
            line = line[1:]
        blank_before = line in (b"\n", b"\r\n")
        lines.append(line)
    if start:
        yield start, from_line, b"".join(lines)


class MessageReader:
    """Turns one message's bytes into an event, remembering recent threads' roots (the
    importer, and the email channel for live mail)."""

    def __init__(self, zone: tzinfo) -> None:
        self.zone = zone
        self.parser = BytesParser(policy=compat32)
        # Message-ID -> its thread's root, for replies that carry only In-Reply-To.
        # Bounded: memory must not grow with the mailbox.
        self.roots: OrderedDict[str, str] = OrderedDict()

    def read(
        self, data: bytes, from_line: bytes | None, line: int, where: str
    ) -> Iterator[ImportItem]:
        try:
            message = self.parser.parsebytes(data)
        except Exception as error:  # the parser is lenient; anything else is a broken file
            yield ImportProblem(line, f"unreadable message ({error}), skipped", where)
            return
        # One pass over the headers: Message.get() scans them all on every call.
        fields: dict[str, list[object]] = {}
        for name, value in message.items():
            fields.setdefault(name.lower(), []).append(value)
        sent_at, date_problem = self._date(fields, from_line)
        if sent_at is None:
            yield ImportProblem(line, f"{date_problem}, and no other date to use; skipped", where)
            return
        if date_problem:
            yield ImportProblem(line, date_problem, where)
        yield self._event(message, fields, data, sent_at)

    def _date(
        self, fields: dict[str, list[object]], from_line: bytes | None
    ) -> tuple[datetime | None, str]:
        header = _field(fields, "date")
        if header:
            try:
                parsed: datetime | None = parsedate_to_datetime(header)
            except (TypeError, ValueError, IndexError):
                parsed = None
            if parsed is not None:
                # No zone at all ("-0000" or none): RFC 5322 says that is UTC.
                return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)), ""
            problem = f"unreadable Date header {header[:40]!r}"
        else:
            problem = "no Date header"
        fallback = _from_line_date(from_line)
        if fallback is not None:
            return fallback, f"{problem}; used the date on the mbox 'From ' line"
        fallback = _received_date(fields.get("received", []))
        if fallback is not None:
            return fallback, f"{problem}; used the date its server received it"
        return None, problem

    def _event(
        self, message: Message, fields: dict[str, list[object]], data: bytes, sent_at: datetime
    ) -> InboundEvent:
        sender_name, sender_address = parseaddr(_field(fields, "from"))
        sender_id = HandleId(sender_address.strip().lower())
        recipients = {
            address.lower()
            for _, address in getaddresses(
                [header_text(v) for v in fields.get("to", []) + fields.get("cc", [])]
            )
            if address
        }
        recipients.discard(sender_id)
        subject = _field(fields, "subject")
        body, attachments = _body(message)
        text = strip_reply(body)
        labels = [placeholder(media_type_of(name), name) for name in attachments]
        kind = MessageKind.MEDIA if labels and not text else MessageKind.TEXT
        if labels:
            text = "\n".join([text, *labels]) if text else "\n".join(labels)

        own = _first_id(_field(fields, "message-id"))
        references = _MESSAGE_ID.findall(_field(fields, "references"))
        parent = _first_id(_field(fields, "in-reply-to")) or (
            references[-1] if references else None
        )
        topic = _SUBJECT_PREFIX.sub("", subject).strip()
        if references:
            root = references[0]
        elif parent is not None:
            root = self.roots.get(parent, parent)
        elif own is not None:
            root = own
        else:
            # No threading headers at all (hand-made or stripped mailboxes): the same
            # topic among the same people is one conversation, as Gmail shows it.
            people = ",".join(sorted({sender_id, *recipients}))
            root = content_id("mail:", topic.lower(), people)
        if own is None:
            own = content_id(
                "mail:", sender_id, sent_at.isoformat(), subject, body, ",".join(attachments)
            )
        self._remember(own, root)

        head = data.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
        raw = head.decode("utf-8", "replace").replace("\r\n", "\n") + "\n\n" + body
        if attachments:
            raw += "\n" + "\n".join(labels)
        return InboundEvent(
            channel=CHANNEL,
            external_id=ExternalId(own),
            chat_id=ChatId(root),
            sender_id=sender_id,
            sender_name=sender_name or sender_address.split("@", 1)[0],
            text=text,
            sent_at=sent_at,
            chat_title=topic,
            is_group=len(recipients) > 1,
            reply_to=ExternalId(parent) if parent else None,
            # Whom it was written to: an email the owner forwarded to Alice in the
            # thread of Mallory's question is Alice's, never an answer to Mallory.
            recipients=tuple(HandleId(address) for address in sorted(recipients)),
            kind=kind,
            raw=raw,
        )

    def _remember(self, message_id: str, root: str) -> None:
        self.roots[message_id] = root
        if len(self.roots) > _ROOTS_KEPT:
            self.roots.popitem(last=False)


def header_text(value: object) -> str:
    """A header's value as text: RFC 2047 words decoded, raw 8-bit bytes read as UTF-8."""
    if value is None:
        return ""
    if isinstance(value, Header):
        parts = decode_header(value)
        text = "".join(_decode_bytes(b, c) if isinstance(b, bytes) else b for b, c in parts)
    else:
        text = str(value)
    if "=?" in text:
        try:
            parts = decode_header(text)
        except (ValueError, AssertionError):
            parts = [(text, None)]
        text = ""
        for chunk, charset in parts:
            text += _decode_bytes(chunk, charset) if isinstance(chunk, bytes) else chunk
    return " ".join(text.split()) if "\n" in text or "\r" in text else text.strip()


def _decode_bytes(data: bytes, charset: str | None) -> str:
    if charset in (None, "unknown-8bit"):
        charset = "utf-8"
    try:
        return data.decode(charset, "replace")
    except LookupError:
        return data.decode("utf-8", "replace")


def _first_id(value: str) -> str | None:
    found = _MESSAGE_ID.search(value)
    if found is not None:
        return found.group(1)
    value = value.strip()
    return value or None


def _from_line_date(from_line: bytes | None) -> datetime | None:
    """The date on an mbox `From sender Mon Apr 07 14:30:00 +0000 2025` line (UTC if no zone)."""
    if not from_line:
        return None
    words = from_line.decode("ascii", "replace").split()[2:]
    zone = next((w for w in words if w[:1] in "+-" and w[1:].isdigit()), "+0000")
    rest = [w for w in words if w != zone]
    if len(rest) < 5:
        return None
    try:
        parsed = datetime.strptime(" ".join(rest[1:5]), "%b %d %H:%M:%S %Y")
        offset = datetime.strptime(zone, "%z").tzinfo
    except ValueError:
        return None
    return parsed.replace(tzinfo=offset)


def _field(fields: dict[str, list[object]], name: str) -> str:
    values = fields.get(name)
    return header_text(values[0]) if values else ""


def _received_date(received_headers: list[object]) -> datetime | None:
    for received in received_headers:
        _, _, stamp = header_text(received).rpartition(";")
        try:
            parsed = parsedate_to_datetime(stamp.strip())
        except (TypeError, ValueError, IndexError):
            continue
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _body(message: Message) -> tuple[str, list[str]]:
    """The message's text (plain preferred, else HTML as text) and its attachments' names."""
    plain: str | None = None
    html: str | None = None
    attachments: list[str] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        disposition = (part.get("Content-Disposition") or "").split(";", 1)[0].strip().lower()
        content_type = part.get_content_type()
        if disposition == "attachment" or not content_type.startswith("text/"):
            file_name = part.get_filename()
            if disposition == "attachment" or file_name:
                attachments.append(header_text(file_name) or content_type)
            continue
        if content_type == "text/plain" and plain is None:
            plain = _payload_text(part)
        elif content_type == "text/html" and html is None:
            html = _payload_text(part)
    if plain is not None and plain.strip():
        return _tidy(plain), attachments
    if html is not None:
        return _tidy(html_to_text(html)), attachments
    return _tidy(plain or ""), attachments


def _payload_text(part: Message) -> str:
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        return ""
    return _decode_bytes(data, part.get_content_charset())


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    tidy: list[str] = []
    for line in lines:
        if line or (tidy and tidy[-1]):
            tidy.append(line)
    return "\n".join(tidy).strip("\n")


# --- quotes and signatures ------------------------------------------------------------------

_ATTRIBUTION = re.compile(
    r"^(?:On|Am|Le|El|Il|Op|Em|Den|W dniu|Dne)\b.{0,300}"
    r"(?:wrote|schrieb|a écrit|escribió|ha scritto|schreef|escreveu|skrev|napisał|napsal)"
    r"(?:\s.{0,200})?\s*:?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_ATTRIBUTION_STARTS = ("On ", "Am ", "Le ", "El ", "Il ", "Op ", "Em ", "Den ", "W dniu", "Dne ")
_ORIGINAL = re.compile(
    r"^\s*-{2,}\s*(?:Original Message|Ursprüngliche Nachricht|Message d'origine|Mensaje original"
    r"|Messaggio originale|Oorspronkelijk bericht|Forwarded message|Weitergeleitete Nachricht"
    r"|Mensaje reenviado|Message transféré)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_OUTLOOK_HEADER = re.compile(r"^\*?(?:From|Von|De|Da|Van)\*?\s*:\s*\S", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(
    r"^\*?(?:Sent|Date|Gesendet|Datum|Envoyé|Enviado|Inviato|Verzonden|To|An|À|Para|A|Aan)\*?\s*:",
    re.IGNORECASE,
)
_MOBILE_FOOTER = re.compile(
    r"^(?:Sent from my \w+.*|Sent from (?:Mail|Outlook|Yahoo Mail).*|Get Outlook for \w+.*"
    r"|Enviado desde mi \w+.*|Von meinem \w+ gesendet.*|Envoyé de mon \w+.*"
    r"|Inviato da \w+.*|Verzonden vanaf mijn \w+.*)$",
    re.IGNORECASE,
)


def strip_reply(body: str) -> str:
    """What the sender wrote: the body without quoted replies, forwards and signature."""
    lines = body.split("\n")
    kept: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        if stripped in ("--", "-- ", "__") or line == "-- ":
            break
        if _ORIGINAL.match(stripped):
            break
        if set(stripped) == {"_"} and len(stripped) >= 20:
            # Outlook's rule above the quoted message.
            break
        if _OUTLOOK_HEADER.match(stripped) and any(
            _OUTLOOK_NEXT.match(following.strip()) for following in lines[index + 1 : index + 4]
        ):
            break
        if stripped.startswith(_ATTRIBUTION_STARTS):
            # Clients wrap a long "On <date>, <name> <address> wrote:" over lines.
            for span in (1, 2, 3):
                candidate = " ".join(s.strip() for s in lines[index : index + span])
                if _ATTRIBUTION.match(candidate) and _quoted_or_end(lines, index + span):
                    return _finish(kept)
        if stripped.startswith(">"):
            index += 1
            continue
        kept.append(line)
        index += 1
    return _finish(kept)


def _quoted_or_end(lines: list[str], start: int) -> bool:
    """An attribution line counts only when quoted text (or nothing) follows it."""
    for line in lines[start:]:
        if line.strip():
            return line.lstrip().startswith(">")
    return True


def _finish(kept: list[str]) -> str:
    while kept and not kept[-1].strip():
        kept.pop()
    if kept and _MOBILE_FOOTER.match(kept[-1].strip()):
        kept.pop()
    return _tidy("\n".join(kept))


# --- HTML ------------------------------------------------------------------------------------

_BLOCK_TAGS = frozenset(
    (
        "p",
        "div",
        "br",
        "li",
        "tr",
        "table",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "ul",
        "ol",
        "pre",
        "hr",
        "section",
        "article",
        "header",
        "footer",
    )
)
_SKIPPED_TAGS = frozenset(("script", "style", "head", "title"))
_QUOTE_CLASSES = ("gmail_quote", "yahoo_quoted", "moz-cite-prefix", "protonmail_quote")
_QUOTE_IDS = ("appendonsend", "divrplyfwdmsg", "mail-editor-reference-message-container")
_VOID_TAGS = frozenset(("br", "hr", "img", "meta", "link", "input", "wbr", "col", "area", "base"))


class _TextExtractor(HTMLParser):
    """HTML to text; quoted blocks come out as `> ` lines and signatures after `-- `,
    so one plain-text stripper handles both kinds of body."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]
        self.skip = 0
        self.quote = 0
        self.pre = 0
        # For every open element: did it open a quote or a signature?
        self.stack: list[tuple[str, bool]] = []

    def _newline(self) -> None:
        if self.lines[-1].strip():
            self.lines.append("")
        elif self.lines[-1]:
            self.lines[-1] = ""

    def _write(self, text: str) -> None:
        prefix = "> " * self.quote
        if not self.lines[-1] and prefix:
            self.lines[-1] = prefix
        self.lines[-1] += text

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: (value or "") for name, value in attrs}
        classes = attributes.get("class", "").lower()
        element_id = attributes.get("id", "").lower()
        if tag in _SKIPPED_TAGS:
            self.skip += 1
        if tag in _BLOCK_TAGS or tag == "blockquote":
            self._newline()
        if tag == "li":
            self._write("- ")
        if tag == "pre":
            self.pre += 1
        quoting = (
            tag == "blockquote"
            or any(c in classes for c in _QUOTE_CLASSES)
            or any(i == element_id for i in _QUOTE_IDS)
        )
        if "gmail_signature" in classes or "moz-signature" in classes:
            self._newline()
            self.lines[-1] = "-- "
            self.lines.append("")
        if quoting:
            self.quote += 1
        if tag not in _VOID_TAGS:
            self.stack.append((tag, quoting))

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS and self.skip:
            self.skip -= 1
        if tag == "pre" and self.pre:
            self.pre -= 1
        if tag in _BLOCK_TAGS or tag == "blockquote":
            self._newline()
        # Close up to the matching open tag (HTML in mail is often unbalanced).
        for position in range(len(self.stack) - 1, -1, -1):
            if self.stack[position][0] == tag:
                for _, quoting in self.stack[position:]:
                    if quoting and self.quote:
                        self.quote -= 1
                del self.stack[position:]
                break

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.pre:
            for number, piece in enumerate(data.split("\n")):
                if number:
                    self.lines.append("")
                self._write(piece)
            return
        text = " ".join(data.split())
        if not text:
            if data and self.lines[-1] and not self.lines[-1].endswith(" "):
                self.lines[-1] += " "
            return
        if data[:1].isspace() and self.lines[-1] and not self.lines[-1].endswith(" "):
            text = " " + text
        if data[-1:].isspace():
            text += " "
        self._write(text)


def html_to_text(markup: str) -> str:
    extractor = _TextExtractor()
    extractor.feed(markup)
    extractor.close()
    text = "\n".join(line.rstrip() for line in extractor.lines).replace("\xa0", " ")
    return text.strip("\n")
