"""What every export parser shares: its output records, its errors, stable ids, opening exports.

A parser is a generator over a path that yields `InboundEvent`s and, for a line or
record it cannot read, an `ImportProblem` instead of raising: one bad line must not
lose a whole history. A file that is not the named format at all raises one
`NotThisFormat` whose message says what was expected.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path, PurePosixPath
from typing import IO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import ijson  # type: ignore[import-untyped]

from twin_core.types import ExternalId, InboundEvent


class NotThisFormat(ValueError):
    """The file is not the export format the parser was asked to read."""


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """A line or record that could not be read, reported instead of raised."""

    line: int | None
    """1-based line number in the file (or record number where lines mean nothing)."""
    reason: str
    where: str = ""
    """The file inside a folder or zip export, when the export has several."""

    def __str__(self) -> str:
        place = self.where
        if self.line is not None:
            place = f"{place}:{self.line}" if place else f"line {self.line}"
        return f"{place}: {self.reason}" if place else self.reason


ImportItem = InboundEvent | ImportProblem


@dataclass(frozen=True, slots=True)
class ReadMark:
    """A place in an export's text where its reader can start afresh."""

    offset: int
    """Bytes before it."""
    line: int
    """Lines before it."""
    messages: int
    """Messages the reader gave before it."""
    problems: int
    """Problems the reader gave before it."""
    digest: str = ""
    """A hash of the bytes before it (`PrefixHash`), once recorded."""


class Marks:
    """Kept by a reader that can resume: the last places it could start afresh (as many
    as `keep`: an importer reads ahead of what it has stored)."""

    __slots__ = ("_kept",)

    def __init__(self, keep: int) -> None:
        self._kept: deque[ReadMark] = deque(maxlen=keep)

    def add(self, mark: ReadMark) -> None:
        self._kept.append(mark)

    def last_within(self, first: int, last: int) -> ReadMark | None:
        """The last place kept with `first` to `last` messages before it."""
        for mark in reversed(self._kept):
            if mark.messages <= last:
                return mark if mark.messages >= first else None
        return None


class PrefixHash:
    """Hashes a stream's beginning up to growing offsets, reading each byte once."""

    __slots__ = ("_digest", "_done", "_stream")

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._digest = hashlib.blake2b(digest_size=16)
        self._done = 0

    def up_to(self, offset: int) -> str:
        """The hash of the bytes before `offset` (never less than the last one asked);
        a stream shorter than that gives a hash no mark has."""
        while self._done < offset:
            chunk = self._stream.read(min(1 << 20, offset - self._done))
            if not chunk:
                return ""
            self._digest.update(chunk)
            self._done += len(chunk)
        return self._digest.hexdigest()

    def close(self) -> None:
        self._stream.close()


def local_zone() -> tzinfo:
    """The machine's zone, with its daylight-saving rules where they can be found.

    `datetime.now().astimezone().tzinfo` would be a fixed offset: wrong for half of
    the year's messages in a zone with summer time, so the named zone is preferred.
    """
    name = os.environ.get("TZ", "").lstrip(":")
    candidates = [name] if name else []
    try:
        target = os.readlink("/etc/localtime")
    except OSError:
        target = ""
    if "zoneinfo/" in target:
        candidates.append(target.split("zoneinfo/", 1)[1])
    for candidate in candidates:
        try:
            return ZoneInfo(candidate)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    zone = datetime.now().astimezone().tzinfo
    assert zone is not None  # astimezone() always attaches one
    return zone


def content_id(prefix: str, *parts: str) -> ExternalId:
    """A stable id for a message whose format gives it none, derived from its content.

    The same parts always give the same id, so re-importing an export, or an
    overlapping later one, finds the messages it already has.
    """
    digest = hashlib.blake2b(
        "\x1f".join(parts).encode("utf-8", "surrogatepass"), digest_size=16
    ).hexdigest()
    return ExternalId(f"{prefix}{digest}")


class RepeatCounter:
    """Numbers exact repeats of a message (same chat, time, sender and text) in order.

    Two identical "ok"s sent in the same minute are two messages; the counter keeps
    their derived ids apart and gives them the same numbers on every re-import. Only
    the current timestamp's keys are kept (exports are in time order), so memory does
    not grow with the export.
    """

    __slots__ = ("_seen", "_window")

    def __init__(self) -> None:
        self._window: object = None
        self._seen: dict[tuple[str, ...], int] = {}

    def next(self, window: object, key: tuple[str, ...]) -> int:
        if window != self._window:
            self._window = window
            self._seen.clear()
        count = self._seen.get(key, 0)
        self._seen[key] = count + 1
        return count


