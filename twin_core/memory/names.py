"""Names that look like other names.

A contact chooses their own display name, and can choose one that looks like another
contact's: "Аlice" with a Cyrillic А, "Alice" followed by a zero-width space, "ＡＬＩＣＥ"
in fullwidth letters, "AIice" with a capital I for the l. A draft card that says who
wrote must not let one contact pass for another, so names are compared by how they
look (`skeleton`), and `lookalike_warning` gives the owner one line saying why a name
is suspicious.

Decisions, each tested:

* Accents are real letters: "José" and "Jose", or "Alíce" and "Alice", are spellings,
  not disguises, so two names that differ only in accents NFC can compose are not
  reported. A combining mark that does not compose into a letter (a dot above an i,
  U+0307, is invisible) is reported, and so is a mark hidden by an invisible character.
* Letter case is not a disguise: "ALICE" next to "Alice" is not reported. Fullwidth
  "ＡＬＩＣＥ" is, because it is a different set of characters made to look the same.
* Spacing: runs of spaces collapse, but spaces are not removed, so "A l i c e" does not
  look like "Alice" (it does not).
* I and l: in most interface fonts a capital I and a small l are the same stroke. A
  capital I inside a word that has small letters ("AIice") reads as l, and a small l
  that starts such a word ("lvan") reads as I; elsewhere each is itself, so "Ian" and
  "Lan" stay apart.
* Right-to-left override (U+202E) shows the letters after it reversed, so the skeleton
  is taken of the name as displayed: "\u202eecilA" looks like "Alice".
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from typing import NamedTuple

# Letters of other scripts, and a few other characters, that look like a Latin letter,
# as "lookalike Latin" pairs (after Unicode TR39 confusables; only letters that really
# pass for the Latin letter in common fonts). Compatibility forms (fullwidth, bold,
# circled) need no entry: NFKC turns them into the letter first.
CONFUSABLES = """
    Cyrillic:  А A  В B  Е E  К K  М M  Н H  О O  Р P  С C  Т T  У Y  Х X  Ѕ S  І I  Ј J
               Ү Y  Ԝ W  Ӏ I  Ѵ V  Ь b
               а a  е e  о o  р p  с c  у y  х x  ѕ s  і i  ј j  һ h  ԁ d  ԛ q  ԝ w  ӏ i
               ү y  ѵ v  г r
    Greek:     Α A  Β B  Ε E  Ζ Z  Η H  Ι I  Κ K  Μ M  Ν N  Ο O  Ρ P  Τ T  Υ Y  Χ X  Ϲ C
               Ϳ J
               α a  γ y  ι i  ν v  ο o  ρ p  σ o  υ u  ϲ c  ϳ j
    Armenian:  Օ O  Ս U  Տ S
               ա w  գ q  զ q  հ h  ո n  ռ n  ս u  ց g  ք f  օ o
    Cherokee:  Ꭰ D  Ꭱ R  Ꭲ T  Ꭹ Y  Ꭺ A  Ꭻ J  Ꭼ E  Ꮃ W  Ꮇ M  Ꮋ H  Ꮍ Y  Ꮐ G  Ꮓ Z  Ꮢ R
               Ꮤ W  Ꮥ S  Ꮩ V  Ꮪ S  Ꮮ L  Ꮯ C  Ꮲ P  Ꮶ K  Ᏻ G  Ᏼ B  Ꭵ i
    Latin:     ı i  ɑ a  ɡ g  ǀ l  ᴄ c  ᴏ o  ᴜ u  ᴠ v  ᴡ w  ᴢ z
    digits:    0 o  1 l  | l
