"""Who the owner is, and where their control chat is: from the settings
(`TWIN_OWNER_HANDLES`, `TWIN_CONTROL_CHAT`) and from pairing.

Pairing spares the owner looking up numeric ids: `twin pair telegram` issues a one-time
code (valid `CODE_TTL`, single use, at most `MAX_ATTEMPTS` wrong tries per code); the
first account to send it to the bot becomes the owner on that platform, and that chat
the control chat. What pairing decided is kept in the store (state `owner.paired`) and
read by every process; a control chat from pairing takes the place of the settings'.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from twin_core.memory.store import Store
from twin_core.settings import Settings
from twin_core.types import ChannelName, ChatId, HandleId

PAIRED_KEY = "owner.paired"
CODE_KEY = "owner.pairing"
CODE_TTL = 600.0
MAX_ATTEMPTS = 5
REFRESH_S = 2.0
"""How long what pairing decided is trusted before the store is read again (another
process may have paired meanwhile)."""
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


@dataclass(frozen=True, slots=True)
class ControlChat:
    channel: ChannelName
    chat_id: ChatId


@dataclass(frozen=True, slots=True)
class Paired:
    channel: ChannelName
    handle: HandleId
    chat_id: ChatId


class OwnerIdentity:
    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self._lock = threading.Lock()
        self._read_at = 0.0
        self._handles: dict[str, set[str]] = {}
        self._control: ControlChat | None = None

    # -- who and where ----------------------------------------------------------------

    def _paired(self) -> None:
        with self._lock:
            if time.monotonic() - self._read_at < REFRESH_S:
                return
            raw = self.store.state.get(PAIRED_KEY)
            data = json.loads(raw) if raw else {}
            self._handles = {k: set(v) for k, v in data.get("handles", {}).items()}
            control = data.get("control")
            self._control = (
                ControlChat(ChannelName(control[0]), ChatId(control[1])) if control else None
            )
            self._read_at = time.monotonic()

    def is_owner(self, channel: str, handle: str) -> bool:
        if self.settings.is_owner(channel, handle):
            return True
        self._paired()
        return handle in self._handles.get(channel, ())

    def control_chat(self) -> ControlChat:
        self._paired()
        if self._control is not None:
            return self._control
        return ControlChat(
            ChannelName(self.settings.control_channel), ChatId(self.settings.control_chat_id)
        )

    def owner_handle(self, channel: str) -> HandleId:
        """The owner's identity on `channel` (for recording what the twin sends)."""
        handles = self.settings.owner_handles.get(channel)
        if handles:
            return HandleId(handles[0])
        self._paired()
        paired = sorted(self._handles.get(channel, ()))
        return HandleId(paired[0] if paired else "owner")

    # -- pairing ----------------------------------------------------------------------

    def issue_code(self, channel: str) -> str:
        """A new one-time code for `channel` (replacing any earlier one)."""
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
        codes = self._codes()
        codes[channel] = {
            "hash": _digest(code),
            "expires": time.time() + CODE_TTL,
            "attempts": 0,
        }
        self.store.state.set(CODE_KEY, json.dumps(codes))
        return code

    def pairing_open(self, channel: str) -> bool:
        entry = self._codes().get(channel)
        return entry is not None and float(entry["expires"]) > time.time()

    def try_pair(self, channel: str, handle: str, chat_id: str, text: str) -> Paired | None:
        """Pair when `text` is `channel`'s open code; a wrong try counts against it."""
        codes = self._codes()
        entry = codes.get(channel)
        if not entry or float(entry["expires"]) <= time.time():
            return None
        guess = "".join(text.split()).upper()
        if not hmac.compare_digest(_digest(guess), str(entry["hash"])):
            entry["attempts"] = int(entry["attempts"]) + 1
            if entry["attempts"] >= MAX_ATTEMPTS:
                codes.pop(channel)  # too many wrong tries: `twin pair` again
            self.store.state.set(CODE_KEY, json.dumps(codes))
            return None
        codes.pop(channel)
        self.store.state.set(CODE_KEY, json.dumps(codes))
        return self.link(channel, handle, chat_id)

    def link(self, channel: str, handle: str, chat_id: str, *, control: bool = True) -> Paired:
        """Record `handle` as the owner on `channel`, and (with `control`) `chat_id` as
        the control chat: what a pairing code proves, or what linking the twin as a
        device of the owner's own account (`twin pair whatsapp`) shows."""
        raw = self.store.state.get(PAIRED_KEY)
        data = json.loads(raw) if raw else {}
        handles = data.setdefault("handles", {})
        handles.setdefault(channel, [])
        if handle not in handles[channel]:
            handles[channel].append(handle)
        if control:
            data["control"] = [channel, chat_id]
        self.store.state.set(PAIRED_KEY, json.dumps(data))
        with self._lock:
            self._read_at = 0.0
        return Paired(ChannelName(channel), HandleId(handle), ChatId(chat_id))

    def _codes(self) -> dict[str, dict[str, Any]]:
        raw = self.store.state.get(CODE_KEY)
        return json.loads(raw) if raw else {}


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def issue_pairing_code(settings: Settings, channel: str) -> str:
    """For a channel's `pair` hook (`twin pair CHANNEL`): a code the running twin
    accepts from the first account that sends it to the bot."""
    from bot.app import open_store

    store = open_store(settings)
    try:
        return OwnerIdentity(settings, store).issue_code(channel)
    finally:
        store.close()
