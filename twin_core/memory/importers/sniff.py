"""What a file handed to the wrong importer is, in words, and the command that fits it.

`twin import mbox result.json` must not answer with a parser's traceback or raw bytes:
it says "result.json: a Telegram export, not an mbox; import it with `twin import
telegram`". Only the beginning of a file is read (a few kilobytes), and a folder or
.zip is judged by its file names and the beginning of one file in it.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from twin_core.memory.importers.common import NotThisFormat

_HEAD_BYTES = 8192
_LABELS = {
    "whatsapp": "a WhatsApp chat export",
    "telegram": "a Telegram export",
    "discord": "a DiscordChatExporter export",
    "slack": "a Slack workspace export",
    "mbox": "an email file (mbox or .eml)",
}
_WANTED = {
    "whatsapp": "a WhatsApp chat export",
    "telegram": "a Telegram export",
    "discord": "a DiscordChatExporter export",
    "slack": "a Slack workspace export",
    "mbox": "an mbox or .eml",
}
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"OggS", "an Ogg audio file"),
    (b"ID3", "an MP3 audio file"),
    (b"BM", "a BMP image"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\xd0\xcf\x11\xe0", "an old Microsoft Office document"),
)
_FROM_LINE = re.compile(rb"From \S*\s.*\d{1,2}:\d{2}")


@dataclass(frozen=True, slots=True)
class Sniffed:
    what: str
    """What the file looks like, as a noun phrase: "a JPEG image"."""
    format: str | None = None
    """The `twin import` format that reads it, when one does."""


def sniff(path: Path) -> Sniffed:
    """What `path` looks like; never raises for an unreadable file."""
    try:
        if path.is_dir():
            folder = path

            def head_of_file(name: str) -> bytes:
                with (folder / name).open("rb") as stream:
                    return stream.read(_HEAD_BYTES)

            files = sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file())
            return _sniff_names(files, head_of_file, "a folder")
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                names = [n for n in archive.namelist() if not n.endswith("/")]

                def head(name: str) -> bytes:
                    with archive.open(name) as stream:
                        return stream.read(_HEAD_BYTES)

                return _sniff_names(names, head, "a .zip")
        with path.open("rb") as stream:
            return _sniff_head(stream.read(_HEAD_BYTES))
    except OSError as error:
        return Sniffed(f"unreadable ({error.strerror or error})")


def not_this_format(path: Path, wanted: str, expected: str = "") -> NotThisFormat:
    """The one-line refusal of `path` by the `wanted` importer: what it is instead, and
    the command that fits it (or what `wanted` expects, when none does)."""
    found = sniff(path)
    line = f"{path.name}: {found.what}, not {_WANTED[wanted]}"
    if found.format is not None and found.format != wanted:
        line += f"; import it with `twin import {found.format}`"
    elif expected:
        line += f"; {expected}"
    return NotThisFormat(line)


def _sniff_names(names: list[str], head: Callable[[str], bytes], container: str) -> Sniffed:
    bases = {n.rsplit("/", 1)[-1].lower() for n in names}
    if bases & {"users.json", "channels.json", "dms.json", "mpims.json", "groups.json"}:
        return Sniffed(f"{container} holding {_LABELS['slack']}", "slack")
    if "result.json" in bases:
        return Sniffed(f"{container} holding {_LABELS['telegram']}", "telegram")
    if "_chat.txt" in bases or any(b.endswith(".txt") and "whatsapp" in b for b in bases):
        return Sniffed(f"{container} holding {_LABELS['whatsapp']}", "whatsapp")
    if any(b.endswith((".mbox", ".eml", ".mbx")) for b in bases):
        return Sniffed(f"{container} holding email files", "mbox")
    jsons = [n for n in names if n.lower().endswith(".json")]
    if jsons:
        found = _sniff_head(head(jsons[0]))
        if found.format is not None:
            return Sniffed(f"{container} holding {found.what}", found.format)
    if not names:
        return Sniffed(f"an empty {container.removeprefix('a ').removeprefix('an ')}")
    return Sniffed(f"{container} of {len(names)} file(s) in no format twin imports")


def _sniff_head(data: bytes) -> Sniffed:
    if not data:
        return Sniffed("an empty file")
    for magic, what in _MAGIC:
        if data.startswith(magic):
            return Sniffed(what)
    if data[4:8] == b"ftyp":
        return Sniffed("a video or HEIC image (MP4 family)")
    if data.startswith(b"RIFF"):
        return Sniffed("a WebP image or WAV audio file")
    text = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if b"\x00" in data[:1024]:
        return Sniffed("a binary file")
    from twin_core.memory.importers.whatsapp import looks_like_chat

    decoded = data.decode("utf-8", "replace")
    if looks_like_chat(decoded):
        return Sniffed(_LABELS["whatsapp"], "whatsapp")
    if text[:1] in (b"{", b"["):
        return _sniff_json(data)
    first = text.split(b"\n", 1)[0]
    if first.startswith(b"From ") and _FROM_LINE.match(first):
        return Sniffed("an mbox file", "mbox")
    from twin_core.memory.importers.mbox import sniff_mail

    if sniff_mail(io.BytesIO(data)) == "eml":
        return Sniffed("an email message (.eml)", "mbox")
    if text[:1] == b"<":
        return Sniffed("an HTML or XML file")
    return Sniffed("a text file in no format twin imports")


def _sniff_json(data: bytes) -> Sniffed:
    from twin_core.memory.importers.common import json_first_key

    text = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:1] == b"[":
        if b'"ts"' in text[:4000] and b'"type"' in text[:4000]:
            return Sniffed("one day of a Slack export (import the whole export's folder)", "slack")
        if b'"real_name"' in text[:4000] or b'"is_bot"' in text[:4000]:
            return Sniffed("the users.json of a Slack export (import the whole folder)", "slack")
        return Sniffed("a JSON list")
    try:
        key = json_first_key(io.BytesIO(data))
    except ValueError:
        return Sniffed("a file that starts like JSON but is not")
    if key == "guild":
        return Sniffed(_LABELS["discord"], "discord")
    if key in ("name", "type", "id", "messages", "personal_information", "about", "chats") and (
        key != "name" or b'"messages"' in text or b'"type"' in text
    ):
        return Sniffed(_LABELS["telegram"], "telegram")
    if key in ("messages", "participants") and b'"sender_name"' in text:
        return Sniffed("a Facebook Messenger / Instagram export")
    shown = json.dumps(key)[:40]
    return Sniffed(f"a JSON file starting with the key {shown}")
