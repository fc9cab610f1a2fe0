"""Names that look like other names."""

from __future__ import annotations

import pytest

from twin_core.memory.names import (
    CONFUSABLES,
    invisible_characters,
    lookalike_warning,
    lookalikes,
    mixed_scripts,
    skeleton,
)

CONTACTS = [
    "Alice",
    "Bob",
    "Ivan",
    "José",
    "Ian",
    "John Smith",
    "McIntosh",
    "Lisa",
    "Paco",
    "Sammy",
    "Xena",
    "Tracy",
]


@pytest.mark.parametrize(
    ("name", "looks_like"),
    [
        # Cyrillic а е о р с у х і in place of Latin letters
        ("Аlice", "Alice"),
        ("Alicе", "Alice"),
        ("Вob", "Bob"),
        ("Воb", "Bob"),
        ("Jоhn Smith", "John Smith"),
        ("Lіsa", "Lisa"),
        ("Рaco", "Paco"),
        ("Pасo", "Paco"),
        ("Ѕаmmy", "Sammy"),
        ("Хena", "Xena"),
        ("Tracу", "Tracy"),
        # Greek ο ν α
        ("Bοb", "Bob"),
        ("ΒοΒ", "Bob"),
        ("Ivαn", "Ivan"),
        ("Iνan", "Ivan"),
        # Armenian and Cherokee letters
        ("Bօb", "Bob"),
        ("ᎪᏞᎥᏟᎬ", "Alice"),
        # invisible characters
        ("Alice\u200b", "Alice"),
        ("Al\u200dice", "Alice"),
        ("\ufeffAlice", "Alice"),
        ("Alice\u2060", "Alice"),
        ("Alice\u034f", "Alice"),
        ("Alice\u3164", "Alice"),
        # bidi controls; the override shows "ecilA" as "Alice"
        ("\u202eecilA", "Alice"),
        ("Alice\u202e", "Alice"),
        ("\u2067Alice\u2069", "Alice"),
        # fullwidth and styled letters
        ("ＡＬＩＣＥ", "Alice"),
        ("Ａｌｉｃｅ", "Alice"),
        ("𝐀𝐥𝐢𝐜𝐞", "Alice"),
        # digits and I for letters
        ("B0b", "Bob"),
        ("A1ice", "Alice"),
        ("Al1ce", "Alice"),
        ("AIice", "Alice"),
        ("lvan", "Ivan"),
        ("Mclntosh", "McIntosh"),
        # a combining mark that composes no letter: a dot above an i shows nothing
        ("Ali\u0307ce", "Alice"),
        # spaces around or doubled
        ("Alice ", "Alice"),
        ("John  Smith", "John Smith"),
        ("Alice\u00a0", "Alice"),
    ],
)
def test_lookalikes_are_found(name: str, looks_like: str) -> None:
    if "1" not in name:  # "Al1ce" matches on its second reading, the 1 as an i
        assert skeleton(name) == skeleton(looks_like)
    assert lookalikes(name, CONTACTS) == [looks_like]
    warning = lookalike_warning(name, CONTACTS)
    assert warning is not None
    assert warning.startswith(f'looks like "{looks_like}"')


@pytest.mark.parametrize(
    "name",
    [
        "Alice",  # the name itself
        "ALICE",  # case is not a disguise
        "alice",
        "Jose",  # accents are letters: a spelling, not a disguise
        "JOSÉ",
        "Alíce",
        "Élise",
        "A l i c e",  # spaced out does not look like Alice
        "Alicia",
        "Lan",  # a capital L is not an I
        "Bobby",
        "Аліса",  # Russian, all Cyrillic, looks like no Latin contact
        "山田さくら",
        "Alice ❤️",
        "Alice ❤️\u200d🔥",
        "Kim 👩🏽\u200d💻",
        "Sam 🏳️\u200d🌈",
        "Alice 2",
        "",
    ],
)
def test_ordinary_names_are_not_lookalikes(name: str) -> None:
    assert lookalikes(name, CONTACTS) == []
    assert lookalike_warning(name, CONTACTS) is None


