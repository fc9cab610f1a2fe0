"""`twin`: the command line. Every command works on the same data folder (`--home`,
`TWIN_HOME`, default `~/.twin`), so a console session can be inspected afterwards."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

from bot.app import Twin, open_memory
from bot.channels.console import ConsoleChannel
from bot.cli_import import import_app
from bot.handlers.control import format_recall
from bot.progress import indexing_bar, optimize_if_large
from twin_core.memory.db import DatabaseError
from twin_core.memory.embed import EmbedderError, make_embedder
from twin_core.memory.index import VectorIndexError
from twin_core.memory.recall import Recall, RecallError
from twin_core.memory.service import Memory
from twin_core.memory.store import Store, UnknownContact
from twin_core.settings import Settings, SettingsError, load_settings

app = typer.Typer(
    help="A personal digital twin that lives in your messaging apps.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@dataclass
class CliState:
    overrides: dict[str, Any] = field(default_factory=dict)

    def settings(self, **more: Any) -> Settings:
        return load_settings(**{**self.overrides, **more})


def _state(ctx: typer.Context) -> CliState:
    state = ctx.find_root().obj
    assert isinstance(state, CliState)
    return state


@app.callback()
def root(
    ctx: typer.Context,
    home: Annotated[
        Path | None, typer.Option(help="Data folder (default: $TWIN_HOME or ~/.twin).")
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log what happens.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    ctx.obj = CliState({"home": home.expanduser()} if home else {})


def _open_memory(settings: Settings) -> Memory:
    return open_memory(settings)


async def _play(
    settings: Settings, lines: list[str] | None, *, json_output: bool, echo: bool, wait: bool
) -> int:
    console = ConsoleChannel(sys.stdout, json_output=json_output)
    async with Twin(settings, [console]) as twin:
        if lines is None:
            bad = await console.feed_stream(sys.stdin)
        else:
            bad = 0
            for number, line in enumerate(lines, start=1):
                if echo and line.strip() and not line.lstrip().startswith("#"):
                    typer.secho(line, bold=True)
                bad += not await console.feed_line(number, line)
        if wait:
            await twin.services.queue.drain(settings.auto_send_max_delay_s)
    return bad


@app.command()
def console(
    ctx: typer.Context,
    script: Annotated[
        Path | None, typer.Option("--script", "-s", help="Read lines from FILE, not stdin.")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="One JSON object per event.")] = False,
    delay: Annotated[
        bool,
        typer.Option(
            help="Wait before auto-replies as the owner would (default: send them at once)."
        ),
    ] = False,
    echo: Annotated[bool, typer.Option(help="Print each input line before its output.")] = False,
) -> None:
    """Talk to the twin on the console: `@NAME text`, `> /command`, `<NAME text`."""
    state = _state(ctx)
    settings = state.settings(**({} if delay else {"auto_send_delay_s": 0.0}))
    lines = None
    if script is not None:
        try:
            lines = script.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise typer.BadParameter(f"cannot read {script}: {exc}") from None
    bad = asyncio.run(_play(settings, lines, json_output=json_output, echo=echo, wait=True))
    if bad:
        typer.secho(f"{bad} line(s) could not be read (see [console] lines above)", err=True)


@app.command()
def demo(
    ctx: typer.Context,
    json_output: Annotated[bool, typer.Option("--json", help="One JSON object per event.")] = False,
) -> None:
    """Load a small bundled history and play a scripted scene on the console."""
    from bot.demo import OWNER_NAME, load_history, scene_lines

    state = _state(ctx)
    base = state.settings()
    home = base.home / "demo"
    # The demo's own folder is reset each time, so its draft numbers are always the same.
    if home.exists():
        shutil.rmtree(home)
    settings = state.settings(home=home, owner_name=OWNER_NAME, auto_send_delay_s=0.0)
    memory = _open_memory(settings)
    loaded = load_history(memory)
    memory.close()
    memory.store.close()
    if not json_output:
        typer.secho(f"twin demo: data folder {home}", fg="cyan")
        typer.secho(
            f"loaded {loaded} messages between {OWNER_NAME} and Alice and Bob; playing the scene",
            fg="cyan",
        )
    asyncio.run(
        _play(settings, scene_lines(), json_output=json_output, echo=not json_output, wait=True)
    )
    if not json_output:
        typer.secho(
            f"done. Look around: twin --home {home} stats --json ; twin --home {home} console",
            fg="cyan",
        )


@app.command()
def stats(
    ctx: typer.Context,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Counts: contacts, conversations, messages, drafts by status, audit entries."""
    store = Store.open(_state(ctx).settings().sqlalchemy_url)
    figures = store.stats()
    store.close()
    if json_output:
        typer.echo(json.dumps(figures))
        return
    drafts = ", ".join(f"{k} {v}" for k, v in figures["drafts"].items() if v) or "none"
    typer.echo(
        f"contacts {figures['contacts']}, conversations {figures['conversations']}, "
        f"messages {figures['messages']}, audit entries {figures['audit_entries']}\n"
        f"drafts: {drafts}"
    )


