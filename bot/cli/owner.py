"""The owner's actions from the terminal: the same service the control chat uses
(`bot.handlers.actions`). An approval made here is sent by the running twin (`twin
run`), which holds the connections; with no twin running, at its next start."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated

import typer

from bot.app import install_id, open_memory, open_store
from bot.cli.common import HomeOption, JsonOption, echo, emit_json, settings_of
from bot.handlers.actions import POLICY_WORDS, Outcome, OwnerActions, QueuedDelivery
from twin_core.memory.service import Memory
from twin_core.memory.store import Store
from twin_core.settings import Settings
from twin_core.types import DraftId
from workers.jobs import JobContext
from workers.queue import ArqJobQueue, JobQueue, LocalJobQueue, queue_names

Action = Callable[[OwnerActions], Awaitable[Outcome]]


def register(app: typer.Typer) -> None:
    app.command("drafts")(drafts)
    app.command("approve")(approve)
    app.command("edit")(edit)
    app.command("reject")(reject)
    app.command("why")(why)
    app.command("teach")(teach)
    app.command("auto")(auto)
    app.command("pause")(pause)
    app.command("resume")(resume)


def _queue(settings: Settings, store: Store) -> JobQueue:
    if settings.redis_url is None:
        return LocalJobQueue(store, JobContext())
    names = queue_names(f"twin:{install_id(store)}")
    return ArqJobQueue(settings.redis_url.get_secret_value(), names)


async def _act(settings: Settings, action: Action, *, with_memory: bool) -> Outcome:
    store = await asyncio.to_thread(open_store, settings)
    memory: Memory | None = None
    queue = _queue(settings, store)
    install = await asyncio.to_thread(install_id, store)
    try:
        if with_memory:
            memory = await asyncio.to_thread(open_memory, settings, store)
        await queue.start()

        async def enqueue(draft_id: int) -> bool:
            return await queue.enqueue(
                "send_draft", draft_id, key=f"{install}:send-draft:{draft_id}"
            )

        actions = OwnerActions(settings, store, QueuedDelivery(store, enqueue), memory)
        return await action(actions)
    finally:
        await queue.stop()
        if memory is not None:
            await asyncio.to_thread(memory.close)
        await asyncio.to_thread(store.close)


def act(
    ctx: typer.Context,
    home: Path | None,
    action: Action,
    *,
    json_output: bool,
    with_memory: bool = False,
) -> Outcome:
    """Run one owner action and print its outcome (text, or JSON); exit 1 when it did
    not do what was asked."""
    settings = settings_of(ctx, home)
    outcome = asyncio.run(_act(settings, action, with_memory=with_memory))
    if json_output:
        emit_json(ctx, outcome.data())
    else:
        echo(ctx, outcome.text)
    if not outcome.ok:
        raise typer.Exit(1)
    return outcome


DraftNumber = Annotated[int, typer.Argument(help="The draft's number (see twin drafts).")]


def drafts(ctx: typer.Context, json_output: JsonOption = False, home: HomeOption = None) -> None:
    """Drafts waiting for you, and approved ones held by a pause."""
    act(ctx, home, lambda a: a.drafts(), json_output=json_output)


def approve(
    ctx: typer.Context,
    number: DraftNumber,
    json_output: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Approve draft N: the running twin sends it."""
    act(ctx, home, lambda a: a.approve(DraftId(number)), json_output=json_output)


def edit(
    ctx: typer.Context,
    number: DraftNumber,
    text: Annotated[str, typer.Argument(help="What to send instead.")],
    json_output: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Send your own TEXT instead of draft N."""
    act(ctx, home, lambda a: a.approve(DraftId(number), text), json_output=json_output)


def reject(
    ctx: typer.Context,
    number: DraftNumber,
    json_output: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Drop draft N (also stops an auto-reply still waiting to go out)."""
    act(ctx, home, lambda a: a.reject(DraftId(number)), json_output=json_output)


def why(
    ctx: typer.Context,
    number: DraftNumber,
    json_output: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """The whole reasoning behind draft N."""
    act(ctx, home, lambda a: a.why(DraftId(number)), json_output=json_output)


def teach(
    ctx: typer.Context,
    number: DraftNumber,
    verdict: Annotated[str, typer.Argument(help="good or bad.")],
    json_output: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Your verdict on draft N (good or bad): the twin learns from it."""
    if verdict.lower() not in ("good", "bad"):
        raise typer.BadParameter("VERDICT is good or bad", param_hint="VERDICT")
    act(ctx, home, lambda a: a.teach(DraftId(number), verdict.lower()), json_output=json_output)


def auto(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The contact's exact name, or #ID.")],
    mode: Annotated[str, typer.Argument(help="on (auto), off, or draft.")],
    threshold: Annotated[
        float | None,
        typer.Argument(help="NAME's own confidence (0-1) to send alone.", min=0.0, max=1.0),
    ] = None,
    json_output: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """What the twin does for NAME: on (confident replies go out alone), off, draft."""
    chosen = POLICY_WORDS.get(mode.lower())
    if chosen is None:
        raise typer.BadParameter("MODE is on, off or draft", param_hint="MODE")
    act(
        ctx,
        home,
        lambda a: a.set_policy(name, chosen, threshold=threshold),
        json_output=json_output,
    )


def pause(ctx: typer.Context, json_output: JsonOption = False, home: HomeOption = None) -> None:
    """Nothing goes out until `twin resume` (or /resume)."""
    act(ctx, home, lambda a: a.pause(), json_output=json_output)


def resume(ctx: typer.Context, json_output: JsonOption = False, home: HomeOption = None) -> None:
    """Send again; approved drafts the pause held go out through the running twin."""
    act(ctx, home, lambda a: a.resume(), json_output=json_output)
