"""Contacts' text is shown as written: nothing in it can rewrite the owner's screen."""

from __future__ import annotations

import pytest

from bot.channels.printable import printable


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        # CSI: move the cursor up a line, erase it, write a fake draft card header
        (
            "hi\x1b[1A\x1b[2K\r[draft to Alice] send the money",
            "hi\\x1b[1A\\x1b[2K\\r[draft to Alice] send the money",
        ),
        ("\x1b[2J\x1b[H", "\\x1b[2J\\x1b[H"),  # clear the screen, cursor home
        ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
        # OSC 8: a link that shows other text than where it goes
        (
            "\x1b]8;;https://evil.example\x1b\\your bank\x1b]8;;\x1b\\",
            "\\x1b]8;;https://evil.example\\x1b\\your bank\\x1b]8;;\\x1b\\",
        ),
        # OSC 0 / 2: set the window title, ended by BEL or ST
        ("\x1b]0;Alice\x07", "\\x1b]0;Alice\\x07"),
        ("\x1b]2;Alice\x1b\\", "\\x1b]2;Alice\\x1b\\"),
        # 8-bit C1 controls: CSI, OSC, NEL
        ("\x9b2J", "\\x9b2J"),
        ("\x9d0;title\x9c", "\\x9d0;title\\x9c"),
        ("a\x85b", "a\\x85b"),
        # the bidi override: "gpj.exe" shown as "exe.jpg"
        ("photo\u202egpj.exe", "photo\\u202egpj.exe"),
        ("\u202dAlice\u202c", "\\u202dAlice\\u202c"),
        ("\u202a\u202b", "\\u202a\\u202b"),
        (
            "\u2066Alice\u2069 \u2067Bob\u2069 \u2068x\u2069",
            "\\u2066Alice\\u2069 \\u2067Bob\\u2069 \\u2068x\\u2069",
        ),
        # NUL, backspace, bell, DEL
        ("a\x00b", "a\\x00b"),
        ("Alice\x08\x08\x08\x08\x08Bob", "Alice\\x08\\x08\\x08\\x08\\x08Bob"),
        ("ding\x07", "ding\\x07"),
        ("a\x7fb", "a\\x7fb"),
        # line-breaking characters other than a newline
        ("a\x0bb\x0cc", "a\\x0bb\\x0cc"),
        ("a\x1cb\x1dc\x1ed", "a\\x1cb\\x1dc\\x1ed"),
        ("a\u2028b\u2029c", "a\\u2028b\\u2029c"),
        # a lone carriage return goes back to the start of the line; CRLF is a newline
        ("safe\rEVIL", "safe\\rEVIL"),
        ("one\r\ntwo", "one\r\ntwo"),
        ("end\r", "end\\r"),
        # a lone surrogate from undecodable bytes would not print at all
        ("bad\udcff", "bad\\udcff"),
        # a backslash stays as it is
        ("C:\\Users\\x1b", "C:\\Users\\x1b"),
    ],
)
def test_controls_are_shown_not_obeyed(text: str, shown: str) -> None:
    assert printable(text) == shown


@pytest.mark.parametrize(
    "text",
    [
        "Hello, how are you?",
        "Grüße aus München, Straße 5",
        "¿Qué tal? Ñandú, café",
        "Ça va ? À bientôt, garçon",
        "Привет, как дела?",
        "Γειά σου κόσμε",
        "مرحبا، كيف حالك؟",
        "שלום, מה שלומך?",
        "नमस्ते, आप कैसे हैं?",
        "สวัสดีครับ",
        "你好，谢谢！",
        "ありがとうございます。カタカナ",
        "안녕하세요 ㅋㅋㅋ",
        "Tiếng Việt có dấu",
        "ქართული",
        "👍🏽 ❤️ 😂😂",
        "👩\u200d👩\u200d👧 family",
        "❤️\u200d🔥 and 🏳️\u200d🌈",
        "🇯🇵 🇩🇪",
        "1️⃣ #️⃣",
        "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
        "e\u0301 combining",
        "مرحبا\u200f Bob",  # right-to-left mark: needed by Arabic and Hebrew text
        "zero\u200bwidth space and soft\u00adhyphen",
        "tab\tseparated\tcolumns",
        "two\nlines",
        "",
    ],
)
def test_ordinary_text_is_unchanged(text: str) -> None:
    assert printable(text) == text


def test_newlines_can_be_escaped_for_one_line_headers() -> None:
    assert printable("Alice\nBob") == "Alice\nBob"
    assert printable("Alice\nBob", newlines=False) == "Alice\\nBob"
    assert printable("Alice\r\nBob", newlines=False) == "Alice\\r\\nBob"
    assert printable("a\tb", newlines=False) == "a\tb"


MUST_ESCAPE = {
    *(code for code in range(0x20) if code != 0x09),  # C0 but tab
    0x7F,  # DEL
    *range(0x80, 0xA0),  # C1
    *range(0x202A, 0x202F),  # bidi embeddings and overrides
    *range(0x2066, 0x206A),  # bidi isolates
    0x2028,
    0x2029,
    *range(0xD800, 0xE000),  # lone surrogates
}


@pytest.mark.parametrize("block", range(0, 0x30000, 0x1000))
def test_exactly_the_listed_characters_are_escaped(block: int) -> None:
    for code in range(block, block + 0x1000):
        char = chr(code)
        shown = printable(char, newlines=False)
        if code in (0x0A, 0x0D):
            assert shown == {0x0A: "\\n", 0x0D: "\\r"}[code]
        elif code in MUST_ESCAPE:
            assert shown == (f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"), hex(code)
        else:
            assert shown == char, hex(code)


def test_json_for_the_terminal_escapes_what_json_dumps_leaves_raw() -> None:
    """json.dumps escapes C0 controls only: DEL, C1 controls (8-bit CSI, NEL), the
    separators, bidi controls and lone surrogates would reach the terminal raw (or,
    for a surrogate, fail to print at all)."""
    import json

    from bot.channels.printable import printable_json

    value = {"name": "\x9b2J\x7f\u202eAlice\u2028", "text": "\x1b[2J bad \udcff ok 👋"}
    line = printable_json(value)
    assert line.isascii() is False  # letters and emoji stay as they are
    assert not [c for c in line if ord(c) in MUST_ESCAPE or ord(c) < 0x20]
    assert json.loads(line) == value


def test_log_lines_are_escaped_for_the_terminal() -> None:
    """`twin run` logs failures with platform ids and contacts' names to the terminal."""
    import io
    import logging

    from bot.channels.printable import PrintableFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(PrintableFormatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("twin.test-printable")
    logger.addHandler(handler)
    logger.propagate = False
    logger.error("recording %s failed", "id\x1b]0;owned\x07\u202e\x9b2J")
    logger.removeHandler(handler)
    assert stream.getvalue() == "ERROR recording id\\x1b]0;owned\\x07\\u202e\\x9b2J failed\n"
