"""What the twin holds: `stats`, `recall`, `style`, `reindex`, `audit`."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from rich.console import Console

from bot.app import open_memory, open_store
from bot.cli.common import HomeOption, JsonOption, UserError, echo, emit_json, settings_of
from bot.handlers.actions import OwnerActions, RecallAnswer
from bot.progress import indexing_bar, optimize_if_large, phased_bar
from twin_core.memory.embed import make_embedder
from twin_core.memory.recall import Recall
from twin_core.memory.store.audit import describe
from twin_core.memory.text import shorten
from twin_core.style.calibration import Calibrations


def register(app: typer.Typer) -> None:
    app.command()(stats)
    app.command()(recall)
    app.command()(style)
    app.command()(reindex)
    app.command()(audit)


def stats(ctx: typer.Context, json_output: JsonOption = False, home: HomeOption = None) -> None:
    """Counts: contacts, conversations, messages, drafts by status, audit entries, and
    messages that could not be stored."""
    store = open_store(settings_of(ctx, home))
    try:
        figures = store.stats()
    finally:
        store.close()
    if json_output:
        emit_json(ctx, figures)
        return
    drafts = ", ".join(f"{k} {v}" for k, v in figures["drafts"].items() if v) or "none"
    echo(
        ctx,
        f"contacts {figures['contacts']}, conversations {figures['conversations']}, "
        f"messages {figures['messages']}, audit entries {figures['audit_entries']}\n"
        f"drafts: {drafts}"
        + (
            f"\nnot stored (dead letters): {figures['dead_letters']}"
            if figures["dead_letters"]
            else ""
        ),
    )


def recall(
    ctx: typer.Context,
    query: Annotated[list[str], typer.Argument(help="What to look for.")],
    contact: Annotated[
        str | None, typer.Option("--contact", "-c", help="Only moments with this contact.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 5,
    json_output: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Print what `/recall QUERY` shows in the control chat."""
    settings = settings_of(ctx, home)
    memory = open_memory(settings)
    try:
        if memory.pending():
            # Not indexed yet (an import with --no-index, say): index first, visibly.
            with indexing_bar("indexing for recall first", Console(stderr=True)) as progress:
                memory.index(progress)
        actions = OwnerActions(settings, memory.store, _NoDelivery(), memory)
        outcome = asyncio.run(actions.recall(" ".join(query), contact, limit))
    finally:
        memory.close()
        memory.store.close()
    if json_output:
        emit_json(ctx, outcome.data())
    else:
        echo(ctx, outcome.text)
    if not isinstance(outcome, RecallAnswer):
        raise typer.Exit(1)


def style(
    ctx: typer.Context,
    name: Annotated[list[str], typer.Argument(help="The contact (name, or #ID).")],
    json_output: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Print what `/style NAME` shows: how you write to this contact."""
    settings = settings_of(ctx, home)
    store = open_store(settings)
    try:
        actions = OwnerActions(settings, store, _NoDelivery())
        outcome = asyncio.run(actions.style(" ".join(name)))
    finally:
        store.close()
    if json_output:
        emit_json(ctx, outcome.data())
    else:
        echo(ctx, outcome.text)
    if not outcome.ok:
        raise typer.Exit(1)


class _NoDelivery:
    """Recall sends nothing."""

    async def deliver(self, draft_id: int):  # type: ignore[no-untyped-def]
        raise UserError("this command does not send")

    async def release_held(self):  # type: ignore[no-untyped-def]
        return []


def reindex(ctx: typer.Context, home: HomeOption = None) -> None:
    """Rebuild recall's vector index from the message store (after changing the embedder,
    or when the index folder was lost). Interrupted (Ctrl-C), it resumes where it stopped
    when run again."""
    settings = settings_of(ctx, home)
    store = open_store(settings)
    embedder = make_embedder(settings.embedder)
    index = Recall(
        store, None, embedder, owner_name=settings.owner_name, location=settings.index_location
    )
    started = time.perf_counter()
    console = Console(stderr=True)
    try:
        with indexing_bar("reindexing", console) as progress:
            indexed = index.rebuild(progress)
        optimize_if_large(index, indexed, console)
        # The responder's scores come from the embedder: its confidence is fitted again
        # (the service `refit_calibration` runs, here in the foreground).
        units = {"embedding": "texts", "drafting": "drafts"}
        with phased_bar("calibrating draft confidence", units, console) as phased:
            calibration = Calibrations(store, embedder).refit(phased)
    finally:
        index.close()
        store.close()
    echo(
        ctx,
        f"indexed {indexed} messages with {embedder.name} into {settings.index_location} "
        f"in {time.perf_counter() - started:.1f} s; draft confidence: {calibration.describe()}",
    )


def _day(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        day = datetime.fromisoformat(value)
    except ValueError:
        raise UserError(f"{name} must be a date like 2026-12-01, not {value!r}") from None
    return day if day.tzinfo else day.replace(tzinfo=UTC)


def audit(
    ctx: typer.Context,
    action: Annotated[
        str | None, typer.Option(help="Only this action (drafted, sent, ...).")
    ] = None,
    contact: Annotated[
        str | None, typer.Option("--contact", "-c", help="Only entries about this contact.")
    ] = None,
    since: Annotated[str | None, typer.Option(help="From this day (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option(help="Before the end of this day.")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 50,
    verify: Annotated[
        bool, typer.Option("--verify", help="Check the whole hash chain; exit 1 if broken.")
    ] = False,
    json_output: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """The audit log: what the twin did and was told to do, with why."""
    store = open_store(settings_of(ctx, home))
    try:
        if verify:
            verdict = store.audit.verify()
            if json_output:
                emit_json(
                    ctx,
                    {
                        "entries": verdict.entries,
                        "head": verdict.head,
                        "broken": verdict.broken,
                        "entry_id": verdict.entry_id,
                    },
                )
            elif verdict.broken is None:
                echo(ctx, f"audit log intact: {verdict.entries} entries; last hash {verdict.head}")
            else:
                echo(ctx, f"audit log BROKEN at {verdict.broken}")
            if verdict.broken is not None:
                raise typer.Exit(1)
            return
        end = _day(until, "--until")
        entries = store.audit.entries(
            action=action,
            subject=contact,
            since=_day(since, "--since"),
            until=end + timedelta(days=1) if end and len(until or "") <= 10 else end,
            limit=limit,
        )
    finally:
        store.close()
    if json_output:
        emit_json(ctx, describe(entries))
        return
    for entry in entries:
        echo(
            ctx,
            f"{entry.seq:>6} {entry.at:%Y-%m-%d %H:%M:%S} {entry.actor:<14} {entry.action:<16} "
            f"{shorten(entry.subject, 40):<40} {shorten(entry.why, 80)}",
        )
    if not entries:
        echo(ctx, "No audit entries match.")
