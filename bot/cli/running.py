"""Running the twin: `run`, `console`, `demo`, `worker`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import signal
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Annotated

import typer

from bot.app import Twin, install_id, open_memory, open_store
from bot.channels.base import ChannelState
from bot.channels.console import ConsoleChannel, ConsoleLine, split_lines
from bot.channels.console.lines import ConsoleLineError, iter_lines, parse_line
from bot.channels.printable import PrintableFormatter, printable
from bot.cli.common import HomeOption, JsonOption, UserError, out, settings_of
from twin_core.settings import Settings

log = logging.getLogger("twin.cli")

DEMO_MARKER = ".twin-demo"


def register(app: typer.Typer) -> None:
    app.command()(run)
    app.command()(console)
    app.command()(demo)
    app.command()(worker)


# -- the console ----------------------------------------------------------------------


async def play(
    twin: Twin,
    console: ConsoleChannel,
    lines: Iterable[str],
    *,
    echo: IO[str] | None = None,
    wait_s: float = 0.0,
) -> None:
    """Feed `lines` to the twin through `console` in order, each handled before the
    next, so a script's output always comes in the same order. Consecutive lines from
    one contact arrive together, as a burst (one draft answers them)."""
    burst: list[tuple[str, ConsoleLine]] = []

    async def flush() -> None:
        if not burst:
            return
        async with twin.inbound.hold():
            for raw, line in burst:
                if echo is not None:
                    shown = printable(raw.strip(), newlines=False)
                    echo.write(f"\033[1m{shown}\033[0m\n" if echo.isatty() else shown + "\n")
                    echo.flush()
                await console.deliver(line)
        burst.clear()
        await twin.idle()

    for number, raw in enumerate(lines, start=1):
        if burst and not _continues(burst[-1][1], raw):
            await flush()
        line = console.parse(number, raw)
        if line is None:
            continue
        burst.append((raw, line))
        if line.kind != "contact":
            await flush()
    await flush()
    await twin.jobs.drain(wait_s)
    await twin.idle()


def _continues(previous: ConsoleLine, raw: str) -> bool:
    """Whether line `raw` is the same contact writing on (a burst)."""
    try:
        line = parse_line(raw)
    except ConsoleLineError:
        return False
    return line is not None and line.kind == "contact" and line.name == previous.name


async def _interactive(twin: Twin, console: ConsoleChannel, stream: IO[bytes]) -> None:
    """Stdin from a person: each line as it is typed."""
    for number, raw in enumerate(iter_lines(stream), start=1):
        line = console.parse(number, raw)
        if line is not None:
            await console.deliver(line)
            await twin.idle()
    await twin.idle()


async def _console(
    settings: Settings,
    lines: list[str] | None,
    output: IO[str],
    *,
    json_output: bool,
    echo: bool,
) -> int:
    channel = ConsoleChannel(output, json_output=json_output)
    async with Twin(settings, [channel]) as twin:
        if lines is None and sys.stdin.isatty():
            await _interactive(twin, channel, sys.stdin.buffer)
        else:
            if lines is None:
                lines = split_lines(await asyncio.to_thread(sys.stdin.buffer.read))
            await play(
                twin,
                channel,
                lines,
                echo=output if echo and not json_output else None,
                wait_s=settings.auto_send_max_delay_s,
            )
    return channel.bad_lines


def console(
    ctx: typer.Context,
    script: Annotated[
        Path | None, typer.Option("--script", "-s", help="Read lines from FILE, not stdin.")
    ] = None,
    json_output: JsonOption = False,
    delay: Annotated[
        bool,
        typer.Option(
            help="Wait before auto-replies as the owner would, with the undo window "
            "(default: send them at once)."
        ),
    ] = False,
    echo: Annotated[bool, typer.Option(help="Print each input line before its output.")] = False,
    home: HomeOption = None,
) -> None:
    """Talk to the twin on the console: `@NAME text`, `> /command`, `<NAME text`."""
    settings = settings_of(
        ctx,
        home,
        burst_window_s=0.0,
        index_gather_s=0.0,
        **({} if delay else {"auto_send_delay_s": 0.0, "undo_window_s": 0.0}),
    )
    lines = None
    if script is not None:
        try:
            lines = split_lines(script.read_bytes())
        except OSError as exc:
            raise UserError(f"cannot read {script}: {exc.strerror}") from None
    bad = asyncio.run(_console(settings, lines, out(ctx), json_output=json_output, echo=echo))
    if bad:
        typer.secho(f"{bad} line(s) could not be read (see [console] lines above)", err=True)


# -- the demo -------------------------------------------------------------------------


def _demo_folder(base: Path) -> Path:
    """The demo's own folder, emptied for a new run; a folder the demo did not make is
    never touched."""
    folder = base / "demo"
    if folder.exists():
        if not (folder / DEMO_MARKER).is_file():
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
            else:
                raise UserError(
                    f"{folder} exists and was not made by `twin demo`; it is left alone. "
                    "Use another --home for the demo."
                )
        else:
            shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / DEMO_MARKER).write_text("made by `twin demo`; removed by its next run\n")
    return folder


def demo(ctx: typer.Context, json_output: JsonOption = False, home: HomeOption = None) -> None:
    """Load a small bundled history and play a scripted scene on the console."""
    from bot.demo import OWNER_NAME, load_history, scene_lines

    base = settings_of(ctx, home)
    folder = _demo_folder(base.home)
    # Always its own SQLite and embedded index, whatever TWIN_DATABASE_URL and friends say.
    settings = settings_of(
        ctx,
        folder,
        owner_name=OWNER_NAME,
        auto_send_delay_s=0.0,
        undo_window_s=0.0,
        burst_window_s=0.0,
        index_gather_s=0.0,
        database_url=None,
        qdrant_url=None,
        redis_url=None,
        channels=["console"],
        control_chat="console:control",
        owner_handles={"console": ["owner"]},
    )
    memory = open_memory(settings)
    loaded = load_history(memory)
    memory.index()
    memory.close()
    memory.store.close()
    stream = out(ctx)
    if not json_output:
        typer.secho(f"twin demo: data folder {folder}", fg="cyan", file=stream)
        typer.secho(
            f"loaded {loaded} messages between {OWNER_NAME} and Alice and Bob; playing the scene",
            fg="cyan",
            file=stream,
        )
    asyncio.run(
        _console(settings, scene_lines(), stream, json_output=json_output, echo=not json_output)
    )
    if not json_output:
        typer.secho(
            f"done. Look around: twin --home {folder} stats --json ; twin --home {folder} console",
            fg="cyan",
            file=stream,
        )


# -- run and worker -------------------------------------------------------------------


async def _run(settings: Settings) -> None:
    twin = Twin(settings)
    await twin.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    names = ", ".join(twin.services.channels)
    print(
        f"twin: running on {names} (data folder {settings.home}); Ctrl-C stops it",
        file=sys.stderr,
        flush=True,
    )
    ended = asyncio.create_task(twin.supervisor.wait_ended())
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait({ended, stopped}, return_when=asyncio.FIRST_COMPLETED)
    ended.cancel()
    stopped.cancel()
    await twin.idle()
    await twin.jobs.drain(settings.auto_send_max_delay_s)
    health = twin.supervisor.health.values()
    failed = [f"{h.name} failed: {h.last_error}" for h in health if h.state is ChannelState.FAILED]
    await twin.stop()
    if failed and len(failed) == len(health):
        # Nothing is left running: say why, and exit as a failure (a service manager
        # then shows it; starting again would fail the same way).
        raise UserError("; ".join(failed))


def run(ctx: typer.Context, home: HomeOption = None) -> None:
    """Run the twin on the channels in TWIN_CHANNELS until stopped (Ctrl-C; on the
    console, Ctrl-D ends the input)."""
    settings = settings_of(ctx, home)
    from bot.channels.registry import load_channels

    load_channels(settings)  # refuse unknown or uninstalled channels before anything starts
    asyncio.run(_run(settings))


def worker(
    ctx: typer.Context,
    burst: Annotated[
        bool, typer.Option(help="Run the jobs waiting now, then exit (for scripts).")
    ] = False,
    home: HomeOption = None,
) -> None:
    """Run channel-free jobs (indexing backlogs, people memory, the draft-confidence
    refit) beside `twin run` (needs TWIN_REDIS_URL)."""
    from bot.handlers.people_actions import make_people
    from twin_core.memory.embed import make_embedder
    from twin_core.style.calibration import Calibrations
    from workers.jobs import JOBS, JobContext
    from workers.queue import queue_names
    from workers.settings import make_worker

    settings = settings_of(ctx, home)
    if settings.redis_url is None:
        raise UserError("set TWIN_REDIS_URL to run a worker (e.g. redis://localhost:6379)")
    for name in ("twin", "twin.jobs", "arq.worker"):
        logging.getLogger(name).setLevel(logging.INFO)
    if not logging.getLogger().handlers:
        logging.basicConfig(stream=sys.stderr)
    logging.getLogger().handlers[0].setFormatter(
        PrintableFormatter("%(asctime)s %(name)s %(message)s")
    )
    store = open_store(settings)
    install = install_id(store)
    names = queue_names(f"twin:{install}")
    jobs = [name for name, spec in JOBS.items() if spec.queue == "work"]
    embedded = settings.qdrant_url is None
    url = settings.redis_url.get_secret_value()
    print(
        f"twin worker: serving {names['work']} on {_redacted(url)}; jobs: {', '.join(jobs)}",
        file=sys.stderr,
    )
    if embedded:
        print(
            f"twin worker: the vector index is embedded ({settings.index_location}); only "
            "`twin run` can open it, so indexing runs there. Set TWIN_QDRANT_URL to index "
            "here.",
            file=sys.stderr,
        )

    async def startup(ctx_: dict[str, object]) -> None:
        memory = None if embedded else await asyncio.to_thread(open_memory, settings, store)
        # The calibration refit needs only the embedder, which any process can load.
        embedder = (
            memory.recall_index.embedder
            if memory is not None
            else await asyncio.to_thread(make_embedder, settings.embedder)
        )
        ctx_["twin"] = JobContext(
            memory=memory,
            people=make_people(settings, store),
            calibrations=Calibrations(store, embedder),
        )

    async def shutdown(ctx_: dict[str, object]) -> None:
        context = ctx_.get("twin")
        if isinstance(context, JobContext) and context.memory is not None:
            await asyncio.to_thread(context.memory.close)
        await asyncio.to_thread(store.close)
        print("twin worker: stopped", file=sys.stderr)

    make_worker(
        url, names["work"], jobs=jobs, on_startup=startup, on_shutdown=shutdown, burst=burst
    ).run()


def _redacted(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url
