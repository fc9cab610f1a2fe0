from __future__ import annotations

import pytest

from twin_core.memory.personal import is_shareable, personal_details


@pytest.mark.parametrize(
    "text", ["sounds good!", "haha yes", "no worries, see you soon", "ok I will", "thanks!!"]
)
def test_ordinary_words_hold_nothing_personal(text: str) -> None:
    assert personal_details(text) == []


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("yes! 7pm", "number"),
        ("call me on 0151 2345", "number"),
        ("see https://example.org/x", "link"),
        ("write to sam@example.org", "address"),
        ("see you at Luigi's", "names someone or somewhere"),
        ("ask alice about it", "names Alice Smith"),
    ],
)
def test_personal_details_are_found(text: str, why: str) -> None:
    assert any(why in reason for reason in personal_details(text, ["Alice Smith"]))


def test_shareable_needs_several_people_and_nothing_personal() -> None:
    assert is_shareable("sounds good!", contacts_told=2)
    assert not is_shareable("sounds good!", contacts_told=1)
    assert not is_shareable("see you at 7", contacts_told=5)
