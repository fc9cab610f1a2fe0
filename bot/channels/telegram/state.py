"""What the Telegram channel keeps between runs, in one small JSON file in the data
folder: the last update handled (so a restart neither loses nor replays updates) and
the owner's Business connections (which one carries which chat, and what it may do).

The file belongs to one bot: a new token (another bot) starts from nothing. It is
written whole to a temporary file and renamed over the old one, so a crash leaves
either the old state or the new, never half of one.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("twin.telegram")


@dataclass(slots=True)
class Connection:
    """A Telegram Business connection: the owner's account lets the bot act in its
    private chats."""

    id: str
    user_id: int
    """The Business account's user: the owner, when the owner connected it."""
    user_name: str
    enabled: bool
    can_reply: bool

    def describe(self) -> str:
        who = f"{self.user_name} ({self.user_id})"
        if not self.enabled:
            return f"telegram business: the connection of {who} is switched off"
        if not self.can_reply:
            return (
                f"telegram business: the connection of {who} may read but not reply; "
                "allow 'Reply to messages' in Telegram > Settings > Business > Chatbots"
            )
        return f"telegram business: connected to {who}, may reply"


@dataclass(slots=True)
class TelegramState:
    bot_id: int = 0
    last_update_id: int = 0
    """The last update fully handled; polling asks for the ones after it."""
    connections: dict[str, Connection] = field(default_factory=dict)
    chats: dict[str, str] = field(default_factory=dict)
    """A business chat's id -> the connection its latest message came through."""

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, raw: str) -> TelegramState:
        data: dict[str, Any] = json.loads(raw)
        return cls(
            bot_id=int(data.get("bot_id", 0)),
            last_update_id=int(data.get("last_update_id", 0)),
            connections={
                key: Connection(**value) for key, value in data.get("connections", {}).items()
            },
            chats={str(k): str(v) for k, v in data.get("chats", {}).items()},
        )


class StateFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self, bot_id: int) -> TelegramState:
        """The state of bot `bot_id`; a fresh one for another bot or an unreadable file."""
        try:
            state = TelegramState.from_json(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return TelegramState(bot_id=bot_id)
        except (OSError, ValueError, TypeError, KeyError) as exc:
            log.warning(
                "%s cannot be read (%s); starting from Telegram's own offset", self.path, exc
            )
            return TelegramState(bot_id=bot_id)
        if state.bot_id != bot_id:
            return TelegramState(bot_id=bot_id)
        return state

    def save(self, state: TelegramState) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + ".tmp")
        with open(temporary, "w", encoding="utf-8") as file:
            file.write(state.to_json())
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, self.path)
