"""Job functions. Each is a plain `async def job(ctx, ...)`, a thin shim over a service
the composition root put in the context, so the same function runs in the bot's process
or in an arq worker."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class JobContext:
    """The typed part of a job's context."""

    deliver_draft: Callable[[int], Awaitable[str]]
    """Sends an approved draft; returns what happened ("sent", "held: paused", ...)."""


def twin_context(ctx: Mapping[str, Any]) -> JobContext:
    twin = ctx.get("twin")
    if not isinstance(twin, JobContext):
        raise RuntimeError(
            "the job context has no 'twin' JobContext; start workers with `twin worker`"
        )
    return twin


async def send_draft(ctx: Mapping[str, Any], draft_id: int) -> str:
    """Send an approved draft. Safe to run twice: delivery claims the draft first."""
    return await twin_context(ctx).deliver_draft(draft_id)


JOBS: dict[str, Callable[..., Awaitable[Any]]] = {"send_draft": send_draft}
