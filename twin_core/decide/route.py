"""route(): send on its own, or ask the owner first."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from twin_core.decide.safety import Verdict
from twin_core.types import PolicyMode


class Route(enum.StrEnum):
    AUTO = "auto"
    APPROVE = "approve"


@dataclass(frozen=True, slots=True)
class Routing:
    route: Route
    why: str


def route(
    policy: PolicyMode,
    confidence: float,
    threshold: float,
    *,
    paused: bool,
    gate: Verdict | None = None,
) -> Routing:
    """Only an `auto` contact, a confident draft the safety gate lets through and a
    running twin skip the owner."""
    if policy is not PolicyMode.AUTO:
        return Routing(Route.APPROVE, f"policy for this contact is {policy.value}: you decide")
    if gate is not None and not gate.safe:
        concerns = ", ".join(c.value for c in gate.concerns)
        return Routing(Route.APPROVE, f"the safety gate flagged it ({concerns}): you decide")
    if paused:
        return Routing(Route.APPROVE, "the twin is paused: nothing goes out on its own")
    if confidence < threshold:
        return Routing(
            Route.APPROVE,
            f"confidence {confidence:.2f} is below the auto threshold {threshold:.2f}",
        )
    return Routing(Route.AUTO, f"auto policy and confidence {confidence:.2f} >= {threshold:.2f}")
