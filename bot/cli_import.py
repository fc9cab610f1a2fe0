"""`twin import whatsapp|telegram|discord|slack|mbox PATH [--me NAME_OR_ID]`.

A typer app the main CLI mounts as `twin import`. The work is done by
`twin_core.memory.importers.run.ImportService`; this module adds the terminal: the
question "which of these is you?", a progress bar with messages per second, and the
summary table.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from twin_core.memory.importers.common import NotThisFormat
from twin_core.memory.importers.run import (
    AskOwner,
    Candidate,
    ExportFormat,
    ImportService,
    ImportSummary,
    OwnerUnknown,
)
from twin_core.memory.store import Store
from twin_core.settings import Settings, load_settings

import_app = typer.Typer(
    help="Import your history from a platform's own export (file, folder or .zip).",
    no_args_is_help=True,
    add_completion=False,
)


class _SettingsSource(Protocol):
    def settings(self, **more: object) -> Settings: ...


def _settings(ctx: typer.Context) -> Settings:
    """The root CLI's settings (its `--home`), or the environment's when run alone."""
    state = ctx.find_root().obj
    if state is not None and callable(getattr(state, "settings", None)):
        source: _SettingsSource = state
        return source.settings()
    return load_settings()


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} msg/s" if speed else "", style="cyan")


def _ask(console: Console) -> AskOwner:
    def ask(candidates: list[Candidate]) -> Candidate | None:
        shown = candidates[:20]
        table = Table(title="Who in this export is you?", title_justify="left")
        table.add_column("#", justify="right")
        table.add_column("name")
        table.add_column("id")
        table.add_column("messages", justify="right")
        for number, candidate in enumerate(shown, 1):
            table.add_row(str(number), candidate.name, candidate.sender_id, str(candidate.messages))
        console.print(table)
        choice: int = typer.prompt(
            f"Your number (1-{len(shown)}, 0 if you are none of them)",
            type=int,
        )
        if choice <= 0 or choice > len(shown):
            return None
        return shown[choice - 1]

    return ask


def _summary_table(summary: ImportSummary) -> Table:
    table = Table()
    table.add_column("")
    table.add_column(summary.format.value, justify="right")
    rows = (
        ("contacts", f"{summary.contacts:,} ({summary.new_contacts:,} new)"),
        ("conversations", f"{summary.conversations:,}"),
        ("messages", f"{summary.read:,}"),
        ("  new", f"{summary.new:,}"),
        ("  already stored", f"{summary.already_stored:,}"),
        ("  yours", f"{summary.from_owner:,} (owner from {summary.owner.source})"),
        ("skipped", f"{summary.problems:,}"),
        ("messages/second", f"{summary.rate:,.0f}"),
    )
    for name, value in rows:
        table.add_row(name, value)
    return table


def _run(
    ctx: typer.Context,
    export_format: ExportFormat,
    path: Path,
    me: list[str] | None,
    tz: str | None,
    json_output: bool,
    index: bool = True,
) -> None:
    console = Console(stderr=json_output)
    zone = None
    if tz:
        try:
            zone = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise typer.BadParameter(f"unknown time zone {tz!r} (e.g. Europe/Berlin)") from None
    settings = _settings(ctx)
    store = Store.open(settings.sqlalchemy_url)
    service = ImportService(
        store, owner_handles=settings.owner_handles, owner_name=settings.owner_name
    )
    progress = Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=json_output,
    )
    task = progress.add_task(f"{export_format.value} {path.name}", total=None)

    def stored(done: int) -> None:
        # The bar appears with the first stored batch: a refused file or the owner
        # question comes first and stays uncluttered.
        if not progress.live.is_started:
            progress.start()
        progress.update(task, completed=done)

    try:
        summary = service.run(
            export_format,
            path,
            me=me or (),
            ask=None if json_output else _ask(console),
            tz=zone,
            on_progress=stored,
        )
        progress.update(task, total=summary.read, completed=summary.read)
    except (NotThisFormat, OwnerUnknown, FileNotFoundError) as error:
        store.close()
        typer.secho(f"twin import {export_format.value}: {error}", fg="red", err=True)
        raise typer.Exit(2) from None
    except click.exceptions.Abort:
        store.close()
        typer.secho(
            "twin import: no answer, nothing imported (say who you are with --me)", err=True
        )
        raise typer.Exit(2) from None
    finally:
        progress.stop()
    try:
        if index and summary.new:
            _index_for_recall(settings, store, console)
    finally:
        store.close()
    if json_output:
        typer.echo(json.dumps(summary.as_dict(), ensure_ascii=False))
        return
    console.print(f"Imported {summary.path}", markup=False, highlight=False, soft_wrap=True)
    console.print(_summary_table(summary))
    if summary.problems:
        console.print(f"[yellow]{summary.problems} line(s) or record(s) skipped or repaired:")
        for problem in summary.problem_list[:10]:
            console.print(f"  {problem}", markup=False, highlight=False)
        if summary.problems > 10:
            console.print(f"  ... and {summary.problems - 10} more (--json lists them)")
    if summary.owner.source == "nobody":
        console.print("[yellow]None of these messages were marked as yours.")


def _index_for_recall(settings: Settings, store: Store, console: Console) -> None:
    """Let recall's index catch up with what was just stored, with its own bar; a
    failure leaves the messages stored and says how to index them later."""
    from bot.app import open_memory
    from bot.progress import indexing_bar, optimize_if_large
    from twin_core.memory.embed import EmbedderError
    from twin_core.memory.index import VectorIndexError

    try:
        with indexing_bar("indexing for recall", console) as progress:
            memory = open_memory(settings, store, progress=progress)
        problem = memory.recall_index.problem
        if problem is None:
            optimize_if_large(memory.recall_index, memory.indexed_on_open, console)
        memory.close()
    except (VectorIndexError, EmbedderError) as error:
        problem = str(error)
    if problem:
        console.print(
            f"[yellow]Stored, but not indexed for recall: {problem}", markup=True, highlight=False
        )


PathArgument = Annotated[
    Path, typer.Argument(help="The export: a file, a folder, or a .zip.", show_default=False)
]
MeOption = Annotated[
    list[str] | None,
    typer.Option(
        "--me",
        help="Your name or id in this export (repeat for several); default: from settings, "
        "else you are asked.",
    ),
]
TzOption = Annotated[
    str | None,
    typer.Option(help="Zone of timestamps written without one (default: this machine's)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")]
IndexOption = Annotated[
    bool,
    typer.Option(
        help="Index the new messages for recall now (else on the next start or `twin reindex`)."
    ),
]


def _register(export_format: ExportFormat, help_text: str) -> None:
    """One `twin import FORMAT` command; every format takes the same options."""

    def command(
        ctx: typer.Context,
        path: PathArgument,
        me: MeOption = None,
        tz: TzOption = None,
        json_output: JsonOption = False,
        index: IndexOption = True,
    ) -> None:
        if tz and export_format is ExportFormat.SLACK:
            raise typer.BadParameter("Slack exports carry their own time zone; drop --tz")
        _run(ctx, export_format, path, me, tz, json_output, index)

    import_app.command(export_format.value, help=help_text)(command)


_register(ExportFormat.WHATSAPP, 'A WhatsApp "Export chat" .txt, or its .zip with media.')
_register(ExportFormat.TELEGRAM, "Telegram Desktop's result.json: one chat, or the whole account.")
_register(
    ExportFormat.DISCORD, "DiscordChatExporter JSON: a channel's file, or a folder or .zip of them."
)
_register(ExportFormat.SLACK, "A Slack workspace export folder or .zip.")
_register(
    ExportFormat.MBOX, "An mbox (Gmail Takeout and others), a .eml, or a folder or .zip of them."
)
