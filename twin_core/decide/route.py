"""route(): send on its own, or ask the owner first."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from twin_core.types import PolicyMode


class Route(enum.StrEnum):
    AUTO = "auto"
    APPROVE = "approve"


@dataclass(frozen=True, slots=True)
class Routing:
    route: Route
    why: str


def route(policy: PolicyMode, confidence: float, threshold: float, *, paused: bool) -> Routing:
    """Only an `auto` contact, a confident draft and a running twin skip the owner."""
    if policy is not PolicyMode.AUTO:
        return Routing(Route.APPROVE, f"policy for this contact is {policy.value}: you decide")
    if paused:
        return Routing(Route.APPROVE, "the twin is paused: nothing goes out on its own")
    if confidence < threshold:
        return Routing(
            Route.APPROVE,
            f"confidence {confidence:.2f} is below the auto threshold {threshold:.2f}",
        )
    return Routing(Route.AUTO, f"auto policy and confidence {confidence:.2f} >= {threshold:.2f}")
