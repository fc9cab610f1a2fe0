"""What the owner is shown of a draft: one card, as text and as data."""

from __future__ import annotations

from collections.abc import Sequence

from bot.handlers.actions import draft_card_key, speaker_label
from twin_core.memory.models import Contact, Draft, DraftStatus, Message
from twin_core.memory.names import lookalike_warning
from twin_core.memory.text import shorten
from twin_core.types import Button


def draft_card(
    draft: Draft,
    contact: Contact,
    burst: Sequence[Message],
    *,
    warning: str | None = None,
    auto_in: float | None = None,
    same_person: str | None = None,
) -> str:
    """The draft card: who wrote what, the reply, how sure, why, and the commands."""
    name = speaker_label(contact.name)
    lines = [f"Draft {draft.id} for {name} (confidence {draft.confidence:.2f})"]
    if warning:
        lines.append(careful(contact, warning).rstrip("\n"))
    if same_person:
        lines.append(same_person)
    lines += [f"{name}: {shorten(m.text, 300)}" for m in burst[-5:]]
    if len(burst) > 5:
        lines.insert(
            1 + bool(warning) + bool(same_person),
            f"({len(burst) - 5} earlier message(s) not shown)",
        )
    lines.append(f"Reply: {draft.text}")
    lines.append(f"Why: {'; '.join(draft.reasons)}")
    if auto_in is not None:
        lines.append(f"Goes out on its own in {auto_in:.0f}s · /cancel {draft.id} to stop it")
    else:
        lines.append(f"/approve {draft.id} · /edit {draft.id} <text> · /reject {draft.id}")
    return "\n".join(lines)


def same_person_line(contact: Contact, matches: Sequence[tuple[Contact, int]]) -> str | None:
    """For a new contact whose name or handle is an existing contact's: whom they look
    like, why the twin knows nothing of them yet, and the one command that joins them.
    Worded as a question (anyone can take a name) and by id, so a lookalike name
    cannot be merged by mistake."""
    if not matches or contact.id is None:
        return None
    known, count = matches[0]
    also = ", ".join(f"{speaker_label(c.name)} (#{c.id})" for c, _ in matches[1:3])
    return (
        f"New contact: {speaker_label(contact.name)} goes by the name of "
        f"{speaker_label(known.name)}, who has {count} message(s) in your history"
        + (f" (so does {also})" if also else "")
        + ". The twin uses none of that history for them until you say they are the same"
        f" person: /merge #{known.id} #{contact.id}"
    )


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
    same_person: str | None = None,
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
        "same_person": same_person,
    }


def draft_buttons(draft: Draft, *, auto: bool = False) -> tuple[Button, ...]:
    """The one-tap actions under a draft card (the commands its last line names)."""
    number = draft.id
    if auto:
        return (Button("Cancel", f"/cancel {number}"), Button("Why", f"/why {number}"))
    return (
        Button("Approve", f"/approve {number}"),
        Button("Edit", f"/edit {number}"),
        Button("Reject", f"/reject {number}"),
        Button("Why", f"/why {number}"),
    )


def card_of(draft: Draft) -> str:
    assert draft.id is not None
    return draft_card_key(draft.id)
