"""What is personal in a message: the test behind "what one contact was told stays with
that contact" (DESIGN.md, invariant 6).

A reply the owner wrote to one person may be reused for another only when it holds
nothing that could be personal (numbers, names, places, links, addresses) AND the owner
has sent the very same words to several people. The first test is a cautious
heuristic, so the second is required as well: "sounds good!" passes, "see you at
Luigi's at 7" does not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_DIGIT = re.compile(r"\d")
_LINK = re.compile(r"(https?://|www\.|\b[\w.-]+\.(com|org|net|io|de|fr|uk|me)\b|@\w)", re.I)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_WORD = re.compile(r"[^\W\d_][\w'’-]*", re.UNICODE)
_SENTENCE_END = re.compile(r"[.!?…]\s*$")
# Capitalized words that are not names even in mid-sentence.
_COMMON_CAPITALS = frozenset(
    {"i", "i'm", "i’m", "i'll", "i’ll", "i've", "i’ve", "i'd", "i’d", "ok", "okay", "lol", "omg"}
)
MIN_CONTACTS_FOR_SHARING = 2


def personal_details(text: str, known_names: Iterable[str] = ()) -> list[str]:
    """Why `text` may be personal to the person it was written to (empty: nothing found)."""
    found: list[str] = []
    if _DIGIT.search(text):
        found.append("holds a number")
    if _LINK.search(text) or _EMAIL.search(text):
        found.append("holds a link or an address")
    lowered = text.casefold()
    for name in known_names:
        for part in name.casefold().split():
            if len(part) > 2 and re.search(rf"\b{re.escape(part)}\b", lowered):
                found.append(f"names {name}")
                break
    previous_end = 0
    for match in _WORD.finditer(text):
        word = match.group()
        starts_sentence = previous_end == 0 or bool(
            _SENTENCE_END.search(text[: match.start()].rstrip() or ".")
        )
        previous_end = match.end()
        if word[0].isupper() and not starts_sentence and word.casefold() not in _COMMON_CAPITALS:
            found.append(f"names someone or somewhere ({word!r})")
            break
    return found


def is_shareable(text: str, contacts_told: int, known_names: Iterable[str] = ()) -> bool:
    """True when the owner's words `text` may be reused with a different contact."""
    return contacts_told >= MIN_CONTACTS_FOR_SHARING and not personal_details(text, known_names)
