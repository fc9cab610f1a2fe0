"""`twin`: the command line. Every command works on the same data folder (`--home`,
`TWIN_HOME`, default `~/.twin`), so a console session can be inspected afterwards.

Commands are grouped one module per section: `running` (run, console, demo, worker),
`owner` (drafts, approve, reject, why, teach, auto, pause, resume: the same owner actions as the
control chat), `contacts`, `memory` (stats, recall, reindex, audit), `imports`.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import click
import typer

from bot.channels.printable import PrintableFormatter, printable
from bot.cli import channels, contacts, memory, owner, people, running
from bot.cli.common import CliState, UserError
from bot.cli.imports import import_app

app = typer.Typer(
    help="A personal digital twin that lives in your messaging apps.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def root(
    ctx: typer.Context,
    home: Annotated[
        Path | None, typer.Option(help="Data folder (default: $TWIN_HOME or ~/.twin).")
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log what happens.")] = False,
) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(PrintableFormatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, handlers=[handler])
    state = ctx.obj if isinstance(ctx.obj, CliState) else CliState()
    if home is not None:
        state.overrides["home"] = home.expanduser()
    ctx.obj = state


for module in (running, owner, contacts, memory, channels, people):
    module.register(app)
app.add_typer(import_app, name="import")


def error_line(exc: BaseException) -> str | None:
    """The one line a user sees for a failure they can fix; None for a bug."""
    from bot.app import StartError
    from bot.channels.base import ChannelAuthError
    from bot.channels.registry import ChannelUnavailable
    from twin_core.memory.db import DatabaseError
    from twin_core.memory.embed import EmbedderError
    from twin_core.memory.index import VectorIndexError
    from twin_core.memory.recall import RecallError
    from twin_core.memory.store import UnknownContact
    from twin_core.settings import SettingsError

    known = (
        UserError,
        SettingsError,
        DatabaseError,
        RecallError,
        UnknownContact,
        VectorIndexError,
        EmbedderError,
        StartError,
        ChannelUnavailable,
        ChannelAuthError,
    )
    if isinstance(exc, known):
        return str(exc.args[0]) if exc.args else str(exc)
    if isinstance(exc, PermissionError | OSError) and getattr(exc, "filename", None):
        return f"{exc.filename}: {exc.strerror}"
    return None


def main(argv: list[str] | None = None) -> None:
    """The `twin` entry point: runs a command; any failure ends in one line on stderr and
    a non-zero exit. With `--json`, stdout carries JSON only: anything else printed
    (by the twin or a library) goes to stderr."""
    args = list(sys.argv[1:] if argv is None else argv)
    state = CliState()
    real_stdout = sys.stdout
    if "--json" in args:
        state.json_stream = real_stdout
        sys.stdout = sys.stderr
    try:
        # Without standalone mode click returns an `Exit`'s code instead of exiting.
        code = app(args=args, prog_name="twin", obj=state, standalone_mode=False)
        if isinstance(code, int) and code:
            raise SystemExit(code)
    except click.exceptions.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except click.exceptions.Abort:
        print("twin: stopped", file=sys.stderr)
        raise SystemExit(130) from None
    except click.ClickException as exc:
        context = getattr(exc, "ctx", None)
        hint = f" (see {context.command_path} --help)" if isinstance(context, click.Context) else ""

        print(f"twin: {printable(exc.format_message())}{hint}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        print("twin: stopped", file=sys.stderr)
        raise SystemExit(130) from None
    except Exception as exc:
        line = error_line(exc)
        if line is None:
            logging.getLogger("twin").debug("unexpected error", exc_info=exc)
            line = (
                f"unexpected error: {type(exc).__name__}: {exc} "
                "(run with -v for details, and please report it)"
            )
            if logging.getLogger().isEnabledFor(logging.INFO):
                logging.getLogger("twin").exception("unexpected error")
        print(f"twin: {printable(line)}", file=sys.stderr)
        raise SystemExit(2) from None
    finally:
        sys.stdout = real_stdout
