"""Should the twin answer this message at all?"""

from __future__ import annotations

from dataclasses import dataclass

from twin_core.memory.models import Conversation, Message
from twin_core.types import PolicyMode


@dataclass(frozen=True, slots=True)
class Decision:
    reply: bool
    why: str


def should_reply(
    message: Message, conversation: Conversation, policy: PolicyMode, owner_name: str
) -> Decision:
    if message.from_owner:
        return Decision(False, "you wrote it")
    if policy is PolicyMode.OFF:
        return Decision(False, "the twin is off for this contact")
    if message.kind != "text":
        return Decision(False, f"nothing to answer in a {message.kind} message")
    if not message.text.strip():
        return Decision(False, "the message is empty")
    if conversation.is_group and not names_owner(message.text, owner_name):
        return Decision(False, "a group message that does not mention you")
    return Decision(True, "a message to you that expects an answer")


def names_owner(text: str, owner_name: str) -> bool:
    """Whether `text` names the owner (a mention renders as `@Name`): in a group, what
    makes a message one addressed to them."""
    names = {owner_name.casefold(), *owner_name.casefold().split()}
    folded = text.casefold()
    return any(name and name in folded for name in names)