"""


def _confusables(block: str) -> dict[str, str]:
    table: dict[str, str] = {}
    for line in block.strip().splitlines():
        pairs = line.split(":", 1)[-1].split()
        for lookalike, latin in zip(pairs[::2], pairs[1::2], strict=True):
            table[lookalike] = latin
    return table


_CONFUSABLE = _confusables(CONFUSABLES)

# Characters that show nothing, beyond the format characters (category Cf) and
# controls (Cc): the combining grapheme joiner, Hangul fillers, Khmer inherent vowels,
# Mongolian variation selectors, variation selectors, the blank Braille pattern.
_BLANK = frozenset(
    {
        *(0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B, 0x180C, 0x180D, 0x180F),
        *(0x2800, 0x3164, 0xFFA0),
        *range(0xFE00, 0xFE10),
        *range(0xE0100, 0xE01F0),
    }
)
_CONTROL_NAMES = {
    0x00: "NULL",
    0x07: "BELL",
    0x08: "BACKSPACE",
    0x09: "CHARACTER TABULATION",
    0x0A: "LINE FEED",
    0x0D: "CARRIAGE RETURN",
    0x1B: "ESCAPE",
    0x7F: "DELETE",
}
_RLO, _LRO, _PDF = "\u202e", "\u202d", "\u202c"
_ZWJ = "\u200d"
_BLACK_FLAG = "\U0001f3f4"
_CANCEL_TAG = "\U000e007f"
_TAGS = range(0xE0020, 0xE0080)
_SPACES = re.compile(r"\s+")
# A digit or bar written against a letter, as in "B0b" or "A1ice".
_DIGIT_AS_LETTER = re.compile(r"[01|](?=[^\W\d_])|(?<=[^\W\d_])[01|]")
# Scripts with letters that pass for Latin ones: mixing them in one word is a disguise.
_LOOKALIKE_SCRIPTS = frozenset({"Latin", "Cyrillic", "Greek", "Armenian", "Cherokee"})


def _is_emoji(char: str) -> bool:
    """An emoji, a skin tone or the emoji variation selector: what a zero-width joiner
    may stand between in an emoji sequence ("❤️‍🔥", "👩🏽‍💻")."""
    return unicodedata.category(char) in {"So", "Sk"} or char == "\ufe0f"


def _invisible_positions(name: str) -> list[int]:
    """Where `name` has characters that show nothing, leaving out the ones that belong
    to an emoji: a variation selector after it, a zero-width joiner between two, the
    tags of a subdivision flag (🏴 followed by tags)."""
    positions: list[int] = []
    in_flag = False
    for i, char in enumerate(name):
        before = name[i - 1] if i else ""
        after = name[i + 1] if i + 1 < len(name) else ""
        code = ord(char)
        if char == _BLACK_FLAG:
            in_flag = True
            continue
        if in_flag and (code in _TAGS):
            in_flag = char != _CANCEL_TAG
            continue
        in_flag = False
        if char in "\ufe0e\ufe0f" and before and unicodedata.category(before) == "So":
            continue
        if char == _ZWJ and before and after and _is_emoji(before) and _is_emoji(after):
            continue
        if _shows_nothing(char):
            positions.append(i)
    return positions


def _shows_nothing(char: str) -> bool:
    return unicodedata.category(char) in {"Cf", "Cc"} or ord(char) in _BLANK


def _describe(char: str) -> str:
    code = ord(char)
    name = unicodedata.name(char, "") or _CONTROL_NAMES.get(code, "CONTROL CHARACTER")
    return f"U+{code:04X} {name}"


def invisible_characters(name: str) -> list[str]:
    """The characters in `name` that show nothing, each once, as "U+200B ZERO WIDTH
    SPACE": zero-width spaces and joiners, bidi controls, controls, fillers."""
    found = [_describe(name[i]) for i in _invisible_positions(name)]
    return list(dict.fromkeys(found))


def _script(char: str) -> str | None:
    """The script of a letter, by its Unicode name; Han and kana count as one (Japanese
    writes them together). None for characters that are not letters."""
    if not unicodedata.category(char).startswith("L"):
        return None
    first = unicodedata.name(char, "").split(" ", 1)[0]
    if first in {"CJK", "HIRAGANA", "KATAKANA", "KATAKANA-HIRAGANA", "IDEOGRAPHIC"}:
        return "CJK"
    if first in {"", "MODIFIER"}:
        return None
    return first.title()


