"""One number per draft: how sure the twin is that the owner would send it, with the
reasons in words.

Four things go in: the reply-or-not probability (would the owner answer at all), the
recall support (how closely the draft rests on a situation the owner already answered;
the composer's own score), the style distance (how far the draft is from the owner's
way of writing to this person; None while unknown) and the safety gate. The first
three combine as a weighted geometric mean, so one weak part pulls the whole down (a
part that is unknown, no model trained yet or no style distance, is left out and the
reasons say so); a
gate flag caps the number at `GATE_CAP` (and the route never auto-sends it). Once the
owner has judged enough drafts with `/teach`, their verdicts calibrate the number
(isotonic regression from the raw number to the share judged good).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from twin_core.decide.safety import Verdict

if TYPE_CHECKING:  # scikit-learn takes seconds to import: only when a model is fitted
    from sklearn.isotonic import IsotonicRegression

WEIGHTS = {"reply": 0.3, "support": 0.5, "style": 0.2}
GATE_CAP = 0.3
MIN_VERDICTS = 8
"""Verdicts needed (at least two of each) before they calibrate the number."""


@dataclass(frozen=True, slots=True)
class Confidence:
    value: float
    raw: float
    parts: dict[str, float | None]
    reasons: list[str] = field(default_factory=list)


class Calibration:
    """The owner's verdicts on past drafts, mapping a raw confidence to P(good)."""

    def __init__(self, verdicts: Sequence[tuple[float, bool]] = ()) -> None:
        self.count = len(verdicts)
        good = sum(v for _, v in verdicts)
        self._model: IsotonicRegression | None = None
        if self.count >= MIN_VERDICTS and min(good, self.count - good) >= 2:
            from sklearn.isotonic import IsotonicRegression

            model = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.fit(
                    np.asarray([c for c, _ in verdicts], dtype=float),
                    np.asarray([float(v) for _, v in verdicts]),
                )
            self._model = model

    @property
    def ready(self) -> bool:
        return self._model is not None

    def __call__(self, raw: float) -> float:
        if self._model is None:
            return raw
        return float(self._model.predict(np.asarray([raw], dtype=float))[0])


def combine(
    reply_probability: float | None,
    recall_support: float,
    style_distance: float | None,
    gate: Verdict,
    *,
    calibration: Calibration | None = None,
) -> Confidence:
    """The draft's confidence in [0, 1] and its reasons."""
    reasons: list[str] = []
    parts: dict[str, float | None] = {
        "reply": reply_probability,
        "support": recall_support,
        "style": None if style_distance is None else 1.0 - style_distance,
    }
    used = {"support": recall_support}
    if reply_probability is None:
        reasons.append("not enough of your history yet to learn when you answer")
    else:
        used["reply"] = reply_probability
        reasons.append(
            f"you would answer a message like this: {_percent(reply_probability)} likely"
        )
    reasons.append(f"support from your past replies: {recall_support:.2f}")
    if style_distance is None:
        reasons.append("style distance unknown")
    else:
        used["style"] = 1.0 - style_distance
        reasons.append(f"style distance from how you write to them: {style_distance:.2f}")
    total = sum(WEIGHTS[k] for k in used)
    raw = math.exp(
        sum(WEIGHTS[k] * math.log(max(min(v, 1.0), 1e-6)) for k, v in used.items()) / total
    )
    value = raw
    if calibration is not None and calibration.ready:
        value = calibration(raw)
        reasons.append(f"calibrated on your {calibration.count} verdicts: {raw:.2f} -> {value:.2f}")
    if not gate.safe:
        value = min(value, GATE_CAP)
        reasons.append(gate.describe() + ": never sent without you")
    return Confidence(round(min(max(value, 0.0), 1.0), 2), round(raw, 4), parts, reasons)


def _percent(p: float) -> str:
    return f"{p * 100:.0f}%"
