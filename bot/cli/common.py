"""What every `twin` command shares: the data folder option, settings, JSON output, and
one error style (`twin: <what is wrong>` on stderr, exit status 2)."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Annotated, Any

import typer

from bot.channels.printable import printable, printable_json
from twin_core.settings import Settings, load_settings, prepare_home


class UserError(RuntimeError):
    """Something the user can fix; shown as one line, exit status 2."""


@dataclass
class CliState:
    overrides: dict[str, Any] = field(default_factory=dict)
    json_stream: IO[str] | None = None
    """The real stdout when `--json` is given: everything else printed goes to stderr."""

    def settings(self, **more: Any) -> Settings:
        settings = load_settings(**{**self.overrides, **more})
        prepare_home(settings.home)
        return settings


HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home",
        help="Data folder (default: $TWIN_HOME or ~/.twin); before or after the command.",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON only, on stdout.")]


def state_of(ctx: typer.Context) -> CliState:
    state = ctx.find_root().obj
    if not isinstance(state, CliState):
        state = ctx.find_root().obj = CliState()
    return state


def settings_of(ctx: typer.Context, home: Path | None = None, **more: Any) -> Settings:
    """Settings for this command: `--home` given after the command wins over one before."""
    state = state_of(ctx)
    if home is not None:
        state.overrides["home"] = home.expanduser()
    return state.settings(**more)


def out(ctx: typer.Context) -> IO[str]:
    """Where a command's own output goes (the real stdout, also under `--json`)."""
    return state_of(ctx).json_stream or sys.stdout


def emit_json(ctx: typer.Context, value: Any) -> None:
    """One line of JSON; the characters a terminal would obey are escaped in it."""
    stream = out(ctx)
    stream.write(printable_json(value) + "\n")
    stream.flush()


def echo(ctx: typer.Context, text: str) -> None:
    """A line for the owner's terminal. Contacts' names and texts are in it (drafts,
    contacts, audit, recall), so nothing in it may move the cursor, set the title or
    turn the line around: it is written as `printable` shows it."""
    stream = out(ctx)
    stream.write(printable(text) + "\n")
    stream.flush()
