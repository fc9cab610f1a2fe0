"""What the owner is shown of a draft: one card, as text and as data."""

from __future__ import annotations

from collections.abc import Sequence

from bot.handlers.actions import speaker_label
from twin_core.memory.models import Contact, Draft, DraftStatus, Message
from twin_core.memory.names import lookalike_warning
from twin_core.memory.text import shorten


def draft_card(
    draft: Draft,
    contact: Contact,
    burst: Sequence[Message],
    *,
    warning: str | None = None,
    auto_in: float | None = None,
) -> str:
    """The draft card: who wrote what, the reply, how sure, why, and the commands."""
    name = speaker_label(contact.name)
    lines = [f"Draft {draft.id} for {name} (confidence {draft.confidence:.2f})"]
    if warning:
        lines.append(careful(contact, warning).rstrip("\n"))
    lines += [f"{name}: {shorten(m.text, 300)}" for m in burst[-5:]]
    if len(burst) > 5:
        lines.insert(1 + bool(warning), f"({len(burst) - 5} earlier message(s) not shown)")
    lines.append(f"Reply: {draft.text}")
    lines.append(f"Why: {'; '.join(draft.reasons)}")
    if auto_in is not None:
        lines.append(f"Goes out on its own in {auto_in:.0f}s · /cancel {draft.id} to stop it")
    else:
        lines.append(f"/approve {draft.id} · /edit {draft.id} <text> · /reject {draft.id}")
    return "\n".join(lines)


def careful(contact: Contact, warning: str | None) -> str:
    """The line every notice about a contact carries when their name passes for
    another's (with its newline), or nothing."""
    return f"Careful: {speaker_label(contact.name)} {warning}\n" if warning else ""


def name_warning(contact: Contact, others: Sequence[str]) -> str | None:
    """A line for names that pretend to be another contact (lookalike letters,
    invisible characters)."""
    return lookalike_warning(contact.name, [n for n in others if n != contact.name])


def draft_data(
    draft: Draft,
    contact: Contact,
    burst: Sequence[Message],
    *,
    warning: str | None = None,
    auto_in: float | None = None,
) -> dict[str, object]:
    return {
        "event": "draft",
        "id": draft.id,
        "contact": contact.name,
        "incoming": shorten("\n".join(m.text for m in burst), 300),
        "answers": [m.id for m in burst],
        "text": draft.text,
        "confidence": draft.confidence,
        "reasons": list(draft.reasons),
        "status": draft.status.value if isinstance(draft.status, DraftStatus) else draft.status,
        "auto_in_s": auto_in,
        "model": draft.model,
        "warning": warning,
        "actions": card_actions(draft, auto_in),
    }


def card_actions(draft: Draft, auto_in: float | None) -> list[dict[str, str]]:
    """The buttons a platform that has them shows under the card, each the command it
    stands for (channel-neutral: a platform without buttons shows the text)."""
    if auto_in is not None:
        return [{"label": "Cancel", "command": f"/cancel {draft.id}"}]
    return [
        {"label": "Approve", "command": f"/approve {draft.id}"},
        {"label": "Edit", "command": f"/edit {draft.id}"},
        {"label": "Reject", "command": f"/reject {draft.id}"},
    ]