def _scripts(text: str) -> list[str]:
    return list(dict.fromkeys(s for s in map(_script, text) if s is not None))


def mixed_scripts(name: str) -> bool:
    """True when the letters of `name` come from more than one script (Latin and
    Cyrillic, say); digits, punctuation and emoji do not count, and Chinese characters
    with Japanese kana count as one script."""
    return len(_scripts(_shown(name))) > 1


def _as_displayed(name: str) -> str:
    """`name` in the order it is shown: after a right-to-left override the letters
    run backwards up to the pop (U+202C) or the end."""
    out: list[str] = []
    reversing: list[str] | None = None
    for char in name:
        if char == _RLO:
            if reversing is not None:
                out.extend(reversed(reversing))
            reversing = []
        elif char in (_PDF, _LRO) and reversing is not None:
            out.extend(reversed(reversing))
            reversing = None
        elif reversing is not None:
            reversing.append(char)
        else:
            out.append(char)
    if reversing is not None:
        out.extend(reversed(reversing))
    return "".join(out)


def _shown(name: str) -> str:
    """`name` as displayed, compatibility forms unfolded (NFKC), without the characters
    that show nothing."""
    text = unicodedata.normalize("NFKC", _as_displayed(name))
    hidden = set(_invisible_positions(text))
    return "".join(char for i, char in enumerate(text) if i not in hidden)


def _visible(name: str) -> str:
    """`_shown(name)` without combining marks."""
    decomposed = unicodedata.normalize("NFD", _shown(name))
    return "".join(c for c in decomposed if not unicodedata.category(c).startswith("M"))


def _read_i_and_l(word: str) -> str:
    """A capital I inside a word with small letters is read as l ("AIice"), a small l
    starting such a word as I ("lvan"): in most fonts the two are one vertical stroke."""
    if not any(char.islower() for char in word):
        return word
    letters = list(word)
    for i, char in enumerate(letters):
        if char == "I" and i > 0:
            letters[i] = "l"
        elif char == "l" and i == 0 and len(word) > 1 and word[1].islower():
            letters[i] = "I"
    return "".join(letters)


def skeleton(name: str) -> str:
    """How `name` looks, as a key for comparing names: NFKC, as displayed, without
    invisible characters and combining marks, lookalike letters replaced by the Latin
    letter they pass for, casefolded, spaces collapsed. Two names with one skeleton
    are hard to tell apart on screen."""
    text = "".join(_CONFUSABLE.get(char, char) for char in _visible(name))
    words = [_read_i_and_l(word) for word in _SPACES.split(text) if word]
    return " ".join(words).casefold()


@functools.lru_cache(maxsize=8192)
def _skeletons(name: str) -> frozenset[str]:
    """The skeleton, and for a name with a 1 in it also the skeleton with the 1 read as
    an i: "A1ice" passes for Alice, and so does "Al1ce". Cached: every draft card
    compares its contact with every other name."""
    found = {skeleton(name)}
    if "1" in name:
        found.add(skeleton(name.replace("1", "i")))
    return frozenset(found)


def _plain(name: str) -> str:
    """`name` as a spelling: NFC, casefolded, accents removed."""
    decomposed = unicodedata.normalize("NFD", unicodedata.normalize("NFC", name).casefold())
    return "".join(c for c in decomposed if not unicodedata.category(c).startswith("M"))


def _hidden_marks(name: str) -> list[str]:
    """Combining marks that NFC leaves loose on a Latin, Greek or Cyrillic letter: they
    compose into no letter of those alphabets, so they are a distortion or a disguise
    (U+0307 COMBINING DOT ABOVE on an i shows nothing)."""
    found: list[str] = []
    base: str | None = None
    for char in unicodedata.normalize("NFC", name):
        if unicodedata.category(char).startswith("M"):
            if base in {"Latin", "Greek", "Cyrillic"} and ord(char) not in _BLANK:
                found.append(_describe(char))
        else:
            base = _script(char)
    return list(dict.fromkeys(found))