def placeholder(media_type: str, detail: str = "") -> str:
    """The typed text a media message is stored as: `[image]`, `[document: report.pdf]`."""
    return f"[{media_type}: {detail}]" if detail else f"[{media_type}]"


_EXTENSION_TYPES = {
    **dict.fromkeys(("jpg", "jpeg", "png", "heic", "heif", "bmp", "tif", "tiff"), "image"),
    **dict.fromkeys(("mp4", "3gp", "mov", "mkv", "avi", "webm", "m4v"), "video"),
    **dict.fromkeys(("opus", "ogg", "oga", "m4a", "mp3", "aac", "wav", "amr", "flac"), "audio"),
    "webp": "sticker",
    "tgs": "sticker",
    "gif": "gif",
    "vcf": "contact",
}


def media_type_of(file_name: str) -> str:
    """The placeholder type for an attached file, from its extension."""
    extension = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    return _EXTENSION_TYPES.get(extension, "document")


class ExportTree:
    """The files of an export, whether the platform gave a folder or a `.zip` of it.

    Names are POSIX paths relative to the export's top folder; a zip whose entries all
    sit under one folder (as when a user zips the folder) is looked into transparently.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        self._prefix = ""
        self._names: list[str]
        if path.is_dir():
            self._names = sorted(
                p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()
            )
        elif zipfile.is_zipfile(path):
            self._zip = zipfile.ZipFile(path)
            names = sorted(i.filename for i in self._zip.infolist() if not i.is_dir())
            names = [n for n in names if not n.startswith("__MACOSX/")]
            tops = {n.split("/", 1)[0] for n in names}
            if len(tops) == 1 and all("/" in n for n in names):
                self._prefix = tops.pop() + "/"
                names = [n[len(self._prefix) :] for n in names]
            self._names = names
        else:
            self._names = [path.name]

    @property
    def is_single_file(self) -> bool:
        return self._zip is None and not self.path.is_dir()

    def names(self) -> list[str]:
        return list(self._names)

    def open(self, name: str) -> IO[bytes]:
        if self._zip is not None:
            return self._zip.open(self._prefix + name)
        if self.path.is_dir():
            return (self.path / PurePosixPath(name)).open("rb")
        return self.path.open("rb")

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def __enter__(self) -> ExportTree:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def require_exists(path: Path) -> None:
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")


JsonEvent = tuple[str, str, object]
_STRUCTURE = frozenset(("start_map", "end_map", "start_array", "end_array", "map_key"))


def json_records(
    stream: IO[bytes],
    records: str,
    context: str,
    keep: Iterable[str],
    aliases: tuple[tuple[str, str], ...] = (),
) -> Iterator[tuple[dict[str, object], object]]:
    """Stream the JSON values at `records` (an ijson prefix such as `messages.item`).

    Each comes with the scalar fields named in `keep` (paths relative to `context`, the
    object holding the records, such as `name` or `channel.id`) seen before it in that
    object: a chat's name and id precede its messages in every export that matters.
    `aliases` reads a second list as if it were the first (Telegram's `left_chats` has
    the shape of its `chats`). Only one record is in memory at a time.
    """
    state: dict[str, object] = {}
    watched = {(f"{context}.{key}" if context else key): key for key in keep}

    def tap(events: Iterator[JsonEvent]) -> Iterator[JsonEvent]:
        get = watched.get
        for event in events:
            prefix, kind, value = event
            for old, new in aliases:
                if prefix.startswith(old):
                    prefix = new + prefix[len(old) :]
                    event = (prefix, kind, value)
            if prefix == context and kind == "start_map":
                state.clear()
            else:
                key = get(prefix)
                if key is not None and kind not in _STRUCTURE:
                    state[key] = value
            yield event

    for record in ijson.items(tap(ijson.parse(stream, use_float=True)), records):
        yield state, record


def json_first_key(stream: IO[bytes]) -> str:
    """The first key of a JSON file's top-level object, reading only its beginning.

    Raises `ValueError` if the file does not start like a JSON object.
    """
    try:
        events = ijson.parse(stream)
        prefix, kind, _ = next(events)
        if prefix != "" or kind != "start_map":
            raise ValueError("not a JSON object")
        prefix, kind, value = next(events)
    except (ijson.JSONError, StopIteration, UnicodeDecodeError) as error:
        raise ValueError(f"not JSON: {error}") from error
    return str(value) if kind == "map_key" else ""
