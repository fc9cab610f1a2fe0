"""The bundled demo: a short history between the owner (Sam) and two contacts, and a
scripted scene played through the real console channel."""

from __future__ import annotations

import json
from datetime import datetime
from importlib import resources
from typing import Any

from bot.channels.console import CONSOLE, OWNER, contact_chat, split_lines
from twin_core.memory.service import Memory
from twin_core.types import ExternalId, HandleId, InboundEvent

OWNER_NAME = "Sam"


def history_events() -> list[InboundEvent]:
    data: dict[str, Any] = json.loads(
        resources.files(__package__).joinpath("history.json").read_text(encoding="utf-8")
    )
    events = []
    for number, item in enumerate(data["messages"], start=1):
        contact = str(item["with"])
        mine = item["from"] == "me"
        events.append(
            InboundEvent(
                channel=CONSOLE,
                external_id=ExternalId(f"demo-history-{number}"),
                chat_id=contact_chat(contact),
                sender_id=OWNER if mine else HandleId(contact_chat(contact)),
                sender_name=OWNER_NAME if mine else contact,
                text=str(item["text"]),
                sent_at=datetime.fromisoformat(item["at"]),
                from_owner=mine,
            )
        )
    return events


def load_history(memory: Memory) -> int:
    """Record the bundled history (idempotent); returns how many messages were new."""
    return memory.record_many(history_events())


def scene_lines() -> list[str]:
    text = resources.files(__package__).joinpath("scene.txt").read_text(encoding="utf-8")
    return split_lines(text)
