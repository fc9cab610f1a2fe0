"""`twin import whatsapp|telegram|discord|slack|mbox PATH [--me NAME_OR_ID]`.

A typer app the main CLI mounts as `twin import`. The work is done by
`twin_core.memory.importers.run.ImportService`; this module adds the terminal: the
question "which of these is you?", a progress bar with messages per second, and the
summary table.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated
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

from bot.app import install_id, open_memory, open_store
from bot.channels.printable import printable, printable_json
from bot.cli.common import CliState, UserError
from bot.progress import indexing_bar, optimize_if_large
from twin_core.memory.embed import EmbedderError
from twin_core.memory.importers.common import NotThisFormat
from twin_core.memory.importers.run import (
    AskOwner,
    Candidate,
    ExportFormat,
    ImportService,
    ImportSummary,
    OwnerUnknown,
)
from twin_core.memory.index import IndexBusyError, VectorIndexError
from twin_core.memory.store import Store
from twin_core.settings import Settings, load_settings, prepare_home

import_app = typer.Typer(
    help="Import your history from a platform's own export (file, folder or .zip).",
    no_args_is_help=True,
    add_completion=False,
)


def _settings(ctx: typer.Context, home: Path | None) -> Settings:
    """The root CLI's settings (its `--home`, or this command's), or the environment's
    when run alone."""
    state = ctx.find_root().obj
    if isinstance(state, CliState):
        if home is not None:
            state.overrides["home"] = home.expanduser()
        return state.settings()
    settings = load_settings(None, **({"home": home.expanduser()} if home else {}))
    prepare_home(settings.home)
    return settings


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
        ("bots", f"{summary.bots:,} (kept as notices, not contacts)"),
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
    home: Path | None = None,
    from_start: bool = False,
) -> None:
    console = Console(stderr=True) if json_output else Console()
    zone = None
    if tz:
        try:
            zone = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise UserError(f"unknown time zone {tz!r} (e.g. Europe/Berlin)") from None
    settings = _settings(ctx, home)
    store = open_store(settings)
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
    description = f"{export_format.value} {path.name}"
    task = progress.add_task(description, total=None)

    def stored(done: int) -> None:
        # The bar appears with the first stored batch: a refused file or the owner
        # question comes first and stays uncluttered.
        if not progress.live.is_started:
            progress.start()
        progress.update(task, completed=done)

    def resumed(done: int) -> None:
        # What an earlier run stored shows as done, and the bar says where it went on.
        stored(done)
        progress.update(task, description=f"{description} (resumed at {done:,})")

    try:
        summary = service.run(
            export_format,
            path,
            me=me or (),
            ask=None if json_output else _ask(console),
            tz=zone,
            on_progress=stored,
            on_resume=resumed,
            from_start=from_start,
        )
        progress.update(task, total=summary.read, completed=summary.read)
    except (NotThisFormat, OwnerUnknown, FileNotFoundError) as error:
        store.close()
        raise UserError(f"import {export_format.value}: {error}") from None
    except OSError as error:
        # A folder where a file was expected, a file it may not read: one line, no trace.
        store.close()
        reason = error.strerror or type(error).__name__
        raise UserError(f"import {export_format.value}: {path}: {reason}") from None
    except click.exceptions.Abort:
        store.close()
        raise UserError("import: no answer, nothing imported (say who you are with --me)") from None
    finally:
        if progress.live.is_started:
            progress.stop()
    if summary.unchanged and not json_output:
        store.close()
        console.print(
            f"{summary.path}: already imported: {summary.read:,} messages; nothing new",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        return
    try:
        if summary.new:
            if index:
                _index_for_recall(settings, store, console)
            else:
                _queue_indexing(settings, store, console)
    finally:
        store.close()
    if json_output:
        state = ctx.find_root().obj
        stream = state.json_stream if isinstance(state, CliState) and state.json_stream else None
        typer.echo(printable_json(summary.as_dict()), file=stream)
        return
    resumed_note = f" (resumed at {summary.resumed_at:,})" if summary.resumed_at else ""
    console.print(
        f"Imported {summary.path}{resumed_note}", markup=False, highlight=False, soft_wrap=True
    )
    console.print(_summary_table(summary))
    if summary.problems:
        console.print(f"[yellow]{summary.problems} line(s) or record(s) skipped or repaired:")
        for problem in summary.problem_list[:10]:
            console.print(f"  {printable(str(problem))}", markup=False, highlight=False)
        if summary.problems > 10:
            console.print(f"  ... and {summary.problems - 10} more (--json lists them)")
    if summary.owner.source == "nobody":
        console.print("[yellow]None of these messages were marked as yours.")


def _index_for_recall(settings: Settings, store: Store, console: Console) -> None:
    """Let recall's index catch up with what was just stored, with its own bar. When the
    twin is running (its index is open there), the running twin is asked to do it; a
    failure leaves the messages stored and says how to index them later."""
    problem = None
    try:
        memory = open_memory(settings, store)
        problem = memory.recall_index.problem
        if problem is None:
            with indexing_bar("indexing for recall", console) as progress:
                indexed = memory.index(progress)
            optimize_if_large(memory.recall_index, indexed, console)
            problem = memory.recall_index.problem
        memory.close()
    except IndexBusyError:
        _queue_indexing(settings, store, console)
        return
    except (VectorIndexError, EmbedderError) as error:
        problem = str(error)
    if problem:
        console.print(
            f"[yellow]Stored, but not indexed for recall: {problem}", markup=True, highlight=False
        )


def _queue_indexing(settings: Settings, store: Store, console: Console) -> None:
    """Ask the running twin (or the next `twin run`) to index what was imported: the
    `index_backlog` job, which reports its progress in the twin's log and /status."""
    from workers.jobs import JobContext
    from workers.queue import ArqJobQueue, JobQueue, LocalJobQueue, queue_names

    install = install_id(store)
    queue: JobQueue
    if settings.redis_url is None:
        queue = LocalJobQueue(store, JobContext())
    else:
        queue = ArqJobQueue(settings.redis_url.get_secret_value(), queue_names(f"twin:{install}"))

    async def enqueue() -> None:
        await queue.start()
        try:
            await queue.enqueue(
                "extract_people",
                key=f"{install}:extract-people:{store.messages.highest_id()}",
                queue="work",
            )
            await queue.enqueue(
                "index_backlog",
                key=f"{install}:index-backlog:{store.messages.highest_id()}",
                queue="bot" if settings.qdrant_url is None else "work",
            )
        finally:
            await queue.stop()

    asyncio.run(enqueue())
    console.print(
        "Stored. Indexing for recall is queued: the running twin does it (see /status), "
        "or the next `twin run` or `twin recall`. So is reading for people memory "
        "(facts, promises): the running twin, or the next `twin run`.",
        highlight=False,
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
HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home", help="Data folder (default: $TWIN_HOME or ~/.twin).", show_default=False
    ),
]
FromStartOption = Annotated[
    bool,
    typer.Option(
        "--from-start",
        help="Read the whole export again, as if never imported (what is stored stays, once).",
    ),
]
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
        home: HomeOption = None,
        from_start: FromStartOption = False,
    ) -> None:
        if tz and export_format is ExportFormat.SLACK:
            raise UserError("Slack exports carry their own time zone; drop --tz")
        _run(ctx, export_format, path, me, tz, json_output, index, home, from_start)

    import_app.command(export_format.value, help=help_text)(command)


_register(
    ExportFormat.WHATSAPP,
    'A WhatsApp "Export chat" .txt, its .zip with media, or the folder that zip unzips to.',
)
_register(ExportFormat.TELEGRAM, "Telegram Desktop's result.json: one chat, or the whole account.")
_register(
    ExportFormat.DISCORD, "DiscordChatExporter JSON: a channel's file, or a folder or .zip of them."
)
_register(ExportFormat.SLACK, "A Slack workspace export folder or .zip.")
_register(
    ExportFormat.MBOX, "An mbox (Gmail Takeout and others), a .eml, or a folder or .zip of them."
)