@pytest.mark.parametrize(
    ("name", "warning"),
    [
        ("Аlice", 'looks like "Alice" (contains a Cyrillic letter)'),
        ("Воb", 'looks like "Bob" (contains 2 Cyrillic letters)'),
        ("ΒοΒ", 'looks like "Bob" (contains 3 Greek letters)'),
        (
            "Alice\u200b",
            'looks like "Alice" (contains invisible characters: U+200B ZERO WIDTH SPACE)',
        ),
        (
            "\u202eecilA",
            'looks like "Alice" (contains invisible characters: U+202E RIGHT-TO-LEFT OVERRIDE)',
        ),
        ("ＡＬＩＣＥ", 'looks like "Alice" (is written in fullwidth characters)'),
        ("B0b", 'looks like "Bob" (uses 0 for a letter)'),
        ("AIice", 'looks like "Alice" (uses I and l for each other)'),
        (
            "Ali\u0307ce",
            'looks like "Alice" (has a combining mark on no letter: U+0307 COMBINING DOT ABOVE)',
        ),
        ("Alice ", 'looks like "Alice" (has extra or unusual spaces)'),
        # suspicious with no contact to pass for
        ("Zoe\u200b", "contains invisible characters (U+200B ZERO WIDTH SPACE)"),
        ("\u200b", "contains invisible characters (U+200B ZERO WIDTH SPACE)"),
        ("Zoe\x1b[2J", "contains invisible characters (U+001B ESCAPE)"),
        ("Zоe", "mixes Latin and Cyrillic letters in one word"),
        ("Mi\u0307a", "has a combining mark on no letter (U+0307 COMBINING DOT ABOVE)"),
        ("Zoe\u0307", None),  # NFC makes it ė, a letter with an accent
    ],
)
def test_warning_says_why(name: str, warning: str | None) -> None:
    assert lookalike_warning(name, CONTACTS) == warning


def test_several_lookalikes_are_all_named() -> None:
    assert lookalikes("Аlice", ["Alice", "Bob", "ALICE", "Alice"]) == ["Alice", "ALICE"]
    assert lookalike_warning("Аlice", ["Alice", "ALICE"]) == (
        'looks like "Alice", "ALICE" (contains a Cyrillic letter)'
    )


def test_the_real_name_is_warned_about_the_impostor_too() -> None:
    assert lookalikes("Alice", ["Аlice", "Bob"]) == ["Аlice"]


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Alice", "alice"),
        ("  Alice   Smith ", "alice smith"),
        ("Аlice", "alice"),
        ("ＡＬＩＣＥ", "alice"),
        ("José", "jose"),
        ("Strauß", "strauss"),
        ("Al\u200bice", "alice"),
        ("\u202eecilA", "alice"),
        ("B0b", "bob"),
        ("AIice", "alice"),
        ("Ian", "ian"),
        ("Аліса", "aлica"),
    ],
)
def test_skeleton(name: str, key: str) -> None:
    assert skeleton(name) == key


@pytest.mark.parametrize(
    ("name", "found"),
    [
        ("Alice", []),
        ("Alice\u200b", ["U+200B ZERO WIDTH SPACE"]),
        ("Al\u200di\u200dce", ["U+200D ZERO WIDTH JOINER"]),
        ("\u202eecilA", ["U+202E RIGHT-TO-LEFT OVERRIDE"]),
        ("Alice\u2066", ["U+2066 LEFT-TO-RIGHT ISOLATE"]),
        ("Ali\u00adce", ["U+00AD SOFT HYPHEN"]),
        ("Alice\x00", ["U+0000 NULL"]),
        ("Alice\x1b", ["U+001B ESCAPE"]),
        ("Alice\U000e0041", ["U+E0041 TAG LATIN CAPITAL LETTER A"]),
        ("Alice\ufe0f", ["U+FE0F VARIATION SELECTOR-16"]),
        ("Alice ❤️", []),  # the selector belongs to the heart
        ("Kim 👩🏽\u200d💻", []),  # the joiner belongs to the emoji
        ("Ana 🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", []),
        ("Alice\u3164", ["U+3164 HANGUL FILLER"]),
    ],
)
def test_invisible_characters(name: str, found: list[str]) -> None:
    assert invisible_characters(name) == found


@pytest.mark.parametrize(
    ("name", "mixed"),
    [
        ("Alice", False),
        ("Аlice", True),
        ("Alice Smith", False),
        ("Аліса", False),
        ("Βοb", True),
        ("Bob 2000!", False),
        ("山田さくら", False),  # Han and kana are written together
        ("Alice 王", True),
        ("Alice ❤️", False),
        ("Alice\u3164", False),  # a filler is not a letter that shows
    ],
)
def test_mixed_scripts(name: str, mixed: bool) -> None:
    assert mixed_scripts(name) is mixed


def test_confusables_block_maps_each_lookalike_to_one_latin_letter() -> None:
    for line in CONFUSABLES.strip().splitlines():
        pairs = line.split(":", 1)[-1].split()
        assert len(pairs) % 2 == 0, line
        for latin in pairs[1::2]:
            assert latin.isascii() and latin.isalpha(), line