class _Reason(NamedTuple):
    what: str
    which: str = ""  # the characters, when naming them helps
    alone: bool = False  # suspicious even when no other name looks the same


def _reasons(name: str, other: str | None) -> list[_Reason]:
    """Why `name` may pass for another name; when `other` is given, letters of scripts
    `other` does not use are named too."""
    reasons: list[_Reason] = []
    invisible = invisible_characters(name)
    if invisible:
        reasons.append(_Reason("contains invisible characters", ", ".join(invisible), True))
    marks = _hidden_marks(name)
    if marks:
        reasons.append(_Reason("has a combining mark on no letter", ", ".join(marks), True))
    shown = _shown(name)
    if other is not None:
        theirs = set(_scripts(_shown(other)))
        for script in _scripts(shown):
            if script not in theirs:
                count = sum(_script(char) == script for char in shown)
                letters = f"a {script} letter" if count == 1 else f"{count} {script} letters"
                reasons.append(_Reason(f"contains {letters}"))
    else:
        for word in shown.split():
            mixed = [script for script in _scripts(word) if script in _LOOKALIKE_SCRIPTS]
            if len(mixed) > 1:
                reasons.append(
                    _Reason(f"mixes {' and '.join(mixed)} letters in one word", "", True)
                )
                break
    styled = [
        char
        for char in name
        if not char.isspace()
        and not _shows_nothing(char)
        and unicodedata.normalize("NFKC", char) != unicodedata.normalize("NFC", char)
    ]
    if styled:
        kind = "fullwidth" if any("FULLWIDTH" in _describe(c) for c in styled) else "styled"
        reasons.append(_Reason(f"is written in {kind} characters"))
    visible = _visible(name)
    digits = sorted({match.group() for match in _DIGIT_AS_LETTER.finditer(visible)})
    if digits:
        letters = "a letter" if len(digits) == 1 else "letters"
        reasons.append(_Reason(f"uses {' and '.join(digits)} for {letters}"))
    if any(_read_i_and_l(word) != word for word in visible.split()):
        reasons.append(_Reason("uses I and l for each other"))
    if _SPACES.sub(" ", name.strip()) != name:
        reasons.append(_Reason("has extra or unusual spaces"))
    return reasons


def _same_spelling(name: str, other: str) -> bool:
    """True when the two names differ only in case and accents, with nothing else
    suspicious about either."""
    return _plain(name) == _plain(other) and not _reasons(name, other) + _reasons(other, name)


def lookalikes(name: str, others: Iterable[str]) -> list[str]:
    """The names among `others` that look like `name` (same skeleton) without being
    the same name (casefold) or the same name spelled with other accents."""
    own = _skeletons(name)
    same = unicodedata.normalize("NFC", name).casefold()
    found: list[str] = []
    if not any(own):
        return found  # a name that shows nothing is reported for that, not as a lookalike
    for other in others:
        if unicodedata.normalize("NFC", other).casefold() == same or other in found:
            continue
        if own.isdisjoint(_skeletons(other)):
            continue
        if _same_spelling(name, other):
            continue  # "José" and "Jose": accents are letters, not a disguise
        found.append(other)
    return found


def lookalike_warning(name: str, others: Iterable[str]) -> str | None:
    """One line for a draft card about `name`, e.g. 'looks like "Alice" (contains a
    Cyrillic letter)' or 'contains invisible characters (U+200B ZERO WIDTH SPACE)';
    None when nothing is suspicious. The other names are quoted as they are: escape the
    line for the screen it is shown on (bot.channels.printable)."""
    similar = lookalikes(name, others)
    if similar:
        why = "; ".join(
            f"{r.what}: {r.which}" if r.which else r.what for r in _reasons(name, similar[0])
        )
        quoted = ", ".join(f'"{other}"' for other in similar)
        return f"looks like {quoted}" + (f" ({why})" if why else "")
    alarming = [r for r in _reasons(name, None) if r.alone]
    if not alarming:
        return None
    return "; ".join(f"{r.what} ({r.which})" if r.which else r.what for r in alarming)