@app.command()
def recall(
    ctx: typer.Context,
    query: Annotated[list[str], typer.Argument(help="What to look for.")],
    contact: Annotated[
        str | None, typer.Option("--contact", "-c", help="Only moments with this contact.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 5,
) -> None:
    """Print what `/recall QUERY` shows in the control chat."""
    memory = _open_memory(_state(ctx).settings())
    contact_id = memory.store.find_contact(contact).id if contact else None
    text = " ".join(query)
    try:
        hits = memory.recall(text, contact_id=contact_id, limit=limit)
    finally:
        memory.close()
    names: dict[int | None, str] = {c.id: c.name for c in memory.store.contacts()}
    typer.echo(format_recall(text, hits, names))


app.add_typer(import_app, name="import")


@app.command()
def reindex(ctx: typer.Context) -> None:
    """Rebuild recall's vector index from the message store (after changing the embedder,
    or when the index folder was lost)."""
    settings = _state(ctx).settings()
    store = Store.open(settings.sqlalchemy_url)
    embedder = make_embedder(settings.embedder)
    recall = Recall(
        store, None, embedder, owner_name=settings.owner_name, location=settings.index_location
    )
    started = time.perf_counter()
    with indexing_bar("reindexing") as progress:
        indexed = recall.rebuild(progress)
    optimize_if_large(recall, indexed)
    recall.close()
    store.close()
    typer.echo(
        f"indexed {indexed} messages with {embedder.name} into {settings.index_location} "
        f"in {time.perf_counter() - started:.1f} s"
    )


contacts_app = typer.Typer(help="List contacts with their handles, or merge two.")
app.add_typer(contacts_app, name="contacts")


@contacts_app.callback(invoke_without_command=True)
def contacts_list(
    ctx: typer.Context,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every contact with their handles (channel:id) and message count."""
    if ctx.invoked_subcommand is not None:
        return
    store = Store.open(_state(ctx).settings().sqlalchemy_url)
    rows = store.contact_overview()
    store.close()
    if json_output:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    for row in rows:
        handles = ", ".join(row["handles"])
        typer.echo(f"{row['name']:<30} {row['messages']:>7} messages  {handles}")
    if not rows:
        typer.echo("No contacts yet.")


@contacts_app.command("merge")
def contacts_merge(
    ctx: typer.Context,
    keep: Annotated[str, typer.Argument(help="The contact to keep.")],
    other: Annotated[str, typer.Argument(help="The same person under another name.")],
) -> None:
    """Join OTHER into KEEP: one person, one contact, several handles."""
    memory = _open_memory(_state(ctx).settings())
    store = memory.store
    try:
        kept, merged = store.find_contact(keep), store.find_contact(other)
        assert kept.id is not None and merged.id is not None
        if kept.id == merged.id:
            raise typer.BadParameter(f"{kept.name} and {merged.name} are already one contact")
        memory.merge_contacts(merged.id, kept.id)
        store.audit("owner", "merge", kept.name, f"{merged.name} is the same person")
        typer.echo(f"{merged.name} is now part of {kept.name}.")
    finally:
        memory.close()
        store.close()


AVAILABLE_CHANNELS = ("console",)


@app.command()
def run(ctx: typer.Context) -> None:
    """Run the twin on the channels in TWIN_CHANNELS until stopped (Ctrl-D on the console)."""
    settings = _state(ctx).settings()
    unknown = [name for name in settings.channels if name not in AVAILABLE_CHANNELS]
    if unknown:
        raise typer.BadParameter(
            f"TWIN_CHANNELS names {', '.join(unknown)}, not available in this version "
            f"(available: {', '.join(AVAILABLE_CHANNELS)})"
        )
    asyncio.run(_play(settings, None, json_output=False, echo=False, wait=True))


@app.command()
def worker(ctx: typer.Context) -> None:
    """Run an arq worker for the twin's jobs (needs TWIN_REDIS_URL)."""
    from workers.settings import make_worker

    settings = _state(ctx).settings()
    if settings.redis_url is None:
        raise typer.BadParameter("set TWIN_REDIS_URL to run a worker (e.g. redis://localhost:6379)")
    twin = Twin(settings, [])
    make_worker(settings.redis_url.get_secret_value(), twin.job_context()).run()


def main() -> None:
    try:
        app()
    except (
        SettingsError,
        DatabaseError,
        RecallError,
        UnknownContact,
        VectorIndexError,
        EmbedderError,
    ) as exc:
        typer.secho(f"twin: {exc}", fg="red", err=True)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
