"""The safety gate's corpus (tests/decide/data), written for this project."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).parent / "data"


def _rows(name: str) -> list[list[str]]:
    rows = []
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            rows.append(line.split("\t"))
    return rows


def sensitive() -> list[tuple[str, str, str]]:
    """(language, concern, message): every one must be stopped."""
    return [
        (lang, concern, text.replace("\\n", "\n"))
        for lang, concern, text in _rows("gate_sensitive.tsv")
    ]


def ordinary() -> list[tuple[str, str]]:
    """(language, message): everyday messages that should pass."""
    return [(lang, text) for lang, text in _rows("gate_ordinary.tsv")]
