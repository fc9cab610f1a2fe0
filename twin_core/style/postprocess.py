"""Post-processing: a model's draft made to follow the owner's profile for this contact.

It strips assistant phrasing ("As an AI", "I'd be happy to help"), matches the owner's
casing, final punctuation, emoji and laughter habits, and splits the draft into several
messages where the owner writes several short ones. The parts are joined with newlines
in the draft's text (one line, one message). It never adds words of its own.
"""

from __future__ import annotations

import re

from twin_core.style.profile import LAUGHS, StyleProfile, emoji_of, is_emoji

_ASSISTANT_SENTENCES = re.compile(
    r"(?:^|(?<=[.!?]\s))[^.!?\n]*(?:as an ai\b|as a language model|i'?m (?:just )?an? "
    r"(?:ai|assistant)|i hope this helps|let me know if (?:you|there)[^.!?\n]*|feel free to"
    r"[^.!?\n]*|how can i (?:help|assist)[^.!?\n]*)[^.!?\n]*[.!?]?\s*",
    re.IGNORECASE,
)
_ASSISTANT_OPENERS = re.compile(
    r"^\s*(?:(?:certainly|sure thing|absolutely|of course|great question)[!,.]\s*)?"
    r"(?:i'?d be (?:happy|glad) to(?: help)?(?: with that)?[!,.]?\s*)",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=\S)")


def strip_assistant(text: str) -> str:
    text = _ASSISTANT_OPENERS.sub("", text)
    text = _ASSISTANT_SENTENCES.sub("", text)
    return text.strip()


def enforce(text: str, profile: StyleProfile) -> list[str]:
    """The draft as the owner would send it to this contact: one string per message."""
    text = strip_assistant(text)
    if not text:
        return []
    if profile.messages < 3:
        return [text]
    # Lines the model (or the owner) wrote stay as they are, separators included; only
    # one long line is split, at sentence ends, where the owner sends several messages.
    parts = text.split("\n")
    wanted = round(profile.messages_per_turn)
    if len(parts) == 1 and wanted >= 2:
        sentences = [s for s in _SENTENCE.split(text) if s.strip()]
        if len(sentences) > 1:
            parts = _group(sentences, wanted)
    return [_habits(part, profile) for part in parts]


def _group(sentences: list[str], wanted: int) -> list[str]:
    size = -(-len(sentences) // wanted)
    return [" ".join(sentences[i : i + size]) for i in range(0, len(sentences), size)]


def _habits(part: str, profile: StyleProfile) -> str:
    if profile.share(profile.emoji_messages) < 0.05 and emoji_of(part):
        part = "".join(c for c in part if not is_emoji(c) and c != "\ufe0f")
        part = re.sub(r"\s{2,}", " ", part).strip()
    favourite = profile.favourite(profile.laughs, 1)
    if favourite:
        part = LAUGHS.sub(lambda m: _same_case(m.group(0), favourite[0]), part)
    if profile.lowercase and part[:1].isupper() and not _keeps_capital(part):
        part = part[0].lower() + part[1:]
    bare = profile.share(profile.ends.get("", 0))
    if bare > 0.6 and part.endswith(".") and not part.endswith(".."):
        part = part[:-1]
    return part


def _keeps_capital(part: str) -> bool:
    first = part.split(maxsplit=1)[0] if part.split() else ""
    return first in ("I", "I'm", "I'll", "I've", "I'd") or (len(first) > 1 and first.isupper())


def _same_case(found: str, form: str) -> str:
    if found and not found[0].isalpha():
        return found  # an emoji laugh stays
    return form.upper() if found.isupper() and len(found) > 1 else form
