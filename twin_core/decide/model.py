"""Reply or not, learned from the owner: a calibrated classifier over `History`'s samples.

scikit-learn's gradient boosting (no torch) learns from every incoming message
whose outcome is known, the owner's `/teach` verdicts weighing more; probabilities are
calibrated on held-out folds (isotonic with enough data, Platt scaling below that).
Until there is enough history (both outcomes seen often enough) the model says
nothing and the contact's smoothed reply rate stands in, which the reasons say.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from twin_core.decide.history import FEATURES, Sample

if TYPE_CHECKING:  # scikit-learn takes seconds to import: only when a model is trained
    from sklearn.calibration import CalibratedClassifierCV

MIN_SAMPLES = 40
"""Fewer known outcomes than this, or fewer than `MIN_EACH` of either: no model."""
MIN_EACH = 5
TEACH_WEIGHT = 5.0
"""One owner verdict counts as much as this many messages of history."""


@dataclass(frozen=True, slots=True)
class Lesson:
    """An owner's `/teach` verdict: these features should (not) have been answered."""

    features: list[float]
    good: bool


@dataclass(frozen=True, slots=True)
class Estimate:
    probability: float
    learned: bool
    """False when no model was trained yet: the contact's reply rate stands in."""


class ReplyModel:
    def __init__(self, *, seed: int = 0) -> None:
        self.seed = seed
        self._model: CalibratedClassifierCV | None = None
        self.trained_on = 0

    @property
    def ready(self) -> bool:
        return self._model is not None

    def fit(self, samples: Sequence[Sample], lessons: Sequence[Lesson] = ()) -> bool:
        """Train on samples with known outcomes and the owner's lessons; False (and no
        model) when there is too little to learn from."""
        known = [s for s in samples if s.replied is not None]
        rows = [s.features for s in known] + [lesson.features for lesson in lessons]
        labels = [bool(s.replied) for s in known] + [lesson.good for lesson in lessons]
        weights = [1.0] * len(known) + [TEACH_WEIGHT] * len(lessons)
        positives = sum(labels)
        if len(labels) < MIN_SAMPLES or min(positives, len(labels) - positives) < MIN_EACH:
            self._model = None
            self.trained_on = 0
            return False
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.ensemble import GradientBoostingClassifier

        folds = 3
        method = "isotonic" if len(labels) >= 1000 else "sigmoid"
        # Plain (not histogram) boosting: single-threaded, so a busy machine does not
        # stall it, and a one-row prediction takes well under a millisecond.
        base = GradientBoostingClassifier(
            n_estimators=60,
            learning_rate=0.15,
            max_depth=3,
            subsample=0.9,
            random_state=self.seed,
        )
        model = CalibratedClassifierCV(base, method=method, cv=folds)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(
                np.asarray(rows, dtype=float),
                np.asarray(labels, dtype=int),
                sample_weight=np.asarray(weights),
            )
        self._model = model
        self.trained_on = len(labels)
        return True

    def predict(self, features: Sequence[Sequence[float]]) -> np.ndarray:
        """P(the owner answers) for each row; the contact's reply rate without a model."""
        matrix = np.asarray(features, dtype=float).reshape(-1, len(FEATURES))
        if self._model is None:
            return matrix[:, FEATURES.index("contact_reply_rate")]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            probabilities: np.ndarray = self._model.predict_proba(matrix)[:, 1]
        return probabilities

    def estimate(self, features: Sequence[float]) -> Estimate:
        return Estimate(float(self.predict([features])[0]), self.ready)
