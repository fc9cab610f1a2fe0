from __future__ import annotations

from twin_core.decide.confidence import GATE_CAP, Calibration, combine
from twin_core.decide.safety import check

SAFE = check("how was the game?")


def test_unknown_parts_are_left_out_and_said() -> None:
    only_support = combine(None, 0.9, None, SAFE)
    assert only_support.value == 0.9
    assert "not enough of your history" in only_support.reasons[0]
    assert "style distance unknown" in only_support.reasons


def test_each_part_pulls_the_number_its_way() -> None:
    base = combine(0.9, 0.9, 0.1, SAFE).value
    assert combine(0.3, 0.9, 0.1, SAFE).value < base
    assert combine(0.9, 0.4, 0.1, SAFE).value < base
    assert combine(0.9, 0.9, 0.8, SAFE).value < base
    assert 0.0 <= combine(0.0, 0.0, 1.0, SAFE).value <= base <= 1.0


def test_a_flag_of_the_safety_gate_caps_it_and_says_why() -> None:
    flagged = combine(0.99, 1.0, 0.0, check("what's your IBAN?"))
    assert flagged.value == GATE_CAP
    assert "money or payment details" in flagged.reasons[-1]


def test_the_owners_verdicts_calibrate_the_number() -> None:
    # The owner found drafts below 0.6 bad and above it good, whatever the raw number.
    verdicts = [(0.5, False)] * 5 + [(0.55, False)] * 3 + [(0.7, True)] * 5 + [(0.9, True)] * 3
    calibration = Calibration(verdicts)
    assert calibration.ready
    low = combine(None, 0.55, None, SAFE, calibration=calibration)
    high = combine(None, 0.75, None, SAFE, calibration=calibration)
    assert low.value == 0.0 and high.value == 1.0
    assert "calibrated on your 16 verdicts" in high.reasons[-1]
    assert not Calibration(verdicts[:3]).ready  # too few to mean anything
